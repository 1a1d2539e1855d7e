//! Replaying a capture through the state and printing each event with a
//! format, as `sysdig -r FILE -p FORMAT` does.

use std::fmt;
use std::io::{self, Read, Write};

use super::format::Format;
use crate::capture::{self, Reader};
use crate::event::schema::Category;
use crate::event::table::id;
use crate::event::view::EventView;
use crate::filter::fields::Ctx;
use crate::state::State;

/// Why a dump stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum DumpError {
    /// The capture is malformed or unreadable.
    Capture(capture::Error),
    /// Writing the output failed.
    Io(io::Error),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Capture(e) => e.fmt(f),
            DumpError::Io(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl std::error::Error for DumpError {}

/// Counts of a dump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpStats {
    /// Events read (as `evt.num` counts them).
    pub events: u64,
    /// Lines printed.
    pub printed: u64,
}

/// Event numbering, state updates and sysdig's visibility rules for a
/// replayed capture.
pub struct Replay {
    /// The state.
    pub state: State,
    num: u64,
    leading: bool,
    transient: Option<String>,
}

impl Replay {
    /// A replay starting from a capture's metadata.
    pub fn new(meta: &capture::meta::Metadata) -> Replay {
        Replay {
            state: State::from_metadata(meta),
            num: 0,
            leading: true,
            transient: None,
        }
    }

    /// Applies one event; returns its context if sysdig would show it
    /// (internal events and the container events before the first other
    /// event are counted but not shown).
    pub fn step<'a>(&'a mut self, e: &'a EventView<'a>) -> Option<Ctx<'a>> {
        self.num += 1;
        let ty = e.event_type();
        let container = ty == id::CONTAINER_JSON_E || ty == id::CONTAINER_JSON_2_E;
        let hidden_leading = self.leading && container;
        if !container {
            self.leading = false;
        }
        if hidden_leading {
            // Consumed when the capture is opened, before any other event:
            // not printed, but the container it describes is known.
            self.state.record_container(e);
            return None;
        }
        let efd = self.state.update(e);
        self.transient = efd.transient;
        if e.info().is_some_and(|i| i.category == Category::Internal) {
            return None;
        }
        Some(Ctx::new(
            e,
            self.num,
            &self.state,
            efd.fd,
            self.transient.as_deref(),
        ))
    }
}

/// Prints every visible event of `reader` with `format`, one line each.
pub fn dump<R: Read, W: Write>(
    reader: &mut Reader<R>,
    format: &Format,
    out: &mut W,
) -> Result<DumpStats, DumpError> {
    dump_filtered(reader, format, &mut |_| true, out)
}

/// Like [`dump`], printing only the events `keep` accepts (a filter).
pub fn dump_filtered<R: Read, W: Write>(
    reader: &mut Reader<R>,
    format: &Format,
    keep: &mut dyn FnMut(&Ctx<'_>) -> bool,
    out: &mut W,
) -> Result<DumpStats, DumpError> {
    let mut replay = Replay::new(reader.metadata());
    let mut line = String::with_capacity(256);
    let mut stats = DumpStats::default();
    while let Some(e) = reader.next_event().map_err(DumpError::Capture)? {
        stats.events += 1;
        let Some(ctx) = replay.step(&e) else {
            continue;
        };
        if keep(&ctx) && format.render(&ctx, &mut line) {
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(DumpError::Io)?;
            stats.printed += 1;
        }
    }
    out.flush().map_err(DumpError::Io)?;
    Ok(stats)
}
