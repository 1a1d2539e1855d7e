//! Common subexpressions of the programs one event is tested against.
//! Falco's rules are built from the same macros (`open_write`, `open_read`,
//! `never_true`, process-name lists): after expansion, the rules that can
//! match an openat exit repeat the same tests a dozen times. [`share`] gives
//! every subexpression that occurs more than once a memo slot
//! ([`Node::Memo`]), but for single comparisons as cheap to repeat as a
//! memo is to read; evaluation computes it once per event and reuses the
//! result (see [`super::eval::Scratch::next_event`]). Nested `and`s and
//! `or`s that are not shared are flattened into their parent.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::compile::{Node, Test};

/// The kind of an interned node: a leaf by its printed form, or an inner
/// node by its kind and its children's ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Leaf(String),
    And(Vec<u32>),
    Or(Vec<u32>),
    Not(u32),
}

/// Printed forms of the large constants of comparisons (sets and prefix
/// lists) by the address of their shared allocation: printing them is most
/// of the cost of interning, and the programs folded for every event type
/// share the rules' allocations. Each entry holds its allocation, so an
/// address is not reused while it is cached.
/// Equal constants in different allocations get the same number.
#[derive(Default)]
pub struct Printed {
    by_addr: HashMap<usize, (Test, u32)>,
    by_text: HashMap<String, u32>,
}

/// Interned subexpressions and how often each occurs.
struct Interner<'p> {
    ids: HashMap<Key, u32>,
    count: Vec<u32>,
    slot: Vec<Option<u32>>,
    printed: &'p mut Printed,
}

/// The ids of a node and of its children, in the node's shape.
struct Ids {
    id: u32,
    kids: Vec<Ids>,
}

impl Interner<'_> {
    /// The ids of `n` and its subexpressions, counting one occurrence of
    /// each.
    fn intern(&mut self, n: &Node) -> Ids {
        let (key, kids) = match n {
            Node::And(v) | Node::Or(v) => {
                let kids: Vec<Ids> = v.iter().map(|c| self.intern(c)).collect();
                let ids = kids.iter().map(|k| k.id).collect();
                let key = if matches!(n, Node::And(_)) {
                    Key::And(ids)
                } else {
                    Key::Or(ids)
                };
                (key, kids)
            }
            Node::Not(c) | Node::Memo(_, c) => {
                let kid = self.intern(c);
                if matches!(n, Node::Memo(..)) {
                    // Already shared once: the memo is rebuilt afresh.
                    return kid;
                }
                (Key::Not(kid.id), vec![kid])
            }
            Node::Exists(s) => (Key::Leaf(format!("E{s:?}")), Vec::new()),
            Node::Cmp(s, t) => (Key::Leaf(leaf_key(s, t, self.printed)), Vec::new()),
        };
        let next = self.count.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.count.push(0);
            self.slot.push(None);
        }
        self.count[id as usize] += 1;
        Ids { id, kids }
    }

    /// Rebuilds `n` (interned as `ids`) with memo slots on the
    /// subexpressions that occur more than once (numbered from `*slots`)
    /// and non-shared nested `and`/`or` flattened.
    fn rebuild(&mut self, n: Node, ids: Ids, slots: &mut u32) -> Node {
        let inner = match n {
            Node::And(v) => Node::And(self.children(v, ids.kids, true, slots)),
            Node::Or(v) => Node::Or(self.children(v, ids.kids, false, slots)),
            Node::Memo(_, c) => return self.rebuild(*c, ids, slots),
            Node::Not(c) => match ids.kids.into_iter().next() {
                Some(k) => Node::Not(Box::new(self.rebuild(*c, k, slots))),
                None => Node::Not(c),
            },
            leaf => leaf,
        };
        let i = ids.id as usize;
        if self.count[i] < 2 || is_cheap_leaf(&inner) {
            return inner;
        }
        let slot = *self.slot[i].get_or_insert_with(|| {
            *slots += 1;
            *slots - 1
        });
        Node::Memo(slot, Box::new(inner))
    }

    /// Rebuilt children of an `and` (`is_and`) or `or`, with unshared
    /// children of the same kind spliced in, and the shared ones first:
    /// their result is most likely known already, and when it decides the
    /// node nothing else is evaluated. (Evaluation has no side effects, so
    /// the order of the children changes no result.)
    fn children(
        &mut self,
        v: Vec<Node>,
        ids: Vec<Ids>,
        is_and: bool,
        slots: &mut u32,
    ) -> Vec<Node> {
        let mut out = Vec::with_capacity(v.len());
        for (c, k) in v.into_iter().zip(ids) {
            match self.rebuild(c, k, slots) {
                Node::And(g) if is_and => out.extend(g),
                Node::Or(g) if !is_and => out.extend(g),
                x => out.push(x),
            }
        }
        // Stable: the rule's own order otherwise.
        out.sort_by_key(|c| !matches!(c, Node::Memo(..)));
        out
    }
}

