//! Evaluation of compiled programs: short-circuit `and`/`or`/`not`, typed
//! tests, libsinsp's `<NA>` rule (a comparison on a field without a value is
//! false, `!=` included). Field text comes from a [`Fields`] source: a
//! [`Record`] filled ahead (worker threads) or filled on demand from the
//! event context ([`Lazy`]). Buffers are reused: no allocation per event
//! once they have grown.

use std::net::IpAddr;

use super::ast::{CmpOp, Transformer};
use super::bind::{parse_bool, parse_int, IpNet};
use super::compile::{FieldId, FieldTable, Node, Ord6, Source, Test};
use super::fields::{Ctx, Multi};

/// Where evaluation reads field text from.
pub trait Fields {
    /// The text of field `id`, or `None` when it has no value.
    fn text(&mut self, id: FieldId) -> Option<&str>;

    /// How field `id` compares if it has several values per event (see
    /// [`super::fields::Multi`]); `None` for one value, or a source that
    /// keeps only text.
    fn multi(&self, _id: FieldId) -> Option<Multi> {
        None
    }

    /// The value of integer or boolean field `id` read without text
    /// (`Some(None)`: no value), or `None` when the source has no integer
    /// reader for it.
    fn int(&mut self, _id: FieldId) -> Option<Option<i64>> {
        None
    }

    /// For a field [`Fields::multi`] describes: whether `test` passes for
    /// any of its values, `None` when it has none.
    fn any(&mut self, _id: FieldId, _test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        None
    }
}

/// Values by index that are all forgotten at once: a value counts only
/// while its stamp equals the current generation, so forgetting every value
/// is one increment, not a pass over the slots. Stamp 0 is never a
/// generation: new slots start unset.
#[derive(Debug, Clone)]
struct Stamped<T> {
    slots: Vec<(u32, T)>,
    gen: u32,
}

impl<T: Copy + Default> Default for Stamped<T> {
    fn default() -> Self {
        Stamped {
            slots: Vec::new(),
            gen: 1,
        }
    }
}

