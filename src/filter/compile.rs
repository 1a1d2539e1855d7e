//! Compiles an expanded condition into an evaluator program: every field
//! resolved once to a [`Binding`] in a shared field table, every operator to
//! a typed test, every constant parsed (numbers, sets, networks, compiled
//! regexes, globs). Errors carry the span of what they concern.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;
use std::fmt;

use regex::Regex;

use super::ast::{CmpOp, Expr, ExprKind, FieldRef, Operand, Rhs, Span, Transformer, Value};
use super::bind::{parse_bool, parse_int, Binding, IpNet};
use super::catalog::{FieldType, LookupError};

/// Index of a field in a [`FieldTable`].
pub type FieldId = u32;

/// A compile error with the span it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, within the condition text.
    pub span: Span,
}

/// The kinds of compile error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The field does not resolve.
    Field(String, LookupError),
    /// A value does not parse as the field's type.
    BadValue {
        /// The field.
        field: String,
        /// Its type's name.
        ty: &'static str,
        /// The value.
        value: String,
    },
    /// A regular expression does not compile.
    BadRegex(String),
    /// A `bcontains`/`bstartswith` value that is not hex.
    BadHex(String),
    /// An operator that takes a list was given a single value, or the reverse.
    BadOperand(CmpOp),
    /// A macro reference survived expansion.
    UnresolvedMacro(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Field(n, e) => write!(f, "{e}: '{n}'"),
            ErrorKind::BadValue { field, ty, value } => {
                write!(f, "value '{value}' is not a valid {ty} for field '{field}'")
            }
            ErrorKind::BadRegex(e) => write!(f, "invalid regular expression: {e}"),
            ErrorKind::BadHex(v) => write!(f, "'{v}' is not a hex string"),
            ErrorKind::BadOperand(op) => write!(f, "operator '{op}' does not take this operand"),
            ErrorKind::UnresolvedMacro(m) => write!(f, "undefined macro '{m}'"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span.start + 1, self.kind)
    }
}

impl std::error::Error for Error {}

/// The fields programs use, each resolved once; shared by every program of
/// a rule set so each field is extracted at most once per event.
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    fields: Vec<Binding>,
    index: HashMap<(String, String), FieldId>,
}

impl FieldTable {
    /// The id of the field `name[arg]`, adding it when new.
    pub fn intern(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, LookupError> {
        let b = Binding::resolve_name(name, arg)?;
        let key = (b.info.name.to_string(), b.arg.clone());
        if let Some(id) = self.index.get(&key) {
            return Ok(*id);
        }
        let id = self.fields.len() as FieldId;
        self.fields.push(b);
        self.index.insert(key, id);
        Ok(id)
    }

    /// Every field, by id.
    pub fn fields(&self) -> &[Binding] {
        &self.fields
    }

    /// The field `id`.
    pub fn get(&self, id: FieldId) -> &Binding {
        &self.fields[id as usize]
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// A value source: a field and the transformers applied to it, innermost
/// first.
#[derive(Debug, Clone)]
pub struct Source {
    /// The field.
    pub field: FieldId,
    /// Transformers, applied in order.
    pub transforms: Vec<Transformer>,
    /// The type of the resulting value.
    pub ty: FieldType,
    /// The field has several values per event and no transformer applies:
    /// comparisons test its values (see [`crate::filter::fields::Multi`]).
    pub multi: bool,
}

/// Numeric and ordering comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ord6 {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less.
    Lt,
    /// Less or equal.
    Le,
    /// Greater.
    Gt,
    /// Greater or equal.
    Ge,
}

impl Ord6 {
    fn of(op: CmpOp) -> Option<Ord6> {
        Some(match op {
            CmpOp::Eq => Ord6::Eq,
            CmpOp::Ne => Ord6::Ne,
            CmpOp::Lt => Ord6::Lt,
            CmpOp::Le => Ord6::Le,
            CmpOp::Gt => Ord6::Gt,
            CmpOp::Ge => Ord6::Ge,
            _ => return None,
        })
    }

    /// Applies the comparison to an ordering of lhs against rhs.
    pub fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Ord6::Eq => o == Equal,
            Ord6::Ne => o != Equal,
            Ord6::Lt => o == Less,
            Ord6::Le => o != Greater,
            Ord6::Gt => o == Greater,
            Ord6::Ge => o != Less,
        }
    }
}

