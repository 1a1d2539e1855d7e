//! The condition parser: recursive descent over [`Lexer`] tokens into an
//! [`Expr`], with libsinsp's precedence (`not` over `and` over `or`).
//!
//! ```text
//! or    := and ('or' and)*
//! and   := not ('and' not)*
//! not   := 'not' not | prim
//! prim  := '(' or ')' | NAME                         -- macro reference
//!        | operand 'exists' | operand OP rhs
//! operand := TRANSFORMER '(' operand ')' | FIELD
//! rhs   := '(' [value (',' value)*] ')' | 'val' '(' operand ')' | value
//! ```

use super::ast::{
    CmpOp, Expr, ExprKind, FieldRef, Operand, Rhs, SourceId, Span, Transformer, Value,
};
use super::error::{Error, ErrorKind};
use super::lex::{Lexer, Mode, Token, TokenKind};

/// How deep parentheses, `not` and transformers may nest.
pub const MAX_DEPTH: usize = 100;

/// Parses a whole condition; `source` tags every span.
pub fn parse(text: &str, source: SourceId) -> Result<Expr, Error> {
    let mut p = Parser {
        lx: Lexer::new(text, source),
        depth: 0,
    };
    let e = p.or_expr()?;
    let t = p.lx.next_token(Mode::Expr)?;
    if t.kind != TokenKind::Eof {
        return Err(unexpected(&t, &["'or'", "'and'"]));
    }
    Ok(e)
}

/// Parses one operand (a field, possibly inside transformers), as exception
/// field names and output fields are written.
pub fn parse_operand(text: &str, source: SourceId) -> Result<Operand, Error> {
    let mut p = Parser {
        lx: Lexer::new(text, source),
        depth: 0,
    };
    let t = p.lx.next_token(Mode::Expr)?;
    let o = p.operand(t)?;
    let t = p.lx.next_token(Mode::Expr)?;
    if t.kind != TokenKind::Eof {
        return Err(unexpected(&t, &["end of input"]));
    }
    Ok(o)
}

struct Parser<'a> {
    lx: Lexer<'a>,
    depth: usize,
}

