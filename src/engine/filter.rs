//! A standalone filter expression (`saker dump FILE FILTER`, as
//! `sysdig -r FILE FILTER`): parsed, compiled and evaluated per event.

use std::fmt;

use crate::filter::compile::{self, FieldTable, Node};
use crate::filter::error::Error as ParseError;
use crate::filter::eval::{eval, Lazy, Record, Scratch};
use crate::filter::fields::Ctx;
use crate::filter::parse;

/// Why a filter expression does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterError {
    /// It does not parse.
    Parse(ParseError),
    /// It parses but does not compile (every error).
    Compile(Vec<compile::Error>),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Parse(e) => write!(f, "filter: column {e}"),
            FilterError::Compile(es) => {
                let msgs: Vec<String> = es.iter().map(|e| format!("column {e}")).collect();
                write!(f, "filter: {}", msgs.join("; "))
            }
        }
    }
}

impl std::error::Error for FilterError {}

/// A compiled filter with its evaluation buffers.
#[derive(Debug)]
pub struct Filter {
    node: Node,
    table: FieldTable,
    rec: Record,
    scratch: Scratch,
}

impl Filter {
    /// Parses and compiles `text`.
    pub fn new(text: &str) -> Result<Filter, FilterError> {
        let expr = parse::parse(text, 0).map_err(FilterError::Parse)?;
        let mut table = FieldTable::default();
        let node = compile::compile(&expr, &mut table).map_err(FilterError::Compile)?;
        Ok(Filter {
            node,
            table,
            rec: Record::default(),
            scratch: Scratch::default(),
        })
    }

    /// Whether the event passes.
    pub fn matches(&mut self, ctx: &Ctx<'_>) -> bool {
        self.rec.reset(self.table.len());
        let mut lazy = Lazy {
            rec: &mut self.rec,
            table: &self.table,
            ctx,
        };
        eval(&self.node, &mut lazy, &mut self.scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positioned_errors() {
        let cases = [
            ("proc.name = ", "filter: column 13"),
            ("proc.nope = 1", "filter: column 1: nonexistent field"),
            ("proc.pid = x", "filter: column 12: value 'x'"),
        ];
        for (text, want) in cases {
            let e = Filter::new(text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text}: {e}");
        }
        assert!(Filter::new("evt.type in (open, openat) and not proc.name = x").is_ok());
    }
}
