//! The capture loop: enable the module, hand merged events to a sink until
//! told to stop, disable, drain what is left, and count what was written and
//! dropped.

use std::time::Duration;

use super::mapping::CpuCounters;
use super::merge::Merger;
use super::session::{Backoff, Session};
use super::Error;
use crate::sys::Device;

/// Wait after the disable before the final drain.
const SETTLE: Duration = Duration::from_millis(2);

/// How long a record may take from its stamp to its publication (a clone or
/// execve exit fills for a while; milliseconds under emulation): records of
/// other CPUs stamped later wait this long while a ring is empty. Live
/// consumers (capture, the service) set it on their merger.
pub const REORDER_WINDOW: Duration = Duration::from_millis(20);

/// Most ring snapshots read after capture is disabled.
const DRAIN_ROUNDS: u32 = 64;

/// What a capture loop did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events handed to the sink.
    pub events: u64,
    /// Events of the capturing process itself, left out.
    pub own_events: u64,
    /// Per-CPU counters of the module at the end, in CPU order.
    pub per_cpu: Vec<CpuCounters>,
}

/// Thread id of a record (bytes 8..16 of the header; the reader validated
/// the length).
fn record_tid(data: &[u8]) -> u64 {
    data.get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// Reads one snapshot of every ring into `sink`. Returns the bytes that were
/// waiting (zero if all rings were empty; with records held back by the
/// reorder window, only the bytes read: see [`Merger::ready_bytes`]) and
/// the events passed to the sink.
fn pump<E, F>(
    m: &mut Merger,
    skip_tid: Option<u64>,
    sum: &mut Summary,
    sink: &mut F,
) -> Result<(u64, u64), E>
where
    E: From<Error>,
    F: FnMut(u16, &[u8]) -> Result<(), E>,
{
    let bytes = m.refill()?;
    let before = sum.events;
    while let Some(ev) = m.next_event()? {
        if skip_tid.is_some_and(|t| t == record_tid(ev.data)) {
            sum.own_events += 1;
            continue;
        }
        sink(ev.cpu, ev.data)?;
        sum.events += 1;
    }
    m.release();
    Ok((m.ready_bytes(bytes), sum.events - before))
}

/// Enables capture and passes every event, merged across CPUs, to `sink`
/// (CPU, event bytes) until `stop` returns true; then disables capture,
/// drains the rings and reads the module's counters. Events of thread
/// `skip_tid` (the capturing process) are left out: writing them would make
/// the capture feed itself.
pub fn run<D, E, F>(
    session: &mut Session<D>,
    skip_tid: Option<u64>,
    mut stop: impl FnMut() -> bool,
    mut sink: F,
) -> Result<Summary, E>
where
    D: Device,
    E: From<Error>,
    F: FnMut(u16, &[u8]) -> Result<(), E>,
{
    let mut sum = Summary::default();
    let mut backoff = Backoff::default();
    session.merger().set_reorder_window(REORDER_WINDOW);
    session.enable()?;
    let looped = (|| {
        while !stop() {
            let (waiting, _) = pump(session.merger(), skip_tid, &mut sum, &mut sink)?;
            backoff.pace(waiting);
        }
        Ok::<(), E>(())
    })();
    // Disable even if the loop failed, so the module stops filling rings.
    let disabled = session.disable();
    looped?;
    disabled?;
    // Probes that saw capture enabled just before the disable may still be
    // writing; give them a moment to publish.
    std::thread::sleep(SETTLE);
    session.merger().set_reorder_window(Duration::ZERO);
    // Bounded: a producer that kept writing after the disable must not keep
    // the capture from finishing.
    for _ in 0..DRAIN_ROUNDS {
        if pump(session.merger(), skip_tid, &mut sum, &mut sink)?.0 == 0 {
            break;
        }
    }
    sum.per_cpu = match session.stats() {
        Ok(s) => s,
        Err(_) => session.merger().ring_counters(),
    };
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::super::fake::{event, FakeDevice};
    use super::*;

    #[test]
    fn runs_until_stopped_then_drains_and_counts() {
        let mut s = Session::new(FakeDevice::new(2, 4096)).unwrap();
        let mut got: Vec<(u16, u64, u64)> = Vec::new();
        let mut polls = 0;
        let sum = run::<_, Error, _>(
            &mut s,
            Some(99),
            || {
                polls += 1;
                polls > 3
            },
            |cpu, ev| {
                let ts = u64::from_le_bytes(ev[0..8].try_into().unwrap());
                got.push((cpu, ts, record_tid(ev)));
                Ok(())
            },
        );
        let sum = sum.unwrap();
        assert_eq!(sum.events, 0);
        assert!(!s.device().enabled.get());

        // Events published while running, and after the stop before the
        // disable, all arrive; the capturer's own are counted, not written.
        let d = s.device();
        d.cpus[0].push(&event(20, 5, 4, &[b"a"]));
        d.cpus[1].push(&event(10, 6, 4, &[b"b"]));
        d.cpus[1].push(&event(15, 99, 4, &[b"c"]));
        d.cpus[1].count_drop(16);
        let mut stop_now = false;
        let sum = run::<_, Error, _>(
            &mut s,
            Some(99),
            || std::mem::replace(&mut stop_now, true),
            |cpu, ev| {
                let ts = u64::from_le_bytes(ev[0..8].try_into().unwrap());
                got.push((cpu, ts, record_tid(ev)));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got, [(1, 10, 6), (0, 20, 5)]);
        assert_eq!((sum.events, sum.own_events), (2, 1));
        assert_eq!(sum.per_cpu.len(), 2);
        assert_eq!((sum.per_cpu[1].events, sum.per_cpu[1].drops_full), (2, 1));
        for c in &s.device().cpus {
            assert_eq!(c.tail(), c.head());
        }
    }

    /// Records the reorder window holds back do not count as a batch
    /// waiting: the loop sleeps between polls instead of spinning on them.
    #[test]
    fn records_held_by_the_reorder_window_do_not_keep_the_loop_busy() {
        let mut s = Session::new(FakeDevice::new(2, 1 << 20)).unwrap();
        let future = super::super::merge::realtime_ns() + 3_600_000_000_000;
        let payload = [0u8; 1000];
        let mut held = 0;
        while held < 4 * (64 << 10) {
            let e = event(future, 5, 4, &[&payload]);
            assert!(s.device().cpus[0].push(&e));
            held += e.len();
        }
        let mut polls = 0;
        let t0 = std::time::Instant::now();
        let mut during = None;
        let sum = run::<_, Error, _>(
            &mut s,
            None,
            || {
                polls += 1;
                if polls > 5 {
                    during.get_or_insert(t0.elapsed());
                }
                polls > 5
            },
            |_, _| Ok(()),
        )
        .unwrap();
        // Held while running (CPU 1's ring is empty), drained at the end.
        assert!(sum.events > 0);
        // Five polls, each followed by the backoff's sleep: 1 + 2 + 4 + 8
        // ms at least before the fifth ends.
        let during = during.unwrap();
        assert!(during >= std::time::Duration::from_millis(15), "{during:?}");
    }

    #[test]
    fn a_failing_sink_still_disables_capture() {
        let mut s = Session::new(FakeDevice::new(1, 4096)).unwrap();
        s.device().cpus[0].push(&event(1, 1, 4, &[b"a"]));
        let r = run::<_, Error, _>(
            &mut s,
            None,
            || false,
            |_, _| Err(Error::new(super::super::ErrorKind::Corrupt("sink".into()))),
        );
        assert!(r.unwrap_err().to_string().contains("sink"));
        assert!(!s.device().enabled.get());
    }

    #[test]
    fn merged_events_round_trip_through_a_capture_file() {
        use crate::capture::meta::{Metadata, ThreadInfo};
        use crate::capture::{Reader, Writer};
        use crate::event::table::id;

        let mut s = Session::new(FakeDevice::new(2, 8192)).unwrap();
        let fd = 3u64.to_le_bytes();
        let res = 0u64.to_le_bytes();
        let input = [
            (1, event(100, 7, id::SYSCALL_CLOSE_E, &[&fd])),
            (0, event(150, 8, id::SYSCALL_CLOSE_E, &[&fd])),
            (1, event(200, 7, id::SYSCALL_CLOSE_X, &[&res])),
            (0, event(250, 8, id::SYSCALL_CLOSE_X, &[&res])),
        ];
        for (cpu, ev) in &input {
            assert!(s.device().cpus[*cpu].push(ev));
        }
        let meta = Metadata {
            threads: vec![ThreadInfo {
                tid: 7,
                pid: 7,
                comm: "t".into(),
                ..ThreadInfo::default()
            }],
            ..Metadata::default()
        };
        let mut w = Writer::new(Vec::new(), &meta).unwrap();
        let mut stop = false;
        let sum = run::<_, Box<dyn std::error::Error>, _>(
            &mut s,
            None,
            || std::mem::replace(&mut stop, true),
            |cpu, ev| Ok(w.write_event(cpu, ev)?),
        )
        .unwrap();
        assert_eq!(sum.events, 4);
        let bytes = w.finish().unwrap();

        let mut r = Reader::new("mem", &bytes[..]).unwrap();
        assert_eq!(r.metadata().threads, meta.threads);
        let mut got = Vec::new();
        while let Some(ev) = r.next_event().unwrap() {
            got.push((ev.cpu() as usize, ev.raw().to_vec()));
        }
        assert_eq!(got, input);
    }
}