impl<T: Copy + Default> Stamped<T> {
    /// Forgets every value; room for `n`.
    fn forget(&mut self, n: usize) {
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            // Stamps from 2^32 generations ago would look current.
            self.slots.clear();
            self.gen = 1;
        }
        if self.slots.len() < n {
            self.slots.resize(n, (0, T::default()));
        }
    }

    /// The value at `i`, if set since the last [`Stamped::forget`].
    #[inline]
    fn get(&self, i: usize) -> Option<T> {
        match self.slots.get(i) {
            Some(&(g, v)) if g == self.gen => Some(v),
            _ => None,
        }
    }

    fn set(&mut self, i: usize, v: T) {
        if i >= self.slots.len() {
            self.slots.resize(i + 1, (0, T::default()));
        }
        self.slots[i] = (self.gen, v);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Slot {
    #[default]
    Na,
    Text(u32, u32),
}

/// Field values of one event: one text buffer and a slot per field id.
#[derive(Debug, Clone, Default)]
pub struct Record {
    buf: String,
    slots: Stamped<Slot>,
}

impl Record {
    /// Forgets every value; sized for `n` fields.
    pub fn reset(&mut self, n: usize) {
        self.buf.clear();
        self.slots.forget(n);
    }

    /// Extracts field `id` from `ctx` unless already done.
    pub fn fill(&mut self, id: FieldId, table: &FieldTable, ctx: &Ctx<'_>) {
        self.fill_slot(id, table, ctx);
    }

    /// [`Record::fill`], returning the field's slot.
    #[inline]
    fn fill_slot(&mut self, id: FieldId, table: &FieldTable, ctx: &Ctx<'_>) -> Slot {
        if let Some(slot) = self.slots.get(id as usize) {
            return slot;
        }
        let start = self.buf.len();
        let slot = if table.get(id).extract(ctx, &mut self.buf) {
            Slot::Text(start as u32, self.buf.len() as u32)
        } else {
            Slot::Na
        };
        self.slots.set(id as usize, slot);
        slot
    }

    /// The text of a slot of this record.
    #[inline]
    fn text_of(&self, slot: Slot) -> Option<&str> {
        match slot {
            Slot::Text(a, b) => self.buf.get(a as usize..b as usize),
            Slot::Na => None,
        }
    }

    /// The text of a filled field.
    pub fn get(&self, id: FieldId) -> Option<&str> {
        self.text_of(self.slots.get(id as usize)?)
    }
}

impl Fields for Record {
    fn text(&mut self, id: FieldId) -> Option<&str> {
        self.get(id)
    }
}

/// A record filled on demand from an event context.
pub struct Lazy<'r, 'c> {
    /// The record (reset by the caller for each event).
    pub rec: &'r mut Record,
    /// The field table the ids refer to.
    pub table: &'r FieldTable,
    /// The event.
    pub ctx: &'r Ctx<'c>,
}

impl Fields for Lazy<'_, '_> {
    fn text(&mut self, id: FieldId) -> Option<&str> {
        if let Some(read) = self.table.get(id).text_reader() {
            return read(self.ctx);
        }
        let slot = self.rec.fill_slot(id, self.table, self.ctx);
        self.rec.text_of(slot)
    }

    fn int(&mut self, id: FieldId) -> Option<Option<i64>> {
        self.table.get(id).int().map(|read| read(self.ctx))
    }

    fn multi(&self, id: FieldId) -> Option<Multi> {
        self.table.get(id).multi()
    }

    fn any(&mut self, id: FieldId, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        (self.table.get(id).multi()?.each)(self.ctx, test)
    }
}

/// Reusable buffers for transformers and field-to-field comparisons, and
/// the results of shared subexpressions ([`Node::Memo`]) for the current
/// event.
#[derive(Debug, Default)]
pub struct Scratch {
    a: String,
    b: String,
    lhs: String,
    memo: Stamped<bool>,
}

impl Scratch {
    /// Forgets the shared results: call before evaluating programs with
    /// [`Node::Memo`] nodes on a new event.
    pub fn next_event(&mut self) {
        self.memo.forget(0);
    }

    /// The result of memo slot `i` for the current event, if evaluated.
    #[inline]
    pub fn known(&self, i: u32) -> Option<bool> {
        self.memo.get(i as usize)
    }
}

/// Evaluates `n`.
pub fn eval<F: Fields>(n: &Node, f: &mut F, s: &mut Scratch) -> bool {
    match n {
        Node::And(v) => v.iter().all(|c| step(c, f, s)),
        Node::Or(v) => v.iter().any(|c| step(c, f, s)),
        Node::Not(c) => !step(c, f, s),
        _ => step(n, f, s),
    }
}

/// Evaluates `n` in its parent's frame when it is a known shared result or
/// the common leaf (a field without transformers tested against a
/// constant); calls out for the rest.
#[inline(always)]
fn step<F: Fields>(n: &Node, f: &mut F, s: &mut Scratch) -> bool {
    match n {
        Node::Memo(i, c) => match s.memo.get(*i as usize) {
            Some(b) => b,
            None => memo(*i as usize, c, f, s),
        },
        Node::Cmp(src, t)
            if !src.multi && src.transforms.is_empty() && !matches!(t, Test::Field(..)) =>
        {
            if matches!(t, Test::Int(..) | Test::Bool(..) | Test::InInt(_)) {
                if let Some(v) = f.int(src.field) {
                    return v.is_some_and(|x| apply_int(t, x));
                }
            }
            match f.text(src.field) {
                Some(v) => apply(t, v),
                None => false,
            }
        }
        Node::And(_) | Node::Or(_) | Node::Not(_) => eval(n, f, s),
        _ => eval_other(n, f, s),
    }
}

/// A shared subexpression not yet evaluated for this event.
#[inline(never)]
fn memo<F: Fields>(i: usize, c: &Node, f: &mut F, s: &mut Scratch) -> bool {
    let b = eval(c, f, s);
    s.memo.set(i, b);
    b
}

/// The less common nodes: `exists`, transformers, field-to-field
/// comparisons, fields with several values.
#[inline(never)]
fn eval_other<F: Fields>(n: &Node, f: &mut F, s: &mut Scratch) -> bool {
    match n {
        Node::Exists(src) => value(src, f, &mut s.a, &mut s.b).is_some(),
        Node::Cmp(src, Test::Field(op, other)) => {
            let Some(l) = value(src, f, &mut s.a, &mut s.b) else {
                return false;
            };
            s.lhs.clear();
            s.lhs.push_str(l);
            let Some(r) = value(other, f, &mut s.a, &mut s.b) else {
                return false;
            };
            compare_texts(src, *op, &s.lhs, r)
        }
        Node::Cmp(src, t) => {
            if src.multi {
                if let Some(m) = f.multi(src.field) {
                    // `!=` on connection ends holds when no end is equal,
                    // i.e. no end fails it.
                    return if m.ne_all && is_ne(t) {
                        f.any(src.field, &mut |v| !apply(t, v)) == Some(false)
                    } else {
                        f.any(src.field, &mut |v| apply(t, v)) == Some(true)
                    };
                }
            }
            match value(src, f, &mut s.a, &mut s.b) {
                Some(v) => apply(t, v),
                None => false,
            }
        }
        _ => eval(n, f, s),
    }
}

/// What constant folding makes of a node: a constant, or what is left.
#[derive(Debug)]
pub enum Folded {
    /// The node has this value for every event folded for.
    Const(bool),
    /// The node with its constant parts removed.
    Node(Node),
}

/// Folds the tests on fields whose value `known` gives (for every event
/// the program will see, e.g. `evt.type` for one event type) into
/// constants, and simplifies `and`/`or`/`not` around them: `Some(Some(v))`
/// is always `v`, `Some(None)` never has a value (every test on it is
/// false); fields `known` returns `None` for stay tests. Evaluating the
/// result on an event for which `known` holds gives what evaluating `n`
/// gives.
pub fn fold<'k>(n: &Node, known: &dyn Fn(FieldId) -> Option<Option<&'k str>>) -> Folded {
    fold_with(n, known, &|_| None)
}

