//! Prints a condition tree back as condition text that libsinsp-based tools
//! (`sysdig -r FILE "FILTER"`) accept: every nested boolean node is put in
//! parentheses and values are quoted whenever a bare word would not lex back.

use super::ast::{Expr, ExprKind, Operand, Rhs, Value};

/// The condition text of `e`.
pub fn print(e: &Expr) -> String {
    let mut out = String::new();
    expr(e, &mut out);
    out
}

fn expr(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => {
            let sep = if matches!(e.kind, ExprKind::And(_)) {
                " and "
            } else {
                " or "
            };
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                nested(item, out);
            }
        }
        ExprKind::Not(inner) => {
            out.push_str("not ");
            nested(inner, out);
        }
        ExprKind::Macro(name) => out.push_str(name),
        ExprKind::Exists(o) => {
            operand(o, out);
            out.push_str(" exists");
        }
        ExprKind::Compare { lhs, op, rhs } => {
            operand(lhs, out);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            match rhs {
                Rhs::Value(v) if op.takes_list() => {
                    out.push('(');
                    value(v, out);
                    out.push(')');
                }
                Rhs::Value(v) => value(v, out),
                Rhs::List(items, _) => {
                    out.push('(');
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        value(v, out);
                    }
                    out.push(')');
                }
                Rhs::Field(o @ Operand::Field(_)) => {
                    out.push_str("val(");
                    operand(o, out);
                    out.push(')');
                }
                Rhs::Field(o) => operand(o, out),
            }
        }
    }
}

fn nested(e: &Expr, out: &mut String) {
    if matches!(
        e.kind,
        ExprKind::And(_) | ExprKind::Or(_) | ExprKind::Not(_)
    ) {
        out.push('(');
        expr(e, out);
        out.push(')');
    } else {
        expr(e, out);
    }
}

/// Writes an operand (`tolower(proc.name)`, `proc.aname[2]`).
pub fn operand(o: &Operand, out: &mut String) {
    match o {
        Operand::Field(f) => out.push_str(&f.to_string()),
        Operand::Transform { func, arg, .. } => {
            out.push_str(func.name());
            out.push('(');
            operand(arg, out);
            out.push(')');
        }
    }
}

fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && !matches!(s, "and" | "or" | "not")
        && s.bytes().all(|c| {
            !(c.is_ascii_whitespace()
                || matches!(c, b'(' | b')' | b',' | b'"' | b'\'' | b'=' | b'\\'))
        })
}

/// Writes a value, bare when it can be, else double-quoted with escapes.
pub fn value(v: &Value, out: &mut String) {
    quote_into(&v.text, out);
}

/// Writes `s` bare when it lexes back as one bare word, else double-quoted.
pub fn quote_into(s: &str, out: &mut String) {
    if is_bare(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse::parse;

    #[test]
    fn round_trip_table() {
        let cases = [
            "proc.cmdline contains \"a \\\"b\\\" \\\\c\"",
            "fd.name in (\"/a b\", /c, \"x,y\", \"\")",
            "(a or b) and not (c and d)",
            "proc.args endswith \"\\\\\"",
        ];
        for src in cases {
            let e = parse(src, 0).unwrap();
            let printed = print(&e);
            let again = parse(&printed, 0).unwrap_or_else(|err| panic!("{printed}: {err}"));
            assert_eq!(print(&again), printed, "{src}");
        }
    }
}