/// A test applied to a source's value.
#[derive(Debug, Clone)]
pub enum Test {
    /// Integer comparison.
    Int(Ord6, i128),
    /// Floating point comparison.
    Float(Ord6, f64),
    /// Boolean equality (`true` for `=`, false for `!=`).
    Bool(bool, bool),
    /// Text comparison (byte order).
    Str(Ord6, Box<str>),
    /// Substring.
    Contains(Box<str>),
    /// ASCII case-insensitive substring (pattern lowercased).
    IContains(Box<str>),
    /// Prefix.
    StartsWith(Box<str>),
    /// Suffix.
    EndsWith(Box<str>),
    /// Binary substring.
    BContains(Box<[u8]>),
    /// Binary prefix.
    BStartsWith(Box<[u8]>),
    /// fnmatch-style glob; the flag is case-insensitivity.
    Glob(Box<str>, bool),
    /// Full-match regular expression.
    Regex(Regex),
    /// Membership in a set of strings.
    InStr(Arc<HashSet<Box<str>>>),
    /// Membership in a set of integers.
    InInt(Arc<HashSet<i128>>),
    /// Membership in any of a list of networks (addresses are host networks).
    InNet(Vec<IpNet>),
    /// Address equality or network containment; the flag negates.
    Net(IpNet, bool),
    /// Path prefix match, prefixes without trailing slashes, sorted.
    PMatch(Arc<[Box<str>]>),
    /// Comparison with another field of the same event.
    Field(CmpOp, Source),
}

/// A compiled boolean expression.
#[derive(Debug, Clone)]
pub enum Node {
    /// All hold (short-circuit).
    And(Vec<Node>),
    /// One holds (short-circuit).
    Or(Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// The source has a value.
    Exists(Source),
    /// A comparison; false when the source has no value.
    Cmp(Source, Test),
    /// A subexpression shared by several programs tested on the same event
    /// (see [`super::share`]): evaluated once per event, its result kept
    /// in the numbered slot.
    Memo(u32, Box<Node>),
}

impl Node {
    /// Calls `f` with every field the node reads.
    pub fn for_each_field(&self, f: &mut impl FnMut(FieldId)) {
        match self {
            Node::And(v) | Node::Or(v) => v.iter().for_each(|n| n.for_each_field(f)),
            Node::Not(n) | Node::Memo(_, n) => n.for_each_field(f),
            Node::Exists(s) => f(s.field),
            Node::Cmp(s, t) => {
                f(s.field);
                if let Test::Field(_, r) = t {
                    f(r.field);
                }
            }
        }
    }
}

/// Compiles `expr`, adding its fields to `table`; every error is collected.
pub fn compile(expr: &Expr, table: &mut FieldTable) -> Result<Node, Vec<Error>> {
    let mut errors = Vec::new();
    let node = node(expr, table, &mut errors);
    match node {
        Some(n) if errors.is_empty() => Ok(n),
        _ => Err(errors),
    }
}

fn node(e: &Expr, t: &mut FieldTable, errs: &mut Vec<Error>) -> Option<Node> {
    match &e.kind {
        ExprKind::And(v) => children(v, t, errs).map(Node::And),
        ExprKind::Or(v) => children(v, t, errs).map(Node::Or),
        ExprKind::Not(n) => node(n, t, errs).map(|n| Node::Not(Box::new(n))),
        ExprKind::Macro(m) => {
            errs.push(Error {
                kind: ErrorKind::UnresolvedMacro(m.clone()),
                span: e.span,
            });
            None
        }
        ExprKind::Exists(op) => source(op, t, errs).map(Node::Exists),
        ExprKind::Compare { lhs, op, rhs } => {
            let src = source(lhs, t, errs)?;
            let test = test(&src, *op, rhs, lhs.field(), t, errs)?;
            Some(Node::Cmp(src, test))
        }
    }
}

fn children(v: &[Expr], t: &mut FieldTable, errs: &mut Vec<Error>) -> Option<Vec<Node>> {
    let out: Vec<Option<Node>> = v.iter().map(|e| node(e, t, errs)).collect();
    out.into_iter().collect()
}

fn source(op: &Operand, t: &mut FieldTable, errs: &mut Vec<Error>) -> Option<Source> {
    let mut transforms = Vec::new();
    let mut cur = op;
    while let Operand::Transform { func, arg, .. } = cur {
        transforms.push(*func);
        cur = arg;
    }
    transforms.reverse();
    let f: &FieldRef = op.field();
    match t.intern(&f.name, f.arg.as_deref()) {
        Ok(id) => {
            let mut ty = t.get(id).ty();
            for tr in &transforms {
                ty = match tr {
                    Transformer::Len => FieldType::Uint64,
                    _ => FieldType::String,
                };
            }
            let multi = transforms.is_empty() && t.get(id).multi().is_some();
            Some(Source {
                field: id,
                transforms,
                ty,
                multi,
            })
        }
        Err(e) => {
            errs.push(Error {
                kind: ErrorKind::Field(f.to_string(), e),
                span: f.span,
            });
            None
        }
    }
}

fn bad(field: &FieldRef, ty: FieldType, v: &Value) -> Error {
    Error {
        kind: ErrorKind::BadValue {
            field: field.to_string(),
            ty: ty.name(),
            value: v.text.clone(),
        },
        span: v.span,
    }
}

fn is_int(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::Int16
            | FieldType::Int32
            | FieldType::Int64
            | FieldType::Uint32
            | FieldType::Uint64
            | FieldType::Port
            | FieldType::RelTime
            | FieldType::AbsTime
    )
}

