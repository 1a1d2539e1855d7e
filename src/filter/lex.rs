//! The condition lexer: turns condition text into tokens with byte spans.
//!
//! The language is context-sensitive in one place: after a comparison operator
//! a value may be a bare word such as `/etc/shadow` or `<NA>`, which would not
//! lex as an identifier. The parser therefore asks for the next token in a
//! [`Mode`]: `Expr` where identifiers, keywords and operator symbols are
//! expected, `Value` where bare words are.

use super::ast::{CmpOp, SourceId, Span};
use super::error::{Error, ErrorKind};

/// What the parser expects next, which decides how a word is lexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Identifiers, fields, keywords, operator symbols, parentheses.
    Expr,
    /// Values: quoted strings, bare words, parentheses, commas.
    Value,
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// A symbolic comparison operator (`=`, `==`, `!=`, `<`, `<=`, `>`, `>=`).
    Symbol(CmpOp),
    /// An identifier, keyword, word operator or field name, with the
    /// bracketed argument if one follows directly (`proc.aname[2]`).
    Word {
        /// The name.
        text: String,
        /// The text inside `[...]`, if present.
        arg: Option<String>,
    },
    /// A quoted string, unescaped.
    Str(String),
    /// A bare word in value position.
    Bare(String),
    /// End of input.
    Eof,
}

impl TokenKind {
    /// How the token is quoted in error messages, as libsinsp does.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::LParen => "'('".into(),
            TokenKind::RParen => "')'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Symbol(op) => format!("'{op}'"),
            TokenKind::Word { text, arg: None } => format!("'{text}'"),
            TokenKind::Word { text, arg: Some(a) } => format!("'{text}[{a}]'"),
            TokenKind::Str(s) => format!("'\"{s}\"'"),
            TokenKind::Bare(s) => format!("'{s}'"),
            TokenKind::Eof => "end of input".into(),
        }
    }
}

/// A token and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it was written.
    pub span: Span,
}

