//! Capture files (scap): metadata, reading and writing.

pub mod block;
pub mod decode;
pub mod error;
pub mod meta;
pub mod reader;
pub mod writer;

pub use error::{Error, ErrorKind};
pub use reader::Reader;
pub use writer::Writer;

#[cfg(test)]
mod reader_tests;
