//! Rule exceptions folded into the condition as Falco does:
//! `(CONDITION) and not (EX1 or EX2 ...)`, where a tuple exception contributes
//! `(f1 c1 v1 and f2 c2 v2)` per value tuple and a single-field exception
//! `field comp (v1, v2, ...)`.

use crate::filter::ast::{CmpOp, Expr, ExprKind, Operand, Rhs, SourceId, Span, Value};
use crate::filter::catalog;
use crate::filter::lex::unquote;
use crate::filter::parse::{parse, parse_operand};

use super::item::ExceptionDef;
use super::yaml::{Node, NodeKind};

/// A rejected exception: the message, worded as Falco words it.
pub type ExceptionError = String;

/// The clause excepting what `ex` lists, or `None` if it lists no values.
/// `source` tags the spans of the generated nodes.
pub fn clause(ex: &ExceptionDef, source: SourceId) -> Result<Option<Expr>, ExceptionError> {
    let span = Span::new(source, 0, 0);
    let name = &ex.name;
    let Some(fields_node) = &ex.fields else {
        return Err(format!(
            "Rule exception item {name}: must have fields property with a list of fields"
        ));
    };
    let (single, field_names): (bool, Vec<&str>) = match &fields_node.kind {
        NodeKind::Scalar(s, _) => (true, vec![s.as_str()]),
        NodeKind::Seq(items) => (false, items.iter().filter_map(Node::as_str).collect()),
        NodeKind::Map(_) => {
            return Err(format!(
                "Rule exception item {name}: must have fields property with a list of fields"
            ))
        }
    };
    let mut fields = Vec::new();
    for f in &field_names {
        let operand = parse_operand(f, source)
            .ok()
            .filter(|o| catalog::lookup(&o.field().name, o.field().arg.as_deref()).is_ok())
            .ok_or_else(|| {
                format!(
                    "Rule exception item {name}: field name {f} is not a supported filter field"
                )
            })?;
        fields.push(operand);
    }
    let comp_names: Vec<String> = match &ex.comps {
        None if single => vec!["in".into()],
        None => vec!["=".into(); fields.len()],
        Some(n) => match &n.kind {
            NodeKind::Scalar(s, _) => vec![s.clone()],
            NodeKind::Seq(items) => items
                .iter()
                .map(|i| i.as_str().unwrap_or("").to_string())
                .collect(),
            NodeKind::Map(_) => vec![String::new()],
        },
    };
    if comp_names.len() != fields.len() {
        return Err(format!(
            "Rule exception item {name}: fields and comps lists must have equal length"
        ));
    }
    let mut comps = Vec::new();
    for c in &comp_names {
        comps.push(CmpOp::from_str_op(c).ok_or_else(|| {
            format!("Rule exception item {name}: comparison operator {c} is not a supported comparison operator")
        })?);
    }
    if ex.values.is_empty() {
        return Ok(None);
    }
    let mut alternatives = Vec::new();
    if single {
        let (field, op) = (&fields[0], comps[0]);
        if op.takes_list() {
            let items = ex
                .values
                .iter()
                .map(|v| scalar_value(v, span))
                .collect::<Option<Vec<_>>>();
            let items = items
                .ok_or_else(|| format!("Rule exception item {name}: values must be strings"))?;
            alternatives.push(compare(field, op, Rhs::List(items, span), span));
        } else {
            for v in &ex.values {
                let rhs = rhs(v, op, span, source)
                    .ok_or_else(|| format!("Rule exception item {name}: values must be strings"))?;
                alternatives.push(compare(field, op, rhs, span));
            }
        }
    } else {
        for tuple in &ex.values {
            let NodeKind::Seq(vals) = &tuple.kind else {
                return Err(format!(
                    "Exception item {name}: fields and values lists must have equal length"
                ));
            };
            if vals.len() != fields.len() {
                return Err(format!(
                    "Exception item {name}: fields and values lists must have equal length"
                ));
            }
            let mut parts = Vec::new();
            for ((field, op), v) in fields.iter().zip(&comps).zip(vals) {
                let rhs = rhs(v, *op, span, source).ok_or_else(|| {
                    format!("Exception item {name}: values must be strings or lists of strings")
                })?;
                parts.push(compare(field, *op, rhs, span));
            }
            alternatives.push(join(parts, ExprKind::And, span));
        }
    }
    Ok(Some(join(alternatives, ExprKind::Or, span)))
}

fn join(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind, span: Span) -> Expr {
    if items.len() == 1 {
        return items.remove(0);
    }
    Expr {
        kind: make(items),
        span,
    }
}

