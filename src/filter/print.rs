//! Prints a condition tree back as condition text that libsinsp-based tools
//! (`sysdig -r FILE "FILTER"`) accept: every nested boolean node is put in
//! parentheses and values are quoted whenever a bare word would not lex back.
//!
//! [`print_legacy`] writes the dialect of older libsinsp (sysdig 0.29), which
//! lacks `intersects` and empty lists; its rewrites keep the meaning for the
//! single-valued fields such versions have.

use super::ast::{CmpOp, Expr, ExprKind, Operand, Rhs, Value};

/// The condition text of `e`.
pub fn print(e: &Expr) -> String {
    let mut out = String::new();
    expr(e, &mut out, false);
    out
}

/// The condition text of `e` for older libsinsp: `x intersects (...)` is
/// written `x in (...)`, and `x in ()` (never true) as
/// `(x exists and not x exists)`.
pub fn print_legacy(e: &Expr) -> String {
    let mut out = String::new();
    expr(e, &mut out, true);
    out
}

fn expr(e: &Expr, out: &mut String, legacy: bool) {
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
                nested(item, out, legacy);
            }
        }
        ExprKind::Not(inner) => {
            out.push_str("not ");
            nested(inner, out, legacy);
        }
        ExprKind::Macro(name) => out.push_str(name),
        ExprKind::Exists(o) => {
            operand(o, out);
            out.push_str(" exists");
        }
        ExprKind::Compare { lhs, op, rhs } => compare(lhs, *op, rhs, out, legacy),
    }
}

fn compare(lhs: &Operand, op: CmpOp, rhs: &Rhs, out: &mut String, legacy: bool) {
    if legacy && matches!(rhs, Rhs::List(items, _) if items.is_empty()) {
        let mut f = String::new();
        operand(lhs, &mut f);
        out.push_str(&format!("({f} exists and not {f} exists)"));
        return;
    }
    let op = if legacy && op == CmpOp::Intersects {
        CmpOp::In
    } else {
        op
    };
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

fn nested(e: &Expr, out: &mut String, legacy: bool) {
    if matches!(
        e.kind,
        ExprKind::And(_) | ExprKind::Or(_) | ExprKind::Not(_)
    ) {
        out.push('(');
        expr(e, out, legacy);
        out.push(')');
    } else {
        expr(e, out, legacy);
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

/// Writes `s` bare when it lexes back as one bare word, else double-quoted
/// with `"`, `'` and `\` escaped (older libsinsp ends a double-quoted string
/// at an unescaped single quote).
pub fn quote_into(s: &str, out: &mut String) {
    if is_bare(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
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
            "proc.args in (\"it's\", 'say \"hi\"')",
        ];
        for src in cases {
            let e = parse(src, 0).unwrap();
            let printed = print(&e);
            let again = parse(&printed, 0).unwrap_or_else(|err| panic!("{printed}: {err}"));
            assert_eq!(print(&again), printed, "{src}");
        }
    }

    #[test]
    fn legacy_table() {
        let cases = [
            ("proc.args intersects (-V, -l)", "proc.args in (-V, -l)"),
            ("fd.sip in ()", "(fd.sip exists and not fd.sip exists)"),
            (
                "not fd.sip in () and proc.name = \"it's\"",
                "(not (fd.sip exists and not fd.sip exists)) and proc.name = \"it\\'s\"",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(print_legacy(&parse(src, 0).unwrap()), want, "{src}");
        }
    }
}