/// [`fold`], also deciding integer comparisons on fields whose values
/// have a known lower bound (`min`; e.g. `evt.num` counts from 1, so
/// `evt.num = 0`, Falco's `never_true`, is false).
pub fn fold_with<'k>(
    n: &Node,
    known: &dyn Fn(FieldId) -> Option<Option<&'k str>>,
    min: &dyn Fn(FieldId) -> Option<i128>,
) -> Folded {
    let fold =
        |n: &Node, known: &dyn Fn(FieldId) -> Option<Option<&'k str>>| fold_with(n, known, min);
    match n {
        Node::And(v) | Node::Or(v) => {
            let is_and = matches!(n, Node::And(_));
            let mut kept = Vec::with_capacity(v.len());
            for c in v {
                match fold(c, known) {
                    // false in an and, true in an or, decides it.
                    Folded::Const(b) if b != is_and => return Folded::Const(b),
                    Folded::Const(_) => {}
                    Folded::Node(x) => kept.push(x),
                }
            }
            match kept.len() {
                0 => Folded::Const(is_and),
                1 => Folded::Node(kept.pop().unwrap_or(Node::And(Vec::new()))),
                _ if is_and => Folded::Node(Node::And(kept)),
                _ => Folded::Node(Node::Or(kept)),
            }
        }
        Node::Memo(_, c) => fold(c, known),
        Node::Not(c) => match fold(c, known) {
            Folded::Const(b) => Folded::Const(!b),
            Folded::Node(x) => Folded::Node(Node::Not(Box::new(x))),
        },
        // No value: every test on the field (or a transform of it) is false.
        Node::Exists(src) | Node::Cmp(src, _) if known(src.field) == Some(None) => {
            Folded::Const(false)
        }
        Node::Exists(src) if src.transforms.is_empty() && known(src.field).is_some() => {
            Folded::Const(true)
        }
        Node::Cmp(src, t) if src.transforms.is_empty() && !matches!(t, Test::Field(..)) => {
            match known(src.field) {
                Some(Some(v)) => Folded::Const(apply(t, v)),
                _ => match (min(src.field), t) {
                    (Some(lo), Test::Int(o, v)) => match below(lo, *o, *v) {
                        Some(b) => Folded::Const(b),
                        None => Folded::Node(n.clone()),
                    },
                    _ => Folded::Node(n.clone()),
                },
            }
        }
        _ => Folded::Node(n.clone()),
    }
}