/// A lexer over one condition text.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    text: &'a str,
    source: SourceId,
    pos: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn is_bare_char(c: u8) -> bool {
    !(c.is_ascii_whitespace() || matches!(c, b'(' | b')' | b',' | b'"' | b'\'' | b'='))
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`, whose spans name `source`.
    pub fn new(text: &'a str, source: SourceId) -> Lexer<'a> {
        Lexer {
            text,
            source,
            pos: 0,
        }
    }

    /// The byte offset of the next unread character.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The text being lexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn err(&self, kind: ErrorKind, start: usize, end: usize) -> Error {
        Error::new(kind, self.span(start, end))
    }

    fn skip_space(&mut self) {
        let b = self.text.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// Returns the next token without consuming it.
    pub fn peek(&self, mode: Mode) -> Result<Token, Error> {
        self.clone().next_token(mode)
    }

    /// Consumes and returns the next token.
    pub fn next_token(&mut self, mode: Mode) -> Result<Token, Error> {
        self.skip_space();
        let b = self.text.as_bytes();
        let start = self.pos;
        let Some(&c) = b.get(start) else {
            return Ok(Token {
                kind: TokenKind::Eof,
                span: self.span(start, start),
            });
        };
        let single = |kind| (kind, start + 1);
        let (kind, end) = match c {
            b'(' => single(TokenKind::LParen),
            b')' => single(TokenKind::RParen),
            b',' => single(TokenKind::Comma),
            b'"' | b'\'' => {
                let (s, end) = self.string(start)?;
                (TokenKind::Str(s), end)
            }
            _ if mode == Mode::Expr => self.expr_token(start)?,
            _ => {
                let mut end = start;
                while end < b.len() && is_bare_char(b[end]) {
                    end += 1;
                }
                if end == start {
                    let ch = self.char_at(start);
                    return Err(self.err(
                        ErrorKind::UnexpectedChar(ch),
                        start,
                        start + ch.len_utf8(),
                    ));
                }
                (TokenKind::Bare(self.text[start..end].to_string()), end)
            }
        };
        self.pos = end;
        Ok(Token {
            kind,
            span: self.span(start, end),
        })
    }

    fn char_at(&self, pos: usize) -> char {
        self.text[pos..].chars().next().unwrap_or('\0')
    }

    fn expr_token(&self, start: usize) -> Result<(TokenKind, usize), Error> {
        let b = self.text.as_bytes();
        let c = b[start];
        let next = b.get(start + 1).copied();
        let sym = |op, len| Ok((TokenKind::Symbol(op), start + len));
        match (c, next) {
            (b'=', Some(b'=')) => return sym(CmpOp::Eq, 2),
            (b'=', _) => return sym(CmpOp::Eq, 1),
            (b'!', Some(b'=')) => return sym(CmpOp::Ne, 2),
            (b'<', Some(b'=')) => return sym(CmpOp::Le, 2),
            (b'<', _) => return sym(CmpOp::Lt, 1),
            (b'>', Some(b'=')) => return sym(CmpOp::Ge, 2),
            (b'>', _) => return sym(CmpOp::Gt, 1),
            _ => {}
        }
        if !is_ident_start(c) {
            let ch = self.char_at(start);
            return Err(self.err(ErrorKind::UnexpectedChar(ch), start, start + ch.len_utf8()));
        }
        let mut end = start + 1;
        loop {
            while end < b.len() && is_ident_char(b[end]) {
                end += 1;
            }
            // A dot continues a field name only when another name part follows.
            if end + 1 < b.len() && b[end] == b'.' && is_ident_char(b[end + 1]) {
                end += 1;
                continue;
            }
            break;
        }
        let text = self.text[start..end].to_string();
        if b.get(end) != Some(&b'[') {
            return Ok((TokenKind::Word { text, arg: None }, end));
        }
        let arg_start = end + 1;
        match self.text[arg_start..].find(']') {
            Some(i) => {
                let arg = self.text[arg_start..arg_start + i].to_string();
                Ok((
                    TokenKind::Word {
                        text,
                        arg: Some(arg),
                    },
                    arg_start + i + 1,
                ))
            }
            None => Err(self.err(ErrorKind::UnterminatedArg, end, self.text.len())),
        }
    }

    /// Lexes a quoted string starting at `start`; returns it unescaped and the
    /// offset after the closing quote.
    fn string(&self, start: usize) -> Result<(String, usize), Error> {
        let quote = self.text.as_bytes()[start] as char;
        let mut out = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            let at = start + 1 + i;
            if c == quote {
                return Ok((out, at + 1));
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                '\\' | '"' | '\'' | '/' => out.push(e),
                'x' => {
                    let hex: String = chars.clone().take(2).map(|(_, c)| c).collect();
                    match u8::from_str_radix(&hex, 16) {
                        Ok(v) if hex.len() == 2 => {
                            chars.nth(1);
                            out.push(v as char);
                        }
                        _ => {
                            return Err(self.err(ErrorKind::BadEscape('x'), at, at + 2));
                        }
                    }
                }
                // Unknown escapes stay as written, backslash included.
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
        }
        Err(self.err(ErrorKind::UnterminatedString, start, self.text.len()))
    }
}

/// Unquotes `text` if it is wholly one quoted string (`"a b"` or `'a b'`), as
/// list items and exception values written with quotes are taken.
pub fn unquote(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'"' | b'\'') {
        return None;
    }
    let lx = Lexer::new(text, 0);
    match lx.string(0) {
        Ok((s, end)) if end == text.len() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, mode: Mode) -> Result<Vec<TokenKind>, ErrorKind> {
        let mut lx = Lexer::new(text, 0);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token(mode).map_err(|e| e.kind)?;
            if t.kind == TokenKind::Eof {
                return Ok(out);
            }
            out.push(t.kind);
        }
    }

    fn w(s: &str) -> TokenKind {
        TokenKind::Word {
            text: s.into(),
            arg: None,
        }
    }

    #[test]
    fn expr_mode_table() {
        let cases: &[(&str, Vec<TokenKind>)] = &[
            ("a and b", vec![w("a"), w("and"), w("b")]),
            (
                "proc.aname[2]=x",
                vec![
                    TokenKind::Word {
                        text: "proc.aname".into(),
                        arg: Some("2".into()),
                    },
                    TokenKind::Symbol(CmpOp::Eq),
                    w("x"),
                ],
            ),
            (
                "a==b!=c<=d>=e<f>g",
                vec![
                    w("a"),
                    TokenKind::Symbol(CmpOp::Eq),
                    w("b"),
                    TokenKind::Symbol(CmpOp::Ne),
                    w("c"),
                    TokenKind::Symbol(CmpOp::Le),
                    w("d"),
                    TokenKind::Symbol(CmpOp::Ge),
                    w("e"),
                    TokenKind::Symbol(CmpOp::Lt),
                    w("f"),
                    TokenKind::Symbol(CmpOp::Gt),
                    w("g"),
                ],
            ),
            (
                "(evt.arg.path, x)",
                vec![
                    TokenKind::LParen,
                    w("evt.arg.path"),
                    TokenKind::Comma,
                    w("x"),
                    TokenKind::RParen,
                ],
            ),
            (
                "'a\\'b' \"c\\\"d\\n\"",
                vec![
                    TokenKind::Str("a'b".into()),
                    TokenKind::Str("c\"d\n".into()),
                ],
            ),
            ("\"\\ \"", vec![TokenKind::Str("\\ ".into())]),
            ("\"\\x41\"", vec![TokenKind::Str("A".into())]),
            (
                "fd.types[]",
                vec![TokenKind::Word {
                    text: "fd.types".into(),
                    arg: Some(String::new()),
                }],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(words(text, Mode::Expr).as_ref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn value_mode_table() {
        let cases: &[(&str, Vec<TokenKind>)] = &[
            ("/etc/shadow", vec![TokenKind::Bare("/etc/shadow".into())]),
            ("<NA>", vec![TokenKind::Bare("<NA>".into())]),
            (
                "(a, -c,\"x y\")",
                vec![
                    TokenKind::LParen,
                    TokenKind::Bare("a".into()),
                    TokenKind::Comma,
                    TokenKind::Bare("-c".into()),
                    TokenKind::Comma,
                    TokenKind::Str("x y".into()),
                    TokenKind::RParen,
                ],
            ),
            ("\\)", vec![TokenKind::Bare("\\".into()), TokenKind::RParen]),
        ];
        for (text, want) in cases {
            assert_eq!(words(text, Mode::Value).as_ref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn error_table() {
        let cases: &[(&str, Mode, ErrorKind, u32)] = &[
            ("\"abc", Mode::Expr, ErrorKind::UnterminatedString, 0),
            ("a and $", Mode::Expr, ErrorKind::UnexpectedChar('$'), 6),
            ("x[1", Mode::Expr, ErrorKind::UnterminatedArg, 1),
            ("\"\\xZZ\"", Mode::Value, ErrorKind::BadEscape('x'), 1),
            ("=", Mode::Value, ErrorKind::UnexpectedChar('='), 0),
        ];
        for (text, mode, kind, at) in cases {
            let mut lx = Lexer::new(text, 0);
            let err = loop {
                match lx.next_token(*mode) {
                    Ok(t) if t.kind == TokenKind::Eof => panic!("no error for {text}"),
                    Ok(_) => continue,
                    Err(e) => break e,
                }
            };
            assert_eq!((&err.kind, err.span.start), (kind, *at), "{text}");
        }
    }

    #[test]
    fn unquote_table() {
        assert_eq!(unquote("\"one string\"").as_deref(), Some("one string"));
        assert_eq!(unquote("'a'").as_deref(), Some("a"));
        assert_eq!(unquote("\"a\" b"), None);
        assert_eq!(unquote("plain"), None);
    }
}
