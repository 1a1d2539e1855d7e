//! Errors of reading and writing capture files: what went wrong, in which file
//! and at which byte offset.

use std::fmt;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An I/O error of the underlying file or stream.
    Io(std::io::Error),
    /// The file does not start with a section header block.
    NotScap,
    /// The section header has a byte-order magic other than 0x1A2B3C4D.
    BadMagic(u32),
    /// The section header has a major version this reader does not know.
    UnsupportedVersion(u16, u16),
    /// The stream ended inside a block.
    Truncated(&'static str),
    /// A block length below the minimum, not a multiple of 4, or too large.
    BadBlockLength(u32),
    /// A block's trailer does not repeat its header length.
    TrailerMismatch {
        /// Length in the header.
        header: u32,
        /// Length in the trailer.
        trailer: u32,
    },
    /// A metadata block's contents do not fit its length or are inconsistent.
    BadMetadata(&'static str),
    /// An event's header or parameter lengths do not fit its block.
    BadEvent(&'static str),
    /// A block that may not appear where it does.
    UnexpectedBlock(u32),
    /// The writer was given bad input.
    Invalid(&'static str),
}

/// An error of a capture file, with the file name and byte offset of the
/// block (or field) that caused it.
#[derive(Debug)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// File name (or a description of the stream).
    pub file: String,
    /// Byte offset in the (uncompressed) stream.
    pub offset: u64,
}

impl Error {
    /// A new error.
    pub fn new(kind: ErrorKind, file: impl Into<String>, offset: u64) -> Self {
        Error {
            kind,
            file: file.into(),
            offset,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(e) => write!(f, "I/O error: {e}"),
            ErrorKind::NotScap => f.write_str("not a scap capture (no section header block)"),
            ErrorKind::BadMagic(m) => write!(f, "bad byte-order magic {m:#010x}"),
            ErrorKind::UnsupportedVersion(ma, mi) => {
                write!(f, "unsupported capture version {ma}.{mi}")
            }
            ErrorKind::Truncated(what) => write!(f, "truncated {what}"),
            ErrorKind::BadBlockLength(l) => write!(f, "bad block length {l}"),
            ErrorKind::TrailerMismatch { header, trailer } => write!(
                f,
                "block trailer {trailer} does not match block length {header}"
            ),
            ErrorKind::BadMetadata(what) => write!(f, "malformed {what}"),
            ErrorKind::BadEvent(what) => write!(f, "malformed event: {what}"),
            ErrorKind::UnexpectedBlock(t) => write!(f, "unexpected block type {t:#x}"),
            ErrorKind::Invalid(what) => write!(f, "invalid input: {what}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: offset {}: {}", self.file, self.offset, self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
