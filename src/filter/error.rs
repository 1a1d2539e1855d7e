//! Errors of the condition lexer and parser, positioned by byte span.

use std::fmt;

use super::ast::Span;

/// A lex or parse error with the span it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, within the condition text.
    pub span: Span,
}

/// The kinds of lex and parse error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A character that starts no token here.
    UnexpectedChar(char),
    /// A quoted string without its closing quote.
    UnterminatedString,
    /// A field argument `[...` without its closing bracket.
    UnterminatedArg,
    /// An invalid escape sequence inside a quoted string.
    BadEscape(char),
    /// A token the grammar does not allow here.
    Unexpected {
        /// The token found, quoted as in libsinsp messages.
        found: String,
        /// What would have been accepted.
        expected: Vec<&'static str>,
    },
    /// `name(...)` where `name` is not a transformer.
    UnknownTransformer(String),
    /// The condition nests deeper than the parser allows.
    TooDeep,
}

impl Error {
    /// An error of `kind` at `span`.
    pub fn new(kind: ErrorKind, span: Span) -> Error {
        Error { kind, span }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedChar(c) => write!(f, "syntax error, unexpected character '{c}'"),
            ErrorKind::UnterminatedString => {
                f.write_str("syntax error, unterminated quoted string")
            }
            ErrorKind::UnterminatedArg => {
                f.write_str("syntax error, unterminated field argument, expecting ']'")
            }
            ErrorKind::BadEscape(c) => write!(f, "syntax error, invalid escape sequence '\\{c}'"),
            ErrorKind::Unexpected { found, expected } => {
                write!(f, "syntax error, unexpected {found}")?;
                if !expected.is_empty() {
                    write!(f, ", expecting {}", expected.join(", "))?;
                }
                Ok(())
            }
            ErrorKind::UnknownTransformer(n) => {
                write!(f, "syntax error, unknown transformer '{n}'")
            }
            ErrorKind::TooDeep => f.write_str("syntax error, condition nested too deeply"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span.start + 1, self.kind)
    }
}

impl std::error::Error for Error {}
