//! Merging the CPUs' rings into one stream in timestamp order. Each refill
//! snapshots every ring's head; records up to those heads come out ordered by
//! header timestamp, ties going to the lower CPU (and, within a CPU, in ring
//! order), so equal timestamps keep a stable order.
//!
//! A round ends early when a CPU that had records runs out while others still
//! have some: that CPU may meanwhile have published records older than the
//! others' remaining ones, and the next refill lets them take their place.
//!
//! Records are stamped when their probe starts and published when it ends, so
//! a CPU with nothing published may still be filling an older record. With a
//! reorder window W, a refill that finds some ring empty at real time R holds
//! back records stamped after R - W until a later refill.

use super::reader::CpuReader;
use super::{CpuCounters, Result};

/// CLOCK_REALTIME in nanoseconds, the clock of record timestamps.
pub(crate) fn realtime_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One record handed out by the merger, borrowed from the ring mapping.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// CPU the record came from.
    pub cpu: u16,
    /// Header timestamp.
    pub ts: u64,
    /// The whole scap event (header, lengths, values).
    pub data: &'a [u8],
}

/// Merges the readers of all CPUs.
#[derive(Debug)]
pub struct Merger {
    readers: Vec<CpuReader>,
    /// Bytes read from one ring after which its tail is stored mid-batch.
    release_threshold: u64,
    /// A CPU ran out of records before the others: wait for a refill.
    round_over: bool,
    /// Longest time between a record's stamp and its publication, ns.
    window_ns: u64,
    /// Records stamped after this wait for a later refill.
    cap: u64,
    /// This round stopped at a record stamped after `cap`.
    held: bool,
}

impl Merger {
    /// A merger over `readers`, one per CPU in CPU order.
    pub fn new(readers: Vec<CpuReader>) -> Merger {
        let ring = readers
            .iter()
            .map(|r| r.map().ring_bytes())
            .min()
            .unwrap_or(0);
        Merger {
            readers,
            release_threshold: (ring / 4).max(1),
            round_over: false,
            window_ns: 0,
            cap: u64::MAX,
            held: false,
        }
    }

    /// The per-CPU readers.
    pub fn readers(&self) -> &[CpuReader] {
        &self.readers
    }

    /// The reader of the `i`-th CPU.
    ///
    /// # Panics
    /// If `i` is not below the number of CPUs.
    #[cfg(test)]
    pub(crate) fn reader_mut(&mut self, i: usize) -> &mut CpuReader {
        &mut self.readers[i]
    }

    /// Releases what was read and loads every ring's head. Returns the bytes
    /// now waiting across all CPUs; zero means every ring was empty.
    pub fn refill(&mut self) -> Result<u64> {
        self.round_over = false;
        self.held = false;
        let mut total = 0;
        let mut some_empty = false;
        for r in &mut self.readers {
            let n = r.refill()?;
            some_empty |= n == 0;
            total += n;
        }
        self.cap = if some_empty && self.window_ns > 0 && total > 0 {
            realtime_ns().saturating_sub(self.window_ns)
        } else {
            u64::MAX
        };
        Ok(total)
    }

    /// Sets the reorder window (see the module documentation); zero, the
    /// default, turns it off, as before a final drain.
    pub fn set_reorder_window(&mut self, window: std::time::Duration) {
        self.window_ns = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        if self.window_ns == 0 {
            self.cap = u64::MAX;
        }
    }

    /// Stores every ring's tail up to what was read.
    pub fn release(&mut self) {
        for r in &mut self.readers {
            r.release();
        }
    }

