//! Capture files (scap): metadata, reading and writing.

pub mod meta;