/// Whether `n` is a comparison that costs no more to repeat than to look up
/// in a memo slot: a field read (cached or borrowed) and one integer,
/// boolean or string comparison.
fn is_cheap_leaf(n: &Node) -> bool {
    match n {
        Node::Cmp(src, t) if !src.multi && src.transforms.is_empty() => matches!(
            t,
            Test::Int(..)
                | Test::Bool(..)
                | Test::Str(..)
                | Test::StartsWith(_)
                | Test::EndsWith(_)
        ),
        _ => false,
    }
}

/// The printed form of a comparison. Equal printed forms are equal tests;
/// two equal sets printed in different orders only miss a sharing.
fn leaf_key(s: &super::compile::Source, t: &Test, printed: &mut Printed) -> String {
    let at = match t {
        Test::InStr(a) => Arc::as_ptr(a) as *const u8 as usize,
        Test::InInt(a) => Arc::as_ptr(a) as *const u8 as usize,
        Test::PMatch(a) => Arc::as_ptr(a) as *const u8 as usize,
        // A regex prints as its pattern.
        Test::Regex(r) => return format!("C{s:?}R{:?}", r.as_str()),
        _ => return format!("C{s:?}{t:?}"),
    };
    let by_text = &mut printed.by_text;
    let (_, n) = printed.by_addr.entry(at).or_insert_with(|| {
        let next = by_text.len() as u32;
        (t.clone(), *by_text.entry(format!("{t:?}")).or_insert(next))
    });
    format!("C{s:?}#{n}")
}

/// Gives the subexpressions occurring more than once in `conds` memo
/// slots and flattens the rest; returns how many slots were used. Each
/// program evaluates as before.
pub fn share(conds: &mut [Node]) -> u32 {
    share_with(conds, &mut Printed::default())
}

/// [`share`], with printed constants kept in `printed` for the next call.
pub fn share_with(conds: &mut [Node], printed: &mut Printed) -> u32 {
    let mut it = Interner {
        ids: HashMap::default(),
        count: Vec::new(),
        slot: Vec::new(),
        printed,
    };
    let ids: Vec<Ids> = conds.iter().map(|c| it.intern(c)).collect();
    let mut slots = 0;
    for (c, k) in conds.iter_mut().zip(ids) {
        let n = std::mem::replace(c, Node::And(Vec::new()));
        *c = it.rebuild(n, k, &mut slots);
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::compile::{self, FieldTable};
    use crate::filter::eval::{eval, Fields, Scratch};
    use crate::filter::parse;

    struct Map(Vec<(u32, &'static str)>, u32);

    impl Fields for Map {
        fn text(&mut self, id: u32) -> Option<&str> {
            self.1 += 1;
            self.0.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
        }
    }

    fn compiled(conds: &[&str], table: &mut FieldTable) -> Vec<Node> {
        conds
            .iter()
            .map(|c| compile::compile(&parse::parse(c, 0).unwrap(), table).unwrap())
            .collect()
    }

    #[test]
    fn shared_tests_are_evaluated_once_per_event() {
        let conds = [
            "proc.name in (a, b) and fd.name startswith /etc",
            "proc.name in (a, b) and fd.name startswith /usr",
            "not proc.name in (a, b) or (fd.num >= 0 and (fd.typechar = f and fd.num < 9))",
            "fd.typechar = f",
        ];
        let mut table = FieldTable::default();
        let plain = compiled(&conds, &mut table);
        let mut shared = plain.clone();
        let slots = share(&mut shared);
        // `proc.name in (a, b)`; `fd.typechar = f` is cheaper to repeat.
        assert_eq!(slots, 1);
        assert!(matches!(&shared[3], Node::Cmp(..)), "{:?}", shared[3]);
        // The nested and is flattened: and(fd.num >= 0, memo, fd.num < 9).
        let Node::Or(v) = &shared[2] else {
            panic!("or expected: {:?}", shared[2]);
        };
        assert!(matches!(&v[1], Node::And(a) if a.len() == 3), "{v:?}");
        let mut id = |n: &str| table.intern(n, None).unwrap();
        let events: &[&[(&str, &'static str)]] = &[
            &[
                ("proc.name", "a"),
                ("fd.name", "/etc/x"),
                ("fd.typechar", "f"),
            ],
            &[("proc.name", "c"), ("fd.name", "/usr/x"), ("fd.num", "3")],
            &[("proc.name", "b"), ("fd.num", "4"), ("fd.typechar", "f")],
            &[("fd.typechar", "d")],
        ];
        let mut s1 = Scratch::default();
        let mut s2 = Scratch::default();
        for vals in events {
            let vals: Vec<_> = vals.iter().map(|(n, v)| (id(n), *v)).collect();
            s2.next_event();
            let (mut m1, mut m2) = (Map(vals.clone(), 0), Map(vals, 0));
            for (a, b) in plain.iter().zip(&shared) {
                assert_eq!(eval(a, &mut m1, &mut s1), eval(b, &mut m2, &mut s2));
            }
            assert!(m2.1 <= m1.1, "{} reads shared, {} plain", m2.1, m1.1);
        }
    }
}