/// The result of `x o v` for every `x >= lo`, when it is the same for all.
fn below(lo: i128, o: Ord6, v: i128) -> Option<bool> {
    match o {
        Ord6::Eq | Ord6::Le if v < lo => Some(false),
        Ord6::Ne | Ord6::Gt if v < lo => Some(true),
        Ord6::Lt if v <= lo => Some(false),
        Ord6::Ge if v <= lo => Some(true),
        _ => None,
    }
}

/// The value of a source as text, transformers applied.
fn value<'s, F: Fields>(
    src: &Source,
    f: &'s mut F,
    a: &'s mut String,
    b: &mut String,
) -> Option<&'s str> {
    let text = f.text(src.field)?;
    if src.transforms.is_empty() {
        return Some(text);
    }
    a.clear();
    a.push_str(text);
    for t in &src.transforms {
        b.clear();
        match t {
            Transformer::ToLower => b.extend(a.chars().flat_map(char::to_lowercase)),
            Transformer::ToUpper => b.extend(a.chars().flat_map(char::to_uppercase)),
            Transformer::Basename => {
                let base = a.rsplit('/').next().unwrap_or("");
                b.push_str(base);
            }
            Transformer::Len => {
                use std::fmt::Write as _;
                let _ = write!(b, "{}", a.len());
            }
            Transformer::B64 => {
                if !b64_decode(a, b) {
                    return None;
                }
            }
        }
        std::mem::swap(a, b);
    }
    Some(a.as_str())
}

fn b64_decode(s: &str, out: &mut String) -> bool {
    let mut bytes = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut n) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return false,
        };
        acc = acc << 6 | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((acc >> n) as u8);
        }
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
    true
}

fn apply(t: &Test, v: &str) -> bool {
    match t {
        Test::Int(o, n) => parse_int(v).is_some_and(|x| o.holds(x.cmp(n))),
        Test::Float(o, n) => v
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|x| x.partial_cmp(n))
            .is_some_and(|c| o.holds(c)),
        Test::Bool(b, eq) => parse_bool(v).is_some_and(|x| (x == *b) == *eq),
        Test::Str(o, s) => o.holds(v.cmp(s)),
        Test::Contains(s) => v.contains(&**s),
        Test::IContains(s) => icontains(v.as_bytes(), s.as_bytes()),
        Test::StartsWith(s) => v.starts_with(&**s),
        Test::EndsWith(s) => v.ends_with(&**s),
        Test::BContains(b) => b.is_empty() || v.as_bytes().windows(b.len()).any(|w| w == &**b),
        Test::BStartsWith(b) => v.as_bytes().starts_with(b),
        Test::Glob(p, icase) => glob(p.as_bytes(), v.as_bytes(), *icase),
        Test::Regex(r) => r.is_match(v),
        Test::InStr(set) => set.contains(v),
        Test::InInt(set) => parse_int(v).is_some_and(|x| set.contains(&x)),
        Test::InNet(nets) => ip(v).is_some_and(|a| nets.iter().any(|n| n.contains(a))),
        Test::Net(n, neg) => ip(v).is_some_and(|a| n.contains(a) != *neg),
        Test::PMatch(p) => pmatch(p, v),
        Test::Field(..) => false,
    }
}

/// [`apply`] on an integer value: what it gives on the value's decimal
/// text (a boolean's 0 or 1, as its `true` or `false`).
fn apply_int(t: &Test, x: i64) -> bool {
    let x = i128::from(x);
    match t {
        Test::Int(o, n) => o.holds(x.cmp(n)),
        Test::Bool(b, eq) => ((x != 0) == *b) == *eq,
        Test::InInt(set) => set.contains(&x),
        _ => false,
    }
}