    /// The next record in timestamp order among those published at the last
    /// refill, or `None` when they are all read or the round ended early
    /// (see the module documentation); refill then.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>> {
        if self.round_over {
            return Ok(None);
        }
        let mut best: Option<(usize, u64)> = None;
        for (i, r) in self.readers.iter_mut().enumerate() {
            // The previous event's borrow has ended: bytes before the
            // current position may go back to the producer.
            r.release_if(self.release_threshold);
            if let Some(ts) = r.peek_ts()? {
                if best.is_none_or(|(_, b)| ts < b) {
                    best = Some((i, ts));
                }
            }
        }
        let Some((i, ts)) = best else {
            return Ok(None);
        };
        if ts > self.cap {
            self.held = true;
            return Ok(None);
        }
        if self.readers[i].pending_after_front() == 0 {
            self.round_over = self
                .readers
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.pending() > 0);
        }
        let r = &mut self.readers[i];
        let cpu = u16::try_from(r.cpu()).unwrap_or(u16::MAX);
        Ok(r.next_record()?.map(|data| Event { cpu, ts, data }))
    }

    /// The bytes a consumer pacing its polls (see
    /// [`super::session::Backoff`]) should count as waiting after a round
    /// that began with `waiting` (what [`Merger::refill`] returned): all
    /// of them, unless the reorder window held records back. Those become
    /// readable only as time passes, so polling again at once would find
    /// the same records still held and read only the few that aged
    /// meanwhile: then what the round read.
    pub fn ready_bytes(&self, waiting: u64) -> u64 {
        if self.held {
            let left: u64 = self.readers.iter().map(CpuReader::pending).sum();
            waiting.saturating_sub(left)
        } else {
            waiting
        }
    }

    /// The counters of every CPU's producer page, in CPU order.
    pub fn ring_counters(&self) -> Vec<CpuCounters> {
        self.readers.iter().map(|r| r.map().counters()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{event, event_of_len, FakeDevice};
    use super::super::Session;

    /// Drains what the merger lets out, as (cpu, ts, tag byte), over as
    /// many refills as it takes (bounded: held records stay held).
    fn drain(s: &mut Session<FakeDevice>) -> Vec<(u16, u64, u8)> {
        let m = s.merger();
        let mut out = Vec::new();
        for _ in 0..100 {
            if m.refill().unwrap() == 0 {
                break;
            }
            while let Some(e) = m.next_event().unwrap() {
                out.push((e.cpu, e.ts, e.data[e.data.len() - 1]));
            }
        }
        out
    }

    #[test]
    fn cpus_merge_by_timestamp_with_stable_ties() {
        let mut s = Session::new(FakeDevice::new(3, 4096)).unwrap();
        // (cpu, ts, tag): each CPU's records in ring order.
        let input: &[(usize, u64, u8)] = &[
            (0, 10, 1),
            (0, 30, 2),
            (0, 30, 3),
            (1, 5, 4),
            (1, 30, 5),
            (1, 40, 6),
            (2, 10, 7),
            (2, 20, 8),
            (2, 30, 9),
        ];
        for &(cpu, ts, tag) in input {
            assert!(s.device().cpus[cpu].push(&event(ts, 1, 4, &[&[tag]])));
        }
        let got = drain(&mut s);
        let want = vec![
            (1, 5, 4),
            (0, 10, 1),
            (2, 10, 7),
            (2, 20, 8),
            (0, 30, 2),
            (0, 30, 3),
            (1, 30, 5),
            (2, 30, 9),
            (1, 40, 6),
        ];
        assert_eq!(got, want);
        assert!(drain(&mut s).is_empty());
        for c in &s.device().cpus {
            assert_eq!(c.tail(), c.head());
        }
    }

    #[test]
    fn a_cpu_running_dry_ends_the_round() {
        let mut s = Session::new(FakeDevice::new(2, 4096)).unwrap();
        for (cpu, ts) in [(0, 10), (0, 30), (1, 20), (1, 40), (1, 50)] {
            assert!(s.device().cpus[cpu].push(&event(ts, 1, 4, &[&[ts as u8]])));
        }
        let m = s.merger();
        m.refill().unwrap();
        let mut got = Vec::new();
        while let Some(e) = m.next_event().unwrap() {
            got.push(e.ts);
        }
        // CPU 0 ran dry while CPU 1 still had 40 and 50.
        assert_eq!(got, [10, 20, 30]);
        // CPU 0 publishes a record stamped before CPU 1's remaining ones.
        assert!(s.device().cpus[0].push(&event(35, 1, 4, &[&[35]])));
        let rest: Vec<u64> = drain(&mut s).into_iter().map(|(_, ts, _)| ts).collect();
        assert_eq!(rest, [35, 40, 50]);
    }

    #[test]
    fn the_reorder_window_holds_records_while_a_ring_is_empty() {
        let mut s = Session::new(FakeDevice::new(2, 4096)).unwrap();
        let now = super::realtime_ns();
        let hour = 3_600_000_000_000;
        let d = s.device();
        assert!(d.cpus[0].push(&event(now - hour, 1, 4, &[&[1]])));
        assert!(d.cpus[0].push(&event(now + hour, 1, 4, &[&[2]])));
        let m = s.merger();
        m.set_reorder_window(std::time::Duration::from_millis(10));
        let mut got = Vec::new();
        let mut waiting = 0;
        for _ in 0..3 {
            waiting = m.refill().unwrap();
            while let Some(e) = m.next_event().unwrap() {
                got.push(e.data[e.data.len() - 1]);
            }
        }
        // CPU 1 is empty: the record stamped in the future waits.
        assert_eq!(got, [1]);
        // A consumer's pacing counts what the round read, not the held
        // record: nothing, this last round.
        assert!(waiting > 0);
        assert_eq!(m.ready_bytes(waiting), 0);
        let waiting = m.refill().unwrap();
        assert_eq!(m.ready_bytes(waiting), waiting);
        // Once CPU 1 has a record, its stamp bounds what may go out.
        assert!(s.device().cpus[1].push(&event(now + 2 * hour, 1, 4, &[&[3]])));
        assert_eq!(drain(&mut s), [(0, now + hour, 2)]);
        // Off: everything goes.
        s.merger().set_reorder_window(std::time::Duration::ZERO);
        assert_eq!(drain(&mut s), [(1, now + 2 * hour, 3)]);
    }

    #[test]
    fn empty_rings_yield_nothing() {
        let mut s = Session::new(FakeDevice::new(2, 4096)).unwrap();
        assert_eq!(s.merger().refill().unwrap(), 0);
        assert!(s.merger().next_event().unwrap().is_none());
        s.device().cpus[1].push(&event(9, 1, 4, &[b"x"]));
        assert_eq!(drain(&mut s), vec![(1, 9, b'x')]);
    }

    #[test]
    fn long_batches_release_the_tail_as_they_go() {
        let mut s = Session::new(FakeDevice::new(1, 4096)).unwrap();
        for i in 0..4 {
            assert!(s.device().cpus[0].push(&event_of_len(i, 1024, 0)));
        }
        let m = s.merger();
        m.refill().unwrap();
        m.next_event().unwrap().unwrap();
        m.next_event().unwrap().unwrap();
        // Asking for the third record gives back the first two (1024 bytes
        // each, over a quarter of the ring) while the batch goes on.
        m.next_event().unwrap().unwrap();
        assert_eq!(s.device().cpus[0].tail(), 2048);
        assert!(s.device().cpus[0].push(&event_of_len(9, 1024, 0)));
    }

    #[test]
    fn per_cpu_drop_counters_are_reported_by_cause() {
        let mut s = Session::new(FakeDevice::new(2, 4096)).unwrap();
        let d = s.device();
        d.cpus[0].push(&event(1, 1, 4, &[b"a"]));
        d.cpus[1].count_drop(24);
        d.cpus[1].count_drop(32);
        d.cpus[1].count_drop(32);
        d.cpus[0].count_drop(40);
        let ring = s.merger().ring_counters();
        let stats = s.stats().unwrap();
        assert_eq!(ring, stats);
        assert_eq!(
            (ring[0].events, ring[0].drops_toolarge, ring[0].drops()),
            (1, 1, 1)
        );
        assert_eq!(
            (ring[1].drops_fault, ring[1].drops_reentry, ring[1].drops()),
            (1, 2, 2)
        );
    }

    #[test]
    fn many_wraps_keep_order_and_lose_nothing() {
        const CPUS: usize = 4;
        const PER_ROUND: u64 = 50;
        const ROUNDS: u64 = 400;
        let mut s = Session::new(FakeDevice::new(CPUS as u32, 8192)).unwrap();
        let mut next_ts = 0u64;
        let mut last = 0u64;
        let mut n = 0u64;
        let start = std::time::Instant::now();
        for round in 0..ROUNDS {
            for i in 0..PER_ROUND * CPUS as u64 {
                // Timestamps rise overall; each CPU's stay in ring order.
                next_ts += 1;
                let cpu = ((i * 7 + round) % CPUS as u64) as usize;
                let len = 28 + (i % 13) as usize * 5;
                assert!(s.device().cpus[cpu].push(&event_of_len(next_ts, len, 1)));
            }
            let m = s.merger();
            while m.refill().unwrap() > 0 {
                while let Some(e) = m.next_event().unwrap() {
                    assert!(e.ts > last, "ts {} after {last}", e.ts);
                    last = e.ts;
                    n += 1;
                }
            }
        }
        assert_eq!(n, ROUNDS * PER_ROUND * CPUS as u64);
        assert_eq!(last, next_ts);
        let c = s.merger().ring_counters();
        assert_eq!(c.iter().map(|c| c.drops()).sum::<u64>(), 0);
        // Each ring wrapped many times over.
        assert!(s.device().cpus[0].head() > 20 * 8192);
        eprintln!("{n} events in {:?}", start.elapsed());
    }
}
