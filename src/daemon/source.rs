//! Event sources of the daemon: the kernel module's rings (loading the
//! module with modprobe when its device is missing) or a capture file
//! (`-e FILE`), with the state they start from.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::capture::Reader;
use crate::daemon::evaluator::Evaluator;
use crate::event::view::EventView;
use crate::filter::evttype::EvtTypes;
use crate::ring::capture_loop::REORDER_WINDOW;
use crate::ring::session::{open_device, Session};
use crate::ring::{CpuCounters, Interest};
use crate::rules::Loaded;
use crate::state::{procfs, State};
use crate::sys::SakerDevice;

/// What to read events from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// The module's device, with the per-CPU ring size to ask for.
    Live {
        /// The device node.
        device: PathBuf,
        /// Ring bytes per CPU (module parameter), or the module's default.
        ring_bytes: Option<u64>,
    },
    /// A capture file, read to its end.
    File(PathBuf),
}

/// The event types the loaded rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// Some rule is not bounded by event types: everything.
    All,
    /// These event type names. Of the enter and exit events of their
    /// syscalls, the rules are tested only on those in `tested` (event
    /// ids; `None`: on all of them).
    Names {
        /// Event type and syscall names.
        names: BTreeSet<String>,
        /// Event ids some rule is tested on, when known.
        tested: Option<BTreeSet<u16>>,
    },
}

/// What the enabled syscall rules of `rules` need, `ev` being their
/// evaluator: it knows which events they are tested on (a rule on `open`
/// that reads the path and the result is never tested on open's enter
/// event, so the module need not capture it).
pub fn wanted_by(rules: &Loaded, ev: &dyn Evaluator) -> Wanted {
    let mut names = BTreeSet::new();
    for r in rules
        .rules
        .iter()
        .filter(|r| r.enabled && r.source == "syscall")
    {
        match &r.evttypes {
            EvtTypes::Only(n) => names.extend(n.iter().cloned()),
            EvtTypes::AllExcept(_) => return Wanted::All,
        }
    }
    Wanted::Names {
        names,
        tested: ev.tested_events(),
    }
}

/// What the module was asked to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Names the rules use that no syscall of this module produces
    /// (nothing to capture for them).
    pub unmatched: Vec<String>,
    /// Syscalls of which some event is captured.
    pub syscalls: u32,
    /// Events captured, each syscall's enter and exit counted apart.
    pub events: u32,
    /// Whether the enter events are written as their calls return.
    pub late_enter: bool,
}

/// What one poll found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Events were handed over: how many, and the bytes that were waiting
    /// in the rings, less records the reorder window holds back (see
    /// [`crate::ring::merge::Merger::ready_bytes`]; zero for a capture
    /// file).
    Events(u64, u64),
    /// Nothing waiting.
    Idle,
    /// The source has ended (end of a capture file).
    End,
}

/// An open event source.
pub enum Source {
    /// The module's rings.
    Live(Box<Session<SakerDevice>>),
    /// A capture file.
    File(Box<Reader<Box<dyn Read + Send>>>),
}

/// Events handed over per poll of a capture file.
const FILE_BATCH: u64 = 4096;