/// Whether a test is an inequality (`!=`).
fn is_ne(t: &Test) -> bool {
    matches!(
        t,
        Test::Int(Ord6::Ne, _) | Test::Str(Ord6::Ne, _) | Test::Net(_, true) | Test::Bool(_, false)
    )
}

fn ip(v: &str) -> Option<IpAddr> {
    v.parse().ok().or_else(|| IpNet::parse(v).map(|n| n.addr))
}

fn compare_texts(src: &Source, op: CmpOp, l: &str, r: &str) -> bool {
    let ord = |o: Ord6| match (parse_int(l), parse_int(r)) {
        (Some(a), Some(b)) if src.ty.is_numeric() => o.holds(a.cmp(&b)),
        _ => o.holds(l.cmp(r)),
    };
    match op {
        CmpOp::Eq => ord(Ord6::Eq),
        CmpOp::Ne => ord(Ord6::Ne),
        CmpOp::Lt => ord(Ord6::Lt),
        CmpOp::Le => ord(Ord6::Le),
        CmpOp::Gt => ord(Ord6::Gt),
        CmpOp::Ge => ord(Ord6::Ge),
        CmpOp::Contains => l.contains(r),
        CmpOp::IContains => icontains(l.as_bytes(), r.to_ascii_lowercase().as_bytes()),
        CmpOp::StartsWith | CmpOp::BStartsWith => l.starts_with(r),
        CmpOp::EndsWith => l.ends_with(r),
        CmpOp::BContains => l.contains(r),
        CmpOp::Glob => glob(r.as_bytes(), l.as_bytes(), false),
        CmpOp::IGlob => glob(r.to_lowercase().as_bytes(), l.as_bytes(), true),
        CmpOp::Regex => false,
        CmpOp::In | CmpOp::Intersects => l == r,
        CmpOp::PMatch => pmatch(&[r.trim_end_matches('/').into()], l),
    }
}

