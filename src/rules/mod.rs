//! Rule files: YAML with positions, lists, macros and rules with their
//! appends, overrides and exceptions, compiled into expanded conditions, with
//! every problem reported as a positioned diagnostic.
//!
//! The pipeline per file is yaml → item (decode) → ruleset (merge) → compile
//! (expand, resolve, check); [`load::Loader`] runs it file after file.

pub mod check;
pub mod compile;
pub mod diag;
pub mod exceptions;
pub mod item;
pub mod load;
pub mod output;
pub mod priority;
pub mod ruleset;
pub mod source;
pub mod version;
pub mod yaml;

pub use compile::CompiledRule;
pub use diag::{Diagnostic, Severity};
pub use load::{load_paths, Loaded, Loader};
