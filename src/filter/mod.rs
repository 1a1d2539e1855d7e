//! The filter language: lexing, parsing, the field catalog and evaluation.

pub mod ast;
pub mod bind;
pub mod catalog;
mod catalog_table;
pub mod compile;
pub mod error;
pub mod eval;
pub mod evttype;
pub mod fields;
pub mod lex;
pub mod parse;
pub mod print;
pub mod share;
