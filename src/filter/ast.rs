//! The condition syntax tree: boolean nodes, comparisons, field references,
//! values and lists, each carrying the span of source text it came from.

use std::fmt;

/// Identifies one piece of condition text (a rule's condition, a macro's, an
/// exception clause). Rule loading maps ids to files and positions.
pub type SourceId = u32;

/// A byte range inside one condition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Which condition text the offsets refer to.
    pub source: SourceId,
    /// First byte, inclusive.
    pub start: u32,
    /// Last byte, exclusive.
    pub end: u32,
}

impl Span {
    /// A span over `start..end` of `source`.
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering `self` and `other` (same source assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A boolean expression node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// All children hold (two or more).
    And(Vec<Expr>),
    /// At least one child holds (two or more).
    Or(Vec<Expr>),
    /// The child does not hold.
    Not(Box<Expr>),
    /// A bare identifier: a macro reference, resolved at rule loading.
    Macro(String),
    /// `operand exists`.
    Exists(Operand),
    /// `operand OP value`.
    Compare {
        /// Left-hand side: a field, possibly wrapped in transformers.
        lhs: Operand,
        /// The comparison operator.
        op: CmpOp,
        /// Right-hand side.
        rhs: Rhs,
    },
}

/// A field reference such as `proc.aname[2]` or `evt.arg.path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// The name as written, without a bracketed argument (`evt.arg.path`).
    pub name: String,
    /// The bracketed argument, if any (`2` for `proc.aname[2]`).
    pub arg: Option<String>,
    /// Where it was written.
    pub span: Span,
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            Some(a) => write!(f, "{}[{}]", self.name, a),
            None => f.write_str(&self.name),
        }
    }
}

/// Something that yields a value from an event: a field or a transformer applied
/// to an operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A plain field.
    Field(FieldRef),
    /// `func(operand)`.
    Transform {
        /// The transformer.
        func: Transformer,
        /// Its argument.
        arg: Box<Operand>,
        /// Where the whole call was written.
        span: Span,
    },
}

impl Operand {
    /// Where the operand was written.
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform { span, .. } => *span,
        }
    }

    /// The field at the core of the operand.
    pub fn field(&self) -> &FieldRef {
        match self {
            Operand::Field(f) => f,
            Operand::Transform { arg, .. } => arg.field(),
        }
    }
}

/// Value transformers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// `tolower(x)`.
    ToLower,
    /// `toupper(x)`.
    ToUpper,
    /// `b64(x)`: base64-decode.
    B64,
    /// `basename(x)`.
    Basename,
    /// `len(x)`.
    Len,
}

impl Transformer {
    /// The transformer called `name`, if any.
    pub fn from_name(name: &str) -> Option<Transformer> {
        Some(match name {
            "tolower" => Transformer::ToLower,
            "toupper" => Transformer::ToUpper,
            "b64" => Transformer::B64,
            "basename" => Transformer::Basename,
            "len" => Transformer::Len,
            _ => return None,
        })
    }

    /// The name as written in conditions.
    pub fn name(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A single value (quoted string, number or bare word).
    Value(Value),
    /// A parenthesised list.
    List(Vec<Value>, Span),
    /// `val(operand)`: another field's value of the same event.
    Field(Operand),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The text after unquoting and unescaping.
    pub text: String,
    /// Whether it was written in quotes (a quoted value is never a list name).
    pub quoted: bool,
    /// Where it was written.
    pub span: Span,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=` or `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `contains`.
    Contains,
    /// `icontains`.
    IContains,
    /// `bcontains`: binary substring, value in hex.
    BContains,
    /// `startswith`.
    StartsWith,
    /// `bstartswith`: binary prefix, value in hex.
    BStartsWith,
    /// `endswith`.
    EndsWith,
    /// `glob`.
    Glob,
    /// `iglob`.
    IGlob,
    /// `regex`.
    Regex,
    /// `in`.
    In,
    /// `intersects`.
    Intersects,
    /// `pmatch`: path prefix match against a list.
    PMatch,
}

impl CmpOp {
    /// Every operator, for lookups and listings.
    pub const ALL: [CmpOp; 18] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Contains,
        CmpOp::IContains,
        CmpOp::BContains,
        CmpOp::StartsWith,
        CmpOp::BStartsWith,
        CmpOp::EndsWith,
        CmpOp::Glob,
        CmpOp::IGlob,
        CmpOp::Regex,
        CmpOp::In,
        CmpOp::Intersects,
        CmpOp::PMatch,
    ];

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::IContains => "icontains",
            CmpOp::BContains => "bcontains",
            CmpOp::StartsWith => "startswith",
            CmpOp::BStartsWith => "bstartswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::Glob => "glob",
            CmpOp::IGlob => "iglob",
            CmpOp::Regex => "regex",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
            CmpOp::PMatch => "pmatch",
        }
    }

    /// The operator spelled `s` (`==` is accepted for `=`).
    pub fn from_str_op(s: &str) -> Option<CmpOp> {
        if s == "==" {
            return Some(CmpOp::Eq);
        }
        CmpOp::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// Whether the operator takes a list on its right-hand side.
    pub fn takes_list(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }

    /// Whether the operator is a word (as opposed to a symbol).
    pub fn is_word(self) -> bool {
        self.as_str().as_bytes()[0].is_ascii_alphabetic()
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Expr {
    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(|e| e.walk(f)),
            ExprKind::Not(e) => e.walk(f),
            _ => {}
        }
    }
}