fn unexpected(t: &Token, expected: &[&'static str]) -> Error {
    Error::new(
        ErrorKind::Unexpected {
            found: t.kind.describe(),
            expected: expected.to_vec(),
        },
        t.span,
    )
}

fn is_keyword(t: &Token, kw: &str) -> bool {
    matches!(&t.kind, TokenKind::Word { text, arg: None } if text == kw)
}

impl Parser<'_> {
    fn enter(&mut self, span: Span) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep, span));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, Error> {
        self.chain("or", Self::and_expr, ExprKind::Or)
    }

    fn and_expr(&mut self) -> Result<Expr, Error> {
        self.chain("and", Self::not_expr, ExprKind::And)
    }

    fn chain(
        &mut self,
        kw: &str,
        next: fn(&mut Self) -> Result<Expr, Error>,
        make: fn(Vec<Expr>) -> ExprKind,
    ) -> Result<Expr, Error> {
        let first = next(self)?;
        if !is_keyword(&self.lx.peek(Mode::Expr)?, kw) {
            return Ok(first);
        }
        let mut span = first.span;
        let mut items = vec![first];
        while is_keyword(&self.lx.peek(Mode::Expr)?, kw) {
            self.lx.next_token(Mode::Expr)?;
            let e = next(self)?;
            span = span.to(e.span);
            items.push(e);
        }
        Ok(Expr {
            kind: make(items),
            span,
        })
    }

    fn not_expr(&mut self) -> Result<Expr, Error> {
        let t = self.lx.next_token(Mode::Expr)?;
        if is_keyword(&t, "not") {
            self.enter(t.span)?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            let span = t.span.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.primary(t)
    }

    fn primary(&mut self, t: Token) -> Result<Expr, Error> {
        match &t.kind {
            TokenKind::LParen => {
                self.enter(t.span)?;
                let inner = self.or_expr()?;
                let close = self.lx.next_token(Mode::Expr)?;
                if close.kind != TokenKind::RParen {
                    return Err(unexpected(&close, &["'or'", "'and'", "')'"]));
                }
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Word { text, arg: None }
                if !text.contains('.')
                    && !matches!(text.as_str(), "and" | "or" | "not")
                    && self.lx.peek(Mode::Expr)?.kind != TokenKind::LParen =>
            {
                Ok(Expr {
                    kind: ExprKind::Macro(text.clone()),
                    span: t.span,
                })
            }
            TokenKind::Word { text, .. } if !matches!(text.as_str(), "and" | "or" | "not") => {
                self.check(t)
            }
            _ => Err(unexpected(&t, &["'('", "'not'", "a field", "a macro name"])),
        }
    }

    fn operand(&mut self, t: Token) -> Result<Operand, Error> {
        let TokenKind::Word { text, arg } = &t.kind else {
            return Err(unexpected(&t, &["a field"]));
        };
        if arg.is_none() && self.lx.peek(Mode::Expr)?.kind == TokenKind::LParen {
            let func = Transformer::from_name(text)
                .ok_or_else(|| Error::new(ErrorKind::UnknownTransformer(text.clone()), t.span))?;
            self.lx.next_token(Mode::Expr)?;
            self.enter(t.span)?;
            let inner_tok = self.lx.next_token(Mode::Expr)?;
            let inner = self.operand(inner_tok)?;
            let close = self.lx.next_token(Mode::Expr)?;
            if close.kind != TokenKind::RParen {
                return Err(unexpected(&close, &["')'"]));
            }
            self.depth -= 1;
            return Ok(Operand::Transform {
                func,
                arg: Box::new(inner),
                span: t.span.to(close.span),
            });
        }
        if !text.contains('.') {
            return Err(unexpected(&t, &["a field"]));
        }
        Ok(Operand::Field(FieldRef {
            name: text.clone(),
            arg: arg.clone(),
            span: t.span,
        }))
    }

    fn check(&mut self, t: Token) -> Result<Expr, Error> {
        let lhs = self.operand(t)?;
        let op_tok = self.lx.next_token(Mode::Expr)?;
        let op = match &op_tok.kind {
            TokenKind::Symbol(op) => *op,
            TokenKind::Word { text, arg: None } if text == "exists" => {
                let span = lhs.span().to(op_tok.span);
                return Ok(Expr {
                    kind: ExprKind::Exists(lhs),
                    span,
                });
            }
            TokenKind::Word { text, arg: None } => match CmpOp::from_str_op(text) {
                Some(op) if op.is_word() => op,
                _ => return Err(unexpected(&op_tok, &["an operator"])),
            },
            _ => return Err(unexpected(&op_tok, &["an operator"])),
        };
        let rhs = self.rhs(op)?;
        let end = match &rhs {
            Rhs::Value(v) => v.span,
            Rhs::List(_, s) => *s,
            Rhs::Field(o) => o.span(),
        };
        let span = lhs.span().to(end);
        Ok(Expr {
            kind: ExprKind::Compare { lhs, op, rhs },
            span,
        })
    }

    fn rhs(&mut self, op: CmpOp) -> Result<Rhs, Error> {
        let t = self.lx.next_token(Mode::Value)?;
        match t.kind {
            TokenKind::LParen if op.takes_list() => self.list(t.span),
            TokenKind::Bare(ref w)
                if self.lx.peek(Mode::Value)?.kind == TokenKind::LParen && !op.takes_list() =>
            {
                let is_val = w == "val";
                if !is_val && Transformer::from_name(w).is_none() {
                    return Err(Error::new(ErrorKind::UnknownTransformer(w.clone()), t.span));
                }
                let word = Token {
                    kind: TokenKind::Word {
                        text: w.clone(),
                        arg: None,
                    },
                    span: t.span,
                };
                if !is_val {
                    return Ok(Rhs::Field(self.operand(word)?));
                }
                self.lx.next_token(Mode::Expr)?;
                let inner_tok = self.lx.next_token(Mode::Expr)?;
                let inner = self.operand(inner_tok)?;
                let close = self.lx.next_token(Mode::Expr)?;
                if close.kind != TokenKind::RParen {
                    return Err(unexpected(&close, &["')'"]));
                }
                Ok(Rhs::Field(inner))
            }
            TokenKind::Str(s) => Ok(Rhs::Value(Value {
                text: s,
                quoted: true,
                span: t.span,
            })),
            TokenKind::Bare(s) => Ok(Rhs::Value(Value {
                text: s,
                quoted: false,
                span: t.span,
            })),
            _ => Err(unexpected(&t, &["a value"])),
        }
    }

    fn list(&mut self, open: Span) -> Result<Rhs, Error> {
        let mut items = Vec::new();
        let mut t = self.lx.next_token(Mode::Value)?;
        if t.kind == TokenKind::RParen {
            return Ok(Rhs::List(items, open.to(t.span)));
        }
        loop {
            match t.kind {
                TokenKind::Str(s) => items.push(Value {
                    text: s,
                    quoted: true,
                    span: t.span,
                }),
                TokenKind::Bare(s) => items.push(Value {
                    text: s,
                    quoted: false,
                    span: t.span,
                }),
                _ => return Err(unexpected(&t, &["a value"])),
            }
            let sep = self.lx.next_token(Mode::Value)?;
            match sep.kind {
                TokenKind::Comma => t = self.lx.next_token(Mode::Value)?,
                TokenKind::RParen => return Ok(Rhs::List(items, open.to(sep.span))),
                _ => return Err(unexpected(&sep, &["','", "')'"])),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::print::print;

    #[test]
    fn precedence_table() {
        // Printing adds parentheses around every nested boolean node, which
        // shows how the parser grouped the input.
        let cases = [
            ("a and b or c", "(a and b) or c"),
            ("a or b and c", "a or (b and c)"),
            ("not a and b", "(not a) and b"),
            ("not a or not b and c", "(not a) or ((not b) and c)"),
            ("not not a", "not (not a)"),
            ("a and (b or c)", "a and (b or c)"),
            ("a and b and c", "a and b and c"),
            ("(a)", "a"),
            (
                "evt.type=open and not proc.name in (cat, \"l s\")",
                "evt.type = open and (not proc.name in (cat, \"l s\"))",
            ),
            (
                "proc.aname[2]=sshd or fd.name exists",
                "proc.aname[2] = sshd or fd.name exists",
            ),
            (
                "tolower(proc.name) = val(proc.pname)",
                "tolower(proc.name) = val(proc.pname)",
            ),
            ("len(basename(fd.name)) > 3", "len(basename(fd.name)) > 3"),
            (
                "proc.name in shell_binaries",
                "proc.name in (shell_binaries)",
            ),
            ("evt.arg.path==\"/tmp\"", "evt.arg.path = /tmp"),
            ("proc.name in ()", "proc.name in ()"),
            (
                "fd.name pmatch (/etc, /usr) and fd.name glob '/a/*'",
                "fd.name pmatch (/etc, /usr) and fd.name glob /a/*",
            ),
        ];
        for (src, want) in cases {
            let e = parse(src, 0).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(print(&e), want, "{src}");
        }
    }

    #[test]
    fn spans_cover_nodes() {
        let src = "evt.type=open and not proc.name=cat";
        let e = parse(src, 7).unwrap();
        let ExprKind::And(items) = &e.kind else {
            panic!()
        };
        assert_eq!((items[0].span.start, items[0].span.end), (0, 13));
        assert_eq!((items[1].span.start, items[1].span.end), (18, 35));
        assert_eq!(items[1].span.source, 7);
        assert_eq!((e.span.start, e.span.end), (0, 35));
    }

    #[test]
    fn error_table() {
        // (condition, message, 1-based position like libsinsp)
        let cases = [
            ("evt.type=execve foo", "syntax error, unexpected 'foo', expecting 'or', 'and'", 17),
            ("evt.type=open bar", "syntax error, unexpected 'bar', expecting 'or', 'and'", 15),
            ("(a and b", "syntax error, unexpected end of input, expecting 'or', 'and', ')'", 9),
            ("a and", "syntax error, unexpected end of input, expecting '(', 'not', a field, a macro name", 6),
            ("proc.name", "syntax error, unexpected end of input, expecting an operator", 10),
            ("proc.name foo x", "syntax error, unexpected 'foo', expecting an operator", 11),
            ("proc.name =", "syntax error, unexpected end of input, expecting a value", 12),
            ("proc.name in (a b)", "syntax error, unexpected 'b', expecting ',', ')'", 17),
            ("proc.name = \"x", "syntax error, unterminated quoted string", 13),
            ("foo(proc.name) = 1", "syntax error, unknown transformer 'foo'", 1),
            ("proc.name = frob(x)", "syntax error, unknown transformer 'frob'", 13),
            ("and", "syntax error, unexpected 'and', expecting '(', 'not', a field, a macro name", 1),
            ("a = b", "syntax error, unexpected '=', expecting 'or', 'and'", 3),
        ];
        for (src, msg, pos) in cases {
            let e = parse(src, 0).expect_err(src);
            assert_eq!(
                (e.kind.to_string().as_str(), e.span.start + 1),
                (msg, pos),
                "{src}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse(&src, 0).unwrap_err().kind, ErrorKind::TooDeep);
        let src = format!("{}a", "not ".repeat(10_000));
        assert_eq!(parse(&src, 0).unwrap_err().kind, ErrorKind::TooDeep);
    }
}
