//! Checks of an expanded condition: every field resolves in the catalog
//! (with a valid argument), operators suit the field's type, and literal
//! values parse as that type (numbers, addresses, networks, booleans).

use std::net::IpAddr;

use crate::filter::ast::{CmpOp, Expr, ExprKind, Operand, Rhs, Span, Transformer, Value};
use crate::filter::catalog::{self, FieldType};

/// Something wrong with a node of a condition: where and what.
pub type Problem = (Span, ProblemKind);

/// The kinds of problem.
pub enum ProblemKind {
    /// A field the catalog does not have (rules may ask to skip instead).
    UnknownField(String),
    /// Anything else, with its message.
    Other(String),
}

/// The type an operand yields.
fn operand_type(o: &Operand, problems: &mut Vec<Problem>) -> Option<FieldType> {
    match o {
        Operand::Field(f) => match catalog::lookup(&f.name, f.arg.as_deref()) {
            Ok(r) => Some(r.info.ty),
            Err(catalog::LookupError::Unknown) => {
                problems.push((f.span, ProblemKind::UnknownField(f.to_string())));
                None
            }
            Err(e) => {
                problems.push((
                    f.span,
                    ProblemKind::Other(format!("Invalid use of field {f}: {e}")),
                ));
                None
            }
        },
        Operand::Transform { func, arg, span } => {
            let inner = operand_type(arg, problems)?;
            if !matches!(
                inner,
                FieldType::String | FieldType::Bytes | FieldType::Dynamic
            ) {
                let msg = format!(
                    "Transformer {}() needs a string field, not {}",
                    func.name(),
                    inner.name()
                );
                problems.push((*span, ProblemKind::Other(msg)));
                return None;
            }
            Some(if *func == Transformer::Len {
                FieldType::Uint64
            } else {
                inner
            })
        }
    }
}

fn op_allowed(ty: FieldType, op: CmpOp) -> bool {
    use CmpOp::*;
    match ty {
        FieldType::String | FieldType::Bytes | FieldType::Dynamic => true,
        FieldType::Bool => matches!(op, Eq | Ne | In),
        FieldType::IpAddr | FieldType::IpNet => matches!(op, Eq | Ne | In | Intersects),
        _ => matches!(op, Eq | Ne | Lt | Le | Gt | Ge | In | Intersects),
    }
}

fn value_ok(ty: FieldType, text: &str) -> bool {
    let t = text.trim();
    match ty {
        FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => t.parse::<i64>().is_ok(),
        FieldType::Uint32
        | FieldType::Uint64
        | FieldType::Port
        | FieldType::RelTime
        | FieldType::AbsTime => t.parse::<u64>().is_ok(),
        FieldType::Double => t.parse::<f64>().is_ok(),
        FieldType::Bool => matches!(t, "true" | "false" | "0" | "1"),
        FieldType::IpAddr => t.parse::<IpAddr>().is_ok(),
        FieldType::IpNet => match t.split_once('/') {
            Some((a, n)) => match (a.parse::<IpAddr>(), n.parse::<u8>()) {
                (Ok(IpAddr::V4(_)), Ok(n)) => n <= 32,
                (Ok(IpAddr::V6(_)), Ok(n)) => n <= 128,
                _ => false,
            },
            None => t.parse::<IpAddr>().is_ok(),
        },
        _ => true,
    }
}

/// Checks fields, operators and values of an expanded condition.
pub fn check(e: &Expr, problems: &mut Vec<Problem>) {
    e.walk(&mut |n| match &n.kind {
        ExprKind::Exists(o) => {
            operand_type(o, problems);
        }
        ExprKind::Compare { lhs, op, rhs } => {
            let Some(ty) = operand_type(lhs, problems) else {
                return;
            };
            if !op_allowed(ty, *op) {
                let msg = format!(
                    "Operator '{op}' is not supported by field {} of type {}",
                    lhs.field(),
                    ty.name()
                );
                problems.push((n.span, ProblemKind::Other(msg)));
                return;
            }
            let values: &[Value] = match rhs {
                Rhs::Value(v) => std::slice::from_ref(v),
                Rhs::List(v, _) => v,
                Rhs::Field(o) => {
                    operand_type(o, problems);
                    &[]
                }
            };
            for v in values {
                if !value_ok(ty, &v.text) {
                    let msg = format!(
                        "Value '{}' is not valid for field {} of type {}",
                        v.text,
                        lhs.field(),
                        ty.name()
                    );
                    problems.push((v.span, ProblemKind::Other(msg)));
                }
            }
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_table() {
        let cases = [
            (FieldType::Int64, "-1", true),
            (FieldType::Int64, "x", false),
            (FieldType::Uint32, "-1", false),
            (FieldType::Port, "443", true),
            (FieldType::Bool, "true", true),
            (FieldType::Bool, "yes", false),
            (FieldType::IpAddr, "::1", true),
            (FieldType::IpAddr, "10.0.0.0/8", false),
            (FieldType::IpNet, "10.0.0.0/8", true),
            (FieldType::IpNet, "10.0.0.0/33", false),
            (FieldType::IpNet, "2001:db8::/32", true),
            (FieldType::IpNet, "127.0.0.1", true),
            (FieldType::String, "anything", true),
        ];
        for (ty, text, ok) in cases {
            assert_eq!(value_ok(ty, text), ok, "{ty:?} {text}");
        }
        assert!(op_allowed(FieldType::String, CmpOp::Glob));
        assert!(!op_allowed(FieldType::Int64, CmpOp::Contains));
        assert!(!op_allowed(FieldType::Bool, CmpOp::Lt));
        assert!(op_allowed(FieldType::IpNet, CmpOp::In));
    }
}
