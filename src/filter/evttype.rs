//! Which event types a condition can match, as a set computed on the tree:
//! `and` intersects, `or` unites, `not` is pushed down to the leaves (De
//! Morgan), so only `evt.type` comparisons restrict the set and any other
//! leaf, negated or not, matches every type. Rules are indexed by this set,
//! and a rule whose set is unbounded draws the "no-evttype" warning.

use std::collections::BTreeSet;

use super::ast::{CmpOp, Expr, ExprKind, Operand, Rhs};

/// A set of event type names, possibly infinite ("everything except ...").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvtTypes {
    /// Exactly these names.
    Only(BTreeSet<String>),
    /// Every name except these.
    AllExcept(BTreeSet<String>),
}

impl EvtTypes {
    /// Every event type.
    pub fn all() -> EvtTypes {
        EvtTypes::AllExcept(BTreeSet::new())
    }

    /// Whether the set is not bounded by a list of names.
    pub fn is_unbounded(&self) -> bool {
        matches!(self, EvtTypes::AllExcept(_))
    }

    /// Whether `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            EvtTypes::Only(s) => s.contains(name),
            EvtTypes::AllExcept(s) => !s.contains(name),
        }
    }

    fn complement(self) -> EvtTypes {
        match self {
            EvtTypes::Only(s) => EvtTypes::AllExcept(s),
            EvtTypes::AllExcept(s) => EvtTypes::Only(s),
        }
    }

    fn intersect(self, other: EvtTypes) -> EvtTypes {
        use EvtTypes::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a.intersection(&b).cloned().collect()),
            (Only(a), AllExcept(b)) | (AllExcept(b), Only(a)) => {
                Only(a.difference(&b).cloned().collect())
            }
            (AllExcept(a), AllExcept(b)) => AllExcept(a.union(&b).cloned().collect()),
        }
    }

    fn unite(self, other: EvtTypes) -> EvtTypes {
        self.complement().intersect(other.complement()).complement()
    }
}

/// The event types `e` can match.
pub fn evttypes(e: &Expr) -> EvtTypes {
    compute(e, false)
}

fn compute(e: &Expr, negated: bool) -> EvtTypes {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => {
            let intersect = matches!(e.kind, ExprKind::And(_)) != negated;
            let mut sets = items.iter().map(|i| compute(i, negated));
            let first = sets.next().unwrap_or_else(EvtTypes::all);
            sets.fold(first, |acc, s| {
                if intersect {
                    acc.intersect(s)
                } else {
                    acc.unite(s)
                }
            })
        }
        ExprKind::Not(inner) => compute(inner, !negated),
        ExprKind::Compare {
            lhs: Operand::Field(f),
            op,
            rhs,
        } if f.name == "evt.type" && f.arg.is_none() => {
            let names: BTreeSet<String> = match rhs {
                Rhs::Value(v) => [v.text.clone()].into(),
                Rhs::List(items, _) => items.iter().map(|v| v.text.clone()).collect(),
                Rhs::Field(_) => return EvtTypes::all(),
            };
            let set = match op {
                CmpOp::Eq | CmpOp::In => EvtTypes::Only(names),
                CmpOp::Ne => EvtTypes::AllExcept(names),
                _ => return EvtTypes::all(),
            };
            if negated {
                set.complement()
            } else {
                set
            }
        }
        _ => EvtTypes::all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse::parse;

    fn only(names: &[&str]) -> EvtTypes {
        EvtTypes::Only(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn table() {
        let cases = [
            ("evt.type=execve", only(&["execve"])),
            ("proc.name=foo", EvtTypes::all()),
            (
                "evt.type!=execve",
                EvtTypes::AllExcept(["execve".to_string()].into()),
            ),
            ("evt.type=execve and proc.name!=foo", only(&["execve"])),
            ("evt.type=execve and not proc.name=foo", only(&["execve"])),
            ("not proc.name=foo and evt.type=execve", only(&["execve"])),
            (
                "evt.type=execve and proc.name=foo or evt.type=open",
                only(&["execve", "open"]),
            ),
            (
                "evt.type=execve and proc.name=foo or evt.type in (open, connect)",
                only(&["connect", "execve", "open"]),
            ),
            (
                "evt.type in (execve, open) or evt.type!=connect",
                EvtTypes::AllExcept(["connect".to_string()].into()),
            ),
            (
                "not evt.type in (execve, open)",
                EvtTypes::AllExcept(["execve".to_string(), "open".to_string()].into()),
            ),
            ("evt.type in (open, open)", only(&["open"])),
            (
                "not (evt.type=open or evt.type=close) and evt.type in (open, read)",
                only(&["read"]),
            ),
            ("evt.type=open and evt.type=close", only(&[])),
        ];
        for (src, want) in cases {
            assert_eq!(evttypes(&parse(src, 0).unwrap()), want, "{src}");
        }
    }
}