/// ASCII case-insensitive substring search; `pat` is lowercase.
fn icontains(hay: &[u8], pat: &[u8]) -> bool {
    if pat.is_empty() {
        return true;
    }
    hay.windows(pat.len())
        .any(|w| w.iter().zip(pat).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// Path prefix match: `v` equals a prefix or continues it with `/`.
fn pmatch(prefixes: &[Box<str>], v: &str) -> bool {
    let v = v.trim_end_matches('/');
    let found = |p: &str| prefixes.binary_search_by(|x| (**x).cmp(p)).is_ok();
    if found(v) {
        return true;
    }
    if v.starts_with('/') && found("") {
        return true;
    }
    v.match_indices('/')
        .filter(|(i, _)| *i > 0)
        .any(|(i, _)| found(&v[..i]))
}

/// fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^` and ranges)
/// and backslash escapes; `*` matches `/` too. With `icase` the pattern is
/// lowercase and the text is compared lowercased.
pub fn glob(p: &[u8], s: &[u8], icase: bool) -> bool {
    let low = |c: u8| if icase { c.to_ascii_lowercase() } else { c };
    let (mut pi, mut si) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while si < s.len() {
        let c = low(s[si]);
        let step = match p.get(pi) {
            Some(b'*') => {
                back = Some((pi, si));
                pi += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => class(&p[pi..], c),
            Some(b'\\') if pi + 1 < p.len() => (p[pi + 1] == c).then_some(2),
            Some(x) => (*x == c).then_some(1),
            None => None,
        };
        match step {
            Some(n) => {
                pi += n;
                si += 1;
            }
            None => match back {
                Some((bp, bs)) => {
                    pi = bp + 1;
                    si = bs + 1;
                    back = Some((bp, bs + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == b'*')
}

/// Matches `c` against the bracket expression at the start of `p`; returns
/// the expression's length when it matches.
fn class(p: &[u8], c: u8) -> Option<usize> {
    let mut i = 1;
    let neg = matches!(p.get(1), Some(b'!' | b'^'));
    if neg {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() && (first || p[i] != b']') {
        first = false;
        let lo = p[i];
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|x| *x != b']') {
            hit |= (lo..=p[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
    if i >= p.len() {
        // No closing bracket: a literal '['.
        return (c == b'[').then_some(1);
    }
    (hit != neg).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{compile, parse};

    struct Map(Vec<(FieldId, &'static str)>);

    #[test]
    fn integer_values_test_as_their_text() {
        use std::collections::HashSet as Set;
        use std::sync::Arc;
        let mut tests = Vec::new();
        for o in [Ord6::Eq, Ord6::Ne, Ord6::Lt, Ord6::Le, Ord6::Gt, Ord6::Ge] {
            for n in [-1, 0, 1, 3] {
                tests.push(Test::Int(o, n));
            }
        }
        for b in [true, false] {
            for eq in [true, false] {
                tests.push(Test::Bool(b, eq));
            }
        }
        let set: Set<i128> = [0, 3, -1].into_iter().collect();
        tests.push(Test::InInt(Arc::new(set.into_iter().collect())));
        for t in &tests {
            for x in [-5i64, -1, 0, 1, 2, 3, 1 << 40, i64::MIN, i64::MAX] {
                assert_eq!(apply_int(t, x), apply(t, &x.to_string()), "{t:?} on {x}");
            }
            // A boolean field's text (boolean fields compile to no other
            // test of these).
            if matches!(t, Test::Bool(..)) {
                for (x, text) in [(0, "false"), (1, "true")] {
                    assert_eq!(apply_int(t, x), apply(t, text), "{t:?} on {text}");
                }
            }
        }
    }

    impl Fields for Map {
        fn text(&mut self, id: FieldId) -> Option<&str> {
            self.0.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
        }
    }

    /// Evaluates `cond` with the given field values (others have none).
    fn run(cond: &str, vals: &[(&str, &'static str)]) -> bool {
        let e = parse::parse(cond, 0).unwrap();
        let mut table = FieldTable::default();
        let n = compile::compile(&e, &mut table).unwrap();
        let mut m = Map(Vec::new());
        for (name, v) in vals {
            let id = table.intern(name, None).unwrap();
            m.0.push((id, v));
        }
        eval(&n, &mut m, &mut Scratch::default())
    }

    #[test]
    fn evaluation_table() {
        let p = &[
            ("proc.name", "Bash"),
            ("proc.pid", "42"),
            ("fd.name", "/etc/shadow"),
        ];
        let cases: &[(&str, bool)] = &[
            ("proc.name = Bash", true),
            ("proc.name != Bash", false),
            ("proc.pid > 41 and proc.pid <= 42", true),
            ("proc.pid in (1, 42)", true),
            ("proc.name icontains ash", true),
            ("proc.name contains ash and proc.name startswith B", true),
            ("fd.name pmatch (/etc)", true),
            ("fd.name pmatch (/et)", false),
            ("fd.name pmatch (/)", true),
            ("fd.name glob '/etc/*'", true),
            ("fd.name glob '/etc/sh[a-c]dow'", true),
            ("fd.name glob '/etc/?'", false),
            ("proc.name iglob 'b*H'", true),
            ("proc.name regex 'B.s'", false),
            ("proc.name regex 'B.sh'", true),
            ("tolower(proc.name) = bash", true),
            ("toupper(proc.name) = BASH", true),
            ("len(fd.name) = 11", true),
            ("basename(fd.name) = shadow", true),
            ("proc.name exists", true),
            // <NA>: comparisons are false, != included; not of them true.
            ("proc.pname = x", false),
            ("proc.pname != x", false),
            ("not proc.pname = x", true),
            ("proc.pname exists", false),
            ("proc.name = val(proc.pname)", false),
            ("proc.name = val(proc.name)", true),
        ];
        for (cond, want) in cases {
            assert_eq!(run(cond, p), *want, "{cond}");
        }
    }

    #[test]
    fn folding_for_a_known_event_type() {
        // (condition, folded for evt.type=openat evt.dir=<: constant or
        // whether a program is left)
        let cases: &[(&str, Option<bool>)] = &[
            ("evt.type = openat", Some(true)),
            ("evt.type in (open, openat) and evt.dir = <", Some(true)),
            ("evt.type = execve and proc.name = x", Some(false)),
            ("evt.dir = > and proc.name = x", Some(false)),
            ("evt.type = execve or proc.name = x", None),
            ("not evt.type = execve", Some(true)),
            ("evt.type != openat or evt.dir exists", Some(true)),
            ("evt.type = openat and proc.name = x", None),
            ("tolower(evt.type) = openat", None),
            // evt.rawres known to have no value.
            ("evt.rawres >= 0 and proc.name = x", Some(false)),
            ("evt.rawres >= 0 or proc.name = x", None),
            ("not evt.rawres exists", Some(true)),
            ("evt.rawres != 0", Some(false)),
        ];
        for (cond, want) in cases {
            let e = parse::parse(cond, 0).unwrap();
            let mut table = FieldTable::default();
            let n = compile::compile(&e, &mut table).unwrap();
            let ty = table.intern("evt.type", None).unwrap();
            let dir = table.intern("evt.dir", None).unwrap();
            let res = table.intern("evt.rawres", None).unwrap();
            let known = |f: FieldId| {
                (f == ty)
                    .then_some(Some("openat"))
                    .or((f == dir).then_some(Some("<")))
                    .or((f == res).then_some(None))
            };
            let got = match fold(&n, &known) {
                Folded::Const(b) => Some(b),
                Folded::Node(_) => None,
            };
            assert_eq!(got, *want, "{cond}");
        }
        // evt.num counts from 1 (never_true is evt.num = 0).
        let lower: &[(&str, Option<bool>)] = &[
            ("evt.num = 0 and proc.name = x", Some(false)),
            ("not evt.num = 0", Some(true)),
            ("evt.num >= 1", Some(true)),
            ("evt.num > 0", Some(true)),
            ("evt.num < 1", Some(false)),
            ("evt.num <= 1", None),
            ("evt.num = 1", None),
            ("evt.num > 1", None),
        ];
        for (cond, want) in lower {
            let e = parse::parse(cond, 0).unwrap();
            let mut table = FieldTable::default();
            let n = compile::compile(&e, &mut table).unwrap();
            let num = table.intern("evt.num", None).unwrap();
            let got = match fold_with(&n, &|_| None, &|f| (f == num).then_some(1)) {
                Folded::Const(b) => Some(b),
                Folded::Node(_) => None,
            };
            assert_eq!(got, *want, "{cond}");
        }
        // What is left evaluates as the whole did.
        let e = parse::parse("evt.type = openat and proc.name = x", 0).unwrap();
        let mut table = FieldTable::default();
        let n = compile::compile(&e, &mut table).unwrap();
        let ty = table.intern("evt.type", None).unwrap();
        let name = table.intern("proc.name", None).unwrap();
        let Folded::Node(left) = fold(&n, &|f| (f == ty).then_some(Some("openat"))) else {
            panic!("folded away");
        };
        let mut m = Map(vec![(name, "x")]);
        assert!(eval(&left, &mut m, &mut Scratch::default()));
        let mut m = Map(vec![(name, "y")]);
        assert!(!eval(&left, &mut m, &mut Scratch::default()));
    }

    #[test]
    fn ip_and_bool_tests() {
        let v = &[("fd.sip", "10.1.2.3"), ("evt.failed", "true")];
        assert!(run("fd.sip in (10.0.0.0/8)", v));
        assert!(run("fd.sip = 10.1.2.3", v));
        assert!(!run("fd.sip != 10.1.2.3", v));
        assert!(run("evt.failed = true", v));
        assert!(!run("evt.failed = false", v));
    }

    #[test]
    fn globs_and_base64() {
        assert!(glob(b"a*b*c", b"axxbyyc", false));
        assert!(!glob(b"a*b", b"abc", false));
        assert!(glob(b"[!x]", b"y", false));
        assert!(glob(b"\\*", b"*", false));
        let mut out = String::new();
        assert!(b64_decode("aGVsbG8=", &mut out));
        assert_eq!(out, "hello");
    }
}
