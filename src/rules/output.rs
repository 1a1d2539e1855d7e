//! Output formats: the `%field` tokens of a rule's `output`, resolved against
//! the field catalog.

use crate::filter::catalog;

/// One `%field` token of an output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the `%`.
    pub offset: usize,
    /// The field as written, argument included (`proc.aname[2]`).
    pub field: String,
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-'
}

/// The `%field` tokens of `format`. The longest prefix of each token that names
/// a field is taken, so `%proc.name.` ends before the dot; a token naming no
/// field comes back whole for the caller to reject.
pub fn tokens(format: &str) -> Vec<Token> {
    let b = format.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < b.len() && is_name_char(b[end]) {
            end += 1;
        }
        if end == start {
            i = start;
            continue;
        }
        while end > start + 1 && b[end - 1] == b'.' {
            end -= 1;
        }
        let mut name = &format[start..end];
        let mut arg = None;
        if b.get(end) == Some(&b'[') {
            if let Some(close) = format[end..].find(']') {
                arg = Some(&format[end + 1..end + close]);
                end += close + 1;
            }
        }
        // Shorten at dots until a field resolves.
        let mut resolved = catalog::lookup(name, arg).is_ok();
        while !resolved && arg.is_none() {
            match name.rfind('.') {
                Some(dot) => {
                    name = &name[..dot];
                    resolved = catalog::lookup(name, None).is_ok();
                }
                None => break,
            }
        }
        let field = if resolved {
            match arg {
                Some(a) => format!("{name}[{a}]"),
                None => name.to_string(),
            }
        } else {
            format[start..end].to_string()
        };
        out.push(Token { offset: i, field });
        i = end;
    }
    out
}

/// Checks every token of `format`; returns the first unknown one.
pub fn check(format: &str) -> Result<(), String> {
    for t in tokens(format) {
        let (name, arg) = match t.field.find('[') {
            Some(p) => (&t.field[..p], Some(t.field[p + 1..].trim_end_matches(']'))),
            None => (t.field.as_str(), None),
        };
        if catalog::lookup(name, arg).is_err() {
            return Err(t.field);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "An open (command=%proc.cmdline file=%fd.name)",
                &["proc.cmdline", "fd.name"],
            ),
            (
                "%proc.aname[2] and %evt.arg.flags.",
                &["proc.aname[2]", "evt.arg.flags"],
            ),
            ("100% sure %container.info", &["container.info"]),
            ("seen %not_a_real_field", &["not_a_real_field"]),
            ("%proc.name.", &["proc.name"]),
        ];
        for (fmt, want) in cases {
            let got: Vec<String> = tokens(fmt).into_iter().map(|t| t.field).collect();
            assert_eq!(&got, want, "{fmt}");
        }
        assert_eq!(
            check("An open was seen %not_a_real_field"),
            Err("not_a_real_field".into())
        );
        assert_eq!(check("ok %user.name %proc.env[HOME]"), Ok(()));
    }
}