fn is_ip(ty: FieldType) -> bool {
    matches!(ty, FieldType::IpAddr | FieldType::IpNet)
}

fn hex(v: &Value) -> Result<Box<[u8]>, Error> {
    let s: String = v.text.chars().filter(|c| !c.is_whitespace()).collect();
    let err = || Error {
        kind: ErrorKind::BadHex(v.text.clone()),
        span: v.span,
    };
    if s.len() % 2 != 0 {
        return Err(err());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).ok_or_else(err)?, 16).map_err(|_| err()))
        .collect()
}

fn test(
    src: &Source,
    op: CmpOp,
    rhs: &Rhs,
    field: &FieldRef,
    t: &mut FieldTable,
    errs: &mut Vec<Error>,
) -> Option<Test> {
    let r = match rhs {
        Rhs::Field(o) => {
            let other = source(o, t, errs)?;
            return Some(Test::Field(op, other));
        }
        Rhs::List(items, span) => {
            if !op.takes_list() {
                errs.push(Error {
                    kind: ErrorKind::BadOperand(op),
                    span: *span,
                });
                return None;
            }
            list(src.ty, op, items, field)
        }
        Rhs::Value(v) if op.takes_list() => list(src.ty, op, std::slice::from_ref(v), field),
        Rhs::Value(v) => single(src.ty, op, v, field),
    };
    r.map_err(|e| errs.push(e)).ok()
}

fn list(ty: FieldType, op: CmpOp, items: &[Value], field: &FieldRef) -> Result<Test, Error> {
    if op == CmpOp::PMatch {
        let mut v: Vec<Box<str>> = items
            .iter()
            .map(|i| {
                let t = i.text.trim_end_matches('/');
                Box::from(if t.is_empty() { "" } else { t })
            })
            .collect();
        v.sort();
        v.dedup();
        return Ok(Test::PMatch(v.into()));
    }
    if is_int(ty) {
        return items
            .iter()
            .map(|i| parse_int(&i.text).ok_or_else(|| bad(field, ty, i)))
            .collect::<Result<HashSet<_>, _>>()
            .map(|s| Test::InInt(Arc::new(s)));
    }
    if is_ip(ty) {
        return items
            .iter()
            .map(|i| IpNet::parse(&i.text).ok_or_else(|| bad(field, ty, i)))
            .collect::<Result<_, _>>()
            .map(Test::InNet);
    }
    Ok(Test::InStr(Arc::new(
        items.iter().map(|i| Box::from(i.text.as_str())).collect(),
    )))
}

