//! Output formats as `sysdig -p` takes them: literal text with `%field`
//! substitutions, a leading `*` to print events whose fields lack values.

use std::fmt;

use crate::filter::fields::{self, Ctx, Field};

/// sysdig's default line format.
pub const DEFAULT_FORMAT: &str =
    "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info";

/// Why a format does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// `%` not followed by a known field name.
    UnknownField(String),
}

/// A format error with its byte position in the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// What is wrong.
    pub kind: FormatErrorKind,
    /// Byte offset in the format string.
    pub pos: usize,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FormatErrorKind::UnknownField(s) => {
                write!(f, "position {}: unknown field in format: %{s}", self.pos)
            }
        }
    }
}

impl std::error::Error for FormatError {}

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Field(&'static Field, String),
}

/// A parsed output format.
#[derive(Debug, Clone)]
pub struct Format {
    pieces: Vec<Piece>,
    require_all: bool,
}

impl Format {
    /// Parses a format.
    pub fn parse(s: &str) -> Result<Format, FormatError> {
        let (body, require_all, base) = match s.strip_prefix('*') {
            Some(rest) => (rest, false, 1),
            None => (s, true, 0),
        };
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < body.len() {
            let rest = &body[i..];
            if let Some(after) = rest.strip_prefix('%') {
                if let Some(tail) = after.strip_prefix('%') {
                    lit.push('%');
                    i += 2;
                    let _ = tail;
                    continue;
                }
                match fields::lookup(after) {
                    Some((f, arg, n)) => {
                        if !lit.is_empty() {
                            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                        }
                        pieces.push(Piece::Field(f, arg.to_string()));
                        i += 1 + n;
                    }
                    None => {
                        let name: String =
                            after.chars().take_while(|c| !c.is_whitespace()).collect();
                        return Err(FormatError {
                            kind: FormatErrorKind::UnknownField(name),
                            pos: base + i,
                        });
                    }
                }
            } else {
                let c = rest.chars().next().unwrap_or_default();
                lit.push(c);
                i += c.len_utf8().max(1);
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Format {
            pieces,
            require_all,
        })
    }

    /// Renders the event into `out` (cleared first). Returns false when a
    /// field has no value and the format requires all of them (no `*`).
    pub fn render(&self, ctx: &Ctx<'_>, out: &mut String) -> bool {
        out.clear();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field(f, arg) => {
                    let mark = out.len();
                    if !(f.extract)(ctx, arg, out) {
                        if self.require_all {
                            return false;
                        }
                        out.truncate(mark);
                        out.push_str("<NA>");
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_literals() {
        let f = Format::parse("*%evt.num (%thread.tid) %evt.arg.name%%").unwrap();
        assert!(!f.require_all);
        let names: Vec<String> = f
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => format!("lit:{s}"),
                Piece::Field(f, a) => format!("{}:{a}", f.name),
            })
            .collect();
        assert_eq!(
            names,
            [
                "evt.num:",
                "lit: (",
                "thread.tid:",
                "lit:) ",
                "evt.arg:name",
                "lit:%"
            ]
        );
    }

    #[test]
    fn rejects_unknown_field() {
        let e = Format::parse("x %nope.x y").unwrap_err();
        assert_eq!(e.pos, 2);
        assert_eq!(e.kind, FormatErrorKind::UnknownField("nope.x".into()));
    }
}