fn compare(field: &Operand, op: CmpOp, rhs: Rhs, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Compare {
            lhs: field.clone(),
            op,
            rhs,
        },
        span,
    }
}

/// A scalar exception value as a list item: quoted inside the YAML string
/// means a literal, otherwise it may name a list.
fn scalar_value(node: &Node, span: Span) -> Option<Value> {
    let s = node.as_str()?;
    Some(match unquote(s) {
        Some(u) => Value {
            text: u,
            quoted: true,
            span,
        },
        None => Value {
            text: s.to_string(),
            quoted: false,
            span,
        },
    })
}

/// The right-hand side for one value of a tuple.
fn rhs(node: &Node, op: CmpOp, span: Span, source: SourceId) -> Option<Rhs> {
    match &node.kind {
        NodeKind::Seq(items) if op.takes_list() => {
            let vals = items
                .iter()
                .map(|i| scalar_value(i, span))
                .collect::<Option<Vec<_>>>()?;
            Some(Rhs::List(vals, span))
        }
        NodeKind::Scalar(s, _) if op.takes_list() && s.trim_start().starts_with('(') => {
            // A parenthesised list written as text: parse it as the
            // right-hand side of a membership test.
            let e = parse(&format!("x.x in {s}"), source).ok()?;
            match e.kind {
                ExprKind::Compare {
                    rhs: Rhs::List(vals, _),
                    ..
                } => Some(Rhs::List(
                    vals.into_iter().map(|v| Value { span, ..v }).collect(),
                    span,
                )),
                _ => None,
            }
        }
        NodeKind::Scalar(..) if op.takes_list() => Some(Rhs::Value(scalar_value(node, span)?)),
        NodeKind::Scalar(s, _) => Some(Rhs::Value(Value {
            text: unquote(s).unwrap_or_else(|| s.clone()),
            quoted: true,
            span,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::print::print;
    use crate::rules::source::Origin;
    use crate::rules::yaml::parse_documents;

    fn ex(yaml: &str) -> ExceptionDef {
        let doc = parse_documents(yaml).unwrap().remove(0);
        ExceptionDef {
            name: doc.get("name").and_then(Node::as_str).unwrap_or("").into(),
            fields: doc.get("fields").cloned(),
            comps: doc.get("comps").cloned(),
            values: match doc.get("values").map(|v| &v.kind) {
                Some(NodeKind::Seq(v)) => v.clone(),
                _ => Vec::new(),
            },
            file: 0,
            at: Origin::of(0, &doc),
        }
    }

    #[test]
    fn clause_table() {
        let cases = [
            (
                "name: a\nfields: [proc.name, fd.name]\nvalues: [[cat, /dev/null], [ls, '\"/a b\"']]",
                Ok(Some("(proc.name = cat and fd.name = /dev/null) or (proc.name = ls and fd.name = \"/a b\")")),
            ),
            ("name: a\nfields: proc.name\nvalues: [cat, ls]", Ok(Some("proc.name in (cat, ls)"))),
            ("name: a\nfields: proc.name\ncomps: startswith\nvalues: [ca, l]", Ok(Some("proc.name startswith ca or proc.name startswith l"))),
            ("name: a\nfields: [proc.name, proc.cmdline]\ncomps: [=, in]\nvalues: [[cat, \'(x, \"y z\")\']]", Ok(Some("proc.name = cat and proc.cmdline in (x, \"y z\")"))),
            ("name: a\nfields: [proc.name, proc.cmdline]\ncomps: [=, in]\nvalues: [[cat, some_list]]", Ok(Some("proc.name = cat and proc.cmdline in (some_list)"))),
            ("name: a\nfields: [proc.name]\n", Ok(None)),
            ("name: ex1\n", Err("Rule exception item ex1: must have fields property with a list of fields")),
            ("name: ex1\nfields: [not.exist]", Err("Rule exception item ex1: field name not.exist is not a supported filter field")),
            ("name: ex1\nfields: [proc.name, fd.filename]\ncomps: [=]", Err("Rule exception item ex1: fields and comps lists must have equal length")),
            ("name: ex1\nfields: [proc.name, fd.filename]\ncomps: [=, no-comp]", Err("Rule exception item ex1: comparison operator no-comp is not a supported comparison operator")),
            ("name: ex1\nfields: [proc.name, fd.filename]\nvalues: [[nginx]]", Err("Exception item ex1: fields and values lists must have equal length")),
        ];
        for (yaml, want) in cases {
            let got = clause(&ex(yaml), 0).map(|o| o.map(|e| print(&e)));
            assert_eq!(
                got,
                want.map(|o| o.map(String::from)).map_err(String::from),
                "{yaml}"
            );
        }
    }
}