fn single(ty: FieldType, op: CmpOp, v: &Value, field: &FieldRef) -> Result<Test, Error> {
    let text = v.text.as_str();
    let boxed = || Box::from(text);
    Ok(match op {
        CmpOp::Contains => Test::Contains(boxed()),
        CmpOp::IContains => Test::IContains(text.to_ascii_lowercase().into()),
        CmpOp::StartsWith => Test::StartsWith(boxed()),
        CmpOp::EndsWith => Test::EndsWith(boxed()),
        CmpOp::BContains => Test::BContains(hex(v)?),
        CmpOp::BStartsWith => Test::BStartsWith(hex(v)?),
        CmpOp::Glob => Test::Glob(boxed(), false),
        CmpOp::IGlob => Test::Glob(text.to_lowercase().into(), true),
        CmpOp::Regex => match Regex::new(&format!("^(?:{text})$")) {
            Ok(r) => Test::Regex(r),
            Err(e) => {
                return Err(Error {
                    kind: ErrorKind::BadRegex(e.to_string()),
                    span: v.span,
                })
            }
        },
        CmpOp::In | CmpOp::Intersects | CmpOp::PMatch => {
            return Err(Error {
                kind: ErrorKind::BadOperand(op),
                span: v.span,
            })
        }
        CmpOp::Eq | CmpOp::Ne | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let o = Ord6::of(op).unwrap_or(Ord6::Eq);
            ordered(ty, op, o, v, field)?
        }
    })
}

fn ordered(ty: FieldType, op: CmpOp, o: Ord6, v: &Value, field: &FieldRef) -> Result<Test, Error> {
    let text = v.text.as_str();
    Ok(match ty {
        t if is_int(t) => Test::Int(o, parse_int(text).ok_or_else(|| bad(field, ty, v))?),
        FieldType::Double => Test::Float(o, text.trim().parse().map_err(|_| bad(field, ty, v))?),
        FieldType::Bool if matches!(op, CmpOp::Eq | CmpOp::Ne) => Test::Bool(
            parse_bool(text).ok_or_else(|| bad(field, ty, v))?,
            op == CmpOp::Eq,
        ),
        t if is_ip(t) && matches!(op, CmpOp::Eq | CmpOp::Ne) => Test::Net(
            IpNet::parse(text).ok_or_else(|| bad(field, ty, v))?,
            op == CmpOp::Ne,
        ),
        // Dynamic fields compare as numbers when the value is one.
        FieldType::Dynamic => match parse_int(text) {
            Some(n) => Test::Int(o, n),
            None => Test::Str(o, Box::from(text)),
        },
        _ => Test::Str(o, Box::from(text)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;

    fn comp(text: &str) -> Result<Node, Vec<Error>> {
        let e = parse::parse(text, 0)
            .map_err(|e| panic!("{text}: {e}"))
            .unwrap();
        compile(&e, &mut FieldTable::default())
    }

    #[test]
    fn compiles_typed_tests() {
        let ok = [
            "proc.name = bash and not proc.pid < 10",
            "fd.name pmatch (/etc, /usr/bin/)",
            "evt.type in (open, openat) or evt.num in (1, 2)",
            "fd.sip in (10.0.0.0/8, 127.0.0.1)",
            "proc.name regex 'ba.*' and proc.name glob 'b*'",
            "evt.buffer bcontains 'de ad' and evt.failed = true",
            "tolower(proc.name) = bash and len(proc.name) > 2",
            "proc.name = val(proc.pname)",
            "proc.args exists",
        ];
        for s in ok {
            if let Err(e) = comp(s) {
                panic!("{s}: {e:?}");
            }
        }
    }

    #[test]
    fn positioned_errors() {
        let bad = [
            ("proc.pid = abc", 11),
            ("nope.field = 1", 0),
            ("proc.name regex '('", 16),
            ("evt.buffer bcontains xyz", 21),
            ("proc.pid in (1, x)", 16),
        ];
        for (s, at) in bad {
            let e = comp(s).expect_err(s);
            assert_eq!(e[0].span.start as usize, at, "{s}: {e:?}");
        }
    }
}