/// Loads the module if `device` is missing (with `ring_bytes` as its
/// parameter), or sets the parameter of the loaded module for the next open.
/// Waits up to five seconds for the device node.
pub fn ensure_module(device: &Path, ring_bytes: Option<u64>) -> Result<(), String> {
    let param = Path::new("/sys/module/saker/parameters/ring_bytes");
    if device.exists() {
        if let Some(b) = ring_bytes {
            std::fs::write(param, b.to_string())
                .map_err(|e| format!("setting {}: {e}", param.display()))?;
        }
        return Ok(());
    }
    let mut cmd = Command::new("modprobe");
    cmd.arg("saker");
    if let Some(b) = ring_bytes {
        cmd.arg(format!("ring_bytes={b}"));
    }
    let out = cmd.output().map_err(|e| {
        format!(
            "{} is missing and modprobe could not run: {e}",
            device.display()
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "{} is missing and `modprobe saker` failed: {}; is the module built for \
             this kernel? (dkms status saker; install the kernel headers package)",
            device.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let t0 = Instant::now();
    while !device.exists() {
        if t0.elapsed() > Duration::from_secs(5) {
            return Err(format!(
                "the saker module is loaded but {} did not appear",
                device.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

impl Source {
    /// Opens the source and builds the state it starts from: a /proc
    /// snapshot for the live source, the capture's metadata for a file.
    /// Live capture is enabled before the snapshot so no process is missed.
    /// Also returns what the module was asked to capture (nothing for a
    /// file).
    pub fn open(
        spec: &SourceSpec,
        wanted: &Wanted,
    ) -> Result<(Source, State, Option<Captured>), String> {
        match spec {
            SourceSpec::Live { device, ring_bytes } => {
                ensure_module(device, *ring_bytes)?;
                let dev = open_device(device).map_err(|e| e.to_string())?;
                let mut session = Session::new(dev).map_err(|e| e.to_string())?;
                session.merger().set_reorder_window(REORDER_WINDOW);
                let mut source = Source::Live(Box::new(session));
                let captured = source.set_interest(wanted)?;
                if let Source::Live(session) = &source {
                    session.enable().map_err(|e| e.to_string())?;
                }
                let meta = procfs::snapshot().map_err(|e| format!("/proc snapshot: {e}"))?;
                Ok((source, State::from_metadata(&meta), captured))
            }
            SourceSpec::File(path) => {
                let reader = Reader::open(path).map_err(|e| e.to_string())?;
                let state = State::from_metadata(reader.metadata());
                Ok((Source::File(Box::new(reader)), state, None))
            }
        }
    }

    /// Tells the module to capture what `wanted` names plus what state
    /// tracking needs, the enter events written as their calls return (no
    /// probe on syscall entry: see [`Interest::late_enter`]), and says what
    /// that is. A file source has nothing to set.
    pub fn set_interest(&mut self, wanted: &Wanted) -> Result<Option<Captured>, String> {
        let Source::Live(session) = self else {
            return Ok(None);
        };
        let map = session.syscall_map().map_err(|e| e.to_string())?;
        let (interest, unmatched) = match wanted {
            Wanted::All => (Interest::all(), Vec::new()),
            Wanted::Names { names, tested } => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let (mut i, unmatched) =
                    Interest::from_names(&names, &map).map_err(|e| e.to_string())?;
                if let Some(t) = tested {
                    i = i.keep_events(&map, |e| t.contains(&e));
                }
                (i.union(&Interest::state_tracking(&map)), unmatched)
            }
        };
        let interest = interest.late_enter();
        session.set_interest(&interest).map_err(|e| e.to_string())?;
        Ok(Some(Captured {
            unmatched,
            syscalls: interest.syscall_count(),
            events: interest.event_count(),
            late_enter: interest.has_late_enter(),
        }))
    }

    /// Hands waiting events to `f`, in order.
    pub fn poll(&mut self, f: &mut dyn FnMut(&EventView<'_>)) -> Result<Poll, String> {
        match self {
            Source::Live(session) => {
                let m = session.merger();
                let bytes = m.refill().map_err(|e| e.to_string())?;
                let mut n = 0;
                while let Some(ev) = m.next_event().map_err(|e| e.to_string())? {
                    if let Ok(view) = EventView::new(ev.data, ev.cpu, 0) {
                        f(&view);
                    }
                    n += 1;
                }
                m.release();
                Ok(if bytes == 0 {
                    Poll::Idle
                } else {
                    Poll::Events(n, m.ready_bytes(bytes))
                })
            }
            Source::File(reader) => {
                let mut n = 0;
                while n < FILE_BATCH {
                    match reader.next_event().map_err(|e| e.to_string())? {
                        Some(view) => f(&view),
                        None => {
                            return Ok(if n == 0 {
                                Poll::End
                            } else {
                                Poll::Events(n, 0)
                            })
                        }
                    }
                    n += 1;
                }
                Ok(Poll::Events(n, 0))
            }
        }
    }

    /// The module's per-CPU counters (live source only).
    pub fn counters(&self) -> Option<Vec<CpuCounters>> {
        match self {
            Source::Live(session) => session.stats().ok(),
            Source::File(_) => None,
        }
    }

    /// Stops live capture (events already in the rings can still be read,
    /// all of them: the reorder window no longer holds any back).
    pub fn stop(&mut self) {
        if let Source::Live(session) = self {
            let _ = session.disable();
            session.merger().set_reorder_window(Duration::ZERO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_file_source_reads_to_its_end() {
        let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/traces");
        let Some(path) = std::fs::read_dir(trace).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "scap"))
        }) else {
            eprintln!("skipped: no traces in {trace} (the shared reference captures)");
            return;
        };
        let (mut src, _state, captured) =
            Source::open(&SourceSpec::File(path.clone()), &Wanted::All).unwrap();
        assert_eq!(captured, None);
        let mut events = 0u64;
        loop {
            match src.poll(&mut |_| events += 1).unwrap() {
                Poll::End => break,
                Poll::Events(n, _) => assert!(n > 0),
                Poll::Idle => panic!("a file is never idle"),
            }
        }
        assert!(events > 0, "{}", path.display());
        assert!(src.counters().is_none());
    }

    #[test]
    fn rules_name_the_event_types_they_need() {
        use crate::event::table::id;
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let tested = |t: &[u16]| Some(t.iter().copied().collect::<BTreeSet<_>>());
        let cases: &[(&str, Wanted)] = &[
            // fd.name has no value on open's enter event (the descriptor
            // does not exist yet): that rule is tested on the exits only;
            // the other rule on both events of its types.
            (
                "- rule: a\n  desc: d\n  condition: evt.type = open and fd.name = /x\n  output: o\n  priority: INFO\n\
                 - rule: b\n  desc: d\n  condition: evt.type in (execve, connect)\n  output: o\n  priority: INFO\n",
                Wanted::Names {
                    names: names(&["connect", "execve", "open"]),
                    // (a generic event may stand for these syscalls)
                    tested: tested(&[
                        id::GENERIC_E,
                        id::GENERIC_X,
                        id::SYSCALL_OPEN_X,
                        id::SOCKET_CONNECT_E,
                        id::SOCKET_CONNECT_X,
                        id::SYSCALL_EXECVE_8_E,
                        id::SYSCALL_EXECVE_8_X,
                        id::SYSCALL_EXECVE_13_E,
                        id::SYSCALL_EXECVE_13_X,
                        id::SYSCALL_EXECVE_14_E,
                        id::SYSCALL_EXECVE_14_X,
                        id::SYSCALL_EXECVE_15_E,
                        id::SYSCALL_EXECVE_15_X,
                        id::SYSCALL_EXECVE_16_E,
                        id::SYSCALL_EXECVE_16_X,
                        id::SYSCALL_EXECVE_17_E,
                        id::SYSCALL_EXECVE_17_X,
                        id::SYSCALL_EXECVE_18_E,
                        id::SYSCALL_EXECVE_18_X,
                        id::SYSCALL_EXECVE_19_E,
                        id::SYSCALL_EXECVE_19_X,
                    ]),
                },
            ),
            (
                "- rule: a\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  enabled: false\n",
                Wanted::Names {
                    names: BTreeSet::new(),
                    tested: tested(&[]),
                },
            ),
            (
                "- rule: a\n  desc: d\n  condition: proc.name = cat\n  output: o\n  priority: INFO\n",
                Wanted::All,
            ),
        ];
        for (text, wanted) in cases {
            let mut l = crate::rules::Loader::new();
            l.load_str("r.yaml", text);
            let loaded = l.finish();
            assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
            let ev = crate::daemon::evaluator::for_rules(&loaded, "h", 1);
            assert_eq!(&wanted_by(&loaded, ev.as_ref()), wanted, "{text}");
        }
    }

    #[test]
    fn missing_inputs_are_errors() {
        let e = Source::open(&SourceSpec::File("/nonexistent.scap".into()), &Wanted::All).err();
        assert!(e.unwrap().contains("/nonexistent.scap"));
        // Without the module (and modprobe unable to load it here), the
        // live source says what to do.
        let dev = PathBuf::from("/nonexistent/saker");
        let e = ensure_module(&dev, None).unwrap_err();
        assert!(e.contains("/nonexistent/saker is missing"), "{e}");
    }
}
