//! The live event source: maps the module's per-CPU rings, reads scap records
//! out of them without copying, merges CPUs by timestamp, tells the module
//! which syscalls to capture, and reports per-CPU event and drop counters.
//!
//! The ordering contract with the kernel is written once at the top of
//! driver/include/uapi/saker_abi.h; each atomic access here names its partner
//! in the module.

pub mod capture_loop;
pub mod interest;
pub mod mapping;
pub mod merge;
pub mod reader;
pub mod session;
mod syscall_names;

#[cfg(test)]
mod fake;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use interest::Interest;
pub use mapping::{CpuCounters, RingMap};
pub use merge::{Event, Merger};
pub use reader::CpuReader;
pub use session::{Backoff, Session};

/// What went wrong in the live source.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The device node does not exist: the module is not loaded.
    DeviceMissing {
        /// Path that was opened.
        path: PathBuf,
    },
    /// Another consumer holds the device open.
    DeviceBusy {
        /// Path that was opened.
        path: PathBuf,
    },
    /// A system call failed.
    Io {
        /// What was being done.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The module speaks another ABI version.
    AbiVersion {
        /// Version the module reports.
        found: u32,
        /// Version this program was built for.
        expected: u32,
    },
    /// GET_INFO returned values the daemon cannot use.
    BadInfo(String),
    /// A ring holds a record that breaks the format: a bad length or a
    /// position outside what the producer published.
    Corrupt(String),
    /// Names given for the interest set that are neither event types nor
    /// syscalls.
    UnknownNames(Vec<String>),
}

/// An error of the live source, with the CPU and ring position it concerns
/// when there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    cpu: Option<u32>,
    pos: Option<u64>,
}

impl Error {
    /// An error without a position.
    pub fn new(kind: ErrorKind) -> Error {
        Error {
            kind,
            cpu: None,
            pos: None,
        }
    }

    /// An error at `pos` (a free-running position) of `cpu`'s ring.
    pub fn at(kind: ErrorKind, cpu: u32, pos: u64) -> Error {
        Error {
            kind,
            cpu: Some(cpu),
            pos: Some(pos),
        }
    }

    pub(crate) fn io(op: &'static str, source: io::Error) -> Error {
        Error::new(ErrorKind::Io { op, source })
    }

    pub(crate) fn with_cpu(mut self, cpu: u32) -> Error {
        self.cpu = Some(cpu);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The CPU whose ring is concerned, if any.
    pub fn cpu(&self) -> Option<u32> {
        self.cpu
    }

    /// The ring position concerned, if any.
    pub fn pos(&self) -> Option<u64> {
        self.pos
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.cpu, self.pos) {
            (Some(c), Some(p)) => write!(f, "cpu {c}, ring position {p}: ")?,
            (Some(c), None) => write!(f, "cpu {c}: ")?,
            _ => {}
        }
        match &self.kind {
            ErrorKind::DeviceMissing { path } => write!(
                f,
                "{} does not exist: load saker.ko (make -C driver; insmod driver/saker.ko)",
                path.display()
            ),
            ErrorKind::DeviceBusy { path } => write!(
                f,
                "{} is busy: another consumer (saker or a capture) has it open",
                path.display()
            ),
            ErrorKind::Io { op, source } => write!(f, "{op}: {source}"),
            ErrorKind::AbiVersion { found, expected } => write!(
                f,
                "saker.ko speaks ABI version {found}, this saker needs {expected}: \
                 rebuild and reload the module from this source tree"
            ),
            ErrorKind::BadInfo(m) => write!(f, "unusable device info: {m}"),
            ErrorKind::Corrupt(m) => write!(f, "corrupt ring: {m}"),
            ErrorKind::UnknownNames(names) => {
                write!(f, "unknown event types or syscalls: {}", names.join(", "))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result of the live source.
pub type Result<T> = std::result::Result<T, Error>;

/// Size a record of `len` bytes takes in the ring (`SAKER_RECORD_SIZE`).
pub fn record_size(len: u64) -> u64 {
    let a = crate::abi::SAKER_RECORD_ALIGN as u64;
    (len + a - 1) & !(a - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sizes_round_up_to_eight() {
        for (len, size) in [(26, 32), (32, 32), (33, 40), (0, 0), (1, 8)] {
            assert_eq!(record_size(len), size, "len {len}");
        }
    }

    #[test]
    fn messages_carry_position_and_hint() {
        let e = Error::new(ErrorKind::DeviceMissing {
            path: "/dev/saker".into(),
        });
        assert!(e.to_string().contains("insmod driver/saker.ko"));
        let e = Error::at(ErrorKind::Corrupt("bad".into()), 3, 4096);
        assert_eq!(
            e.to_string(),
            "cpu 3, ring position 4096: corrupt ring: bad"
        );
        let e = Error::new(ErrorKind::AbiVersion {
            found: 1,
            expected: 2,
        });
        assert!(e.to_string().contains("ABI version 1"));
    }
}
