//! Rule evaluation on worker threads, fed in event order by the thread that
//! keeps the state. Each event with candidate rules is queued with a
//! [`Snapshot`] of the state its fields can read (threads and containers by
//! reference count), in batches; workers extract fields on demand from the
//! snapshot, and the alerts of finished batches are put back into event
//! order. The alerts are the same, in the same order, for any worker count.
//! Used by capture replay and by the daemon.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::{Candidates, Engine};
use crate::event::view::EventView;
use crate::filter::eval::{Lazy, Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::Alert;
use crate::state::view::Snapshot;
use crate::state::State;

/// Events per batch handed to a worker.
const BATCH: usize = 256;
/// Batches in flight before the state thread waits for the workers.
const IN_FLIGHT: usize = 64;

/// One event for a worker: its bytes, what its fields may read, and the
/// rules to test.
#[derive(Default)]
struct Item {
    cands: Arc<Candidates>,
    raw: Vec<u8>,
    cpu: u16,
    flags: u32,
    num: u64,
    fd: Option<i64>,
    fd_transient: Option<String>,
    snap: Snapshot,
}

struct Batch {
    seq: u64,
    items: Vec<Item>,
}

struct Done {
    seq: u64,
    alerts: Vec<Alert>,
    items: Vec<Item>,
}

/// Worker threads evaluating queued events, and the ordering of their
/// alerts.
pub struct Pool {
    jobs: Option<Sender<Batch>>,
    done: Receiver<Done>,
    handles: Vec<JoinHandle<()>>,
    /// The batch being filled; `used` of its items are.
    batch: Vec<Item>,
    used: usize,
    /// Sequence number of the next batch sent.
    seq: u64,
    /// Sequence number of the next batch whose alerts go out.
    next: u64,
    pending: BTreeMap<u64, Vec<Alert>>,
    /// Items of finished batches, reused with their buffers.
    free: Vec<Vec<Item>>,
}

impl Pool {
    /// Starts `workers` threads (at least one) evaluating for `engine`.
    pub fn new(engine: &Arc<Engine>, workers: usize) -> Pool {
        let (job_tx, job_rx) = bounded::<Batch>(IN_FLIGHT);
        let (done_tx, done_rx) = unbounded::<Done>();
        let handles = (0..workers.max(1))
            .map(|_| {
                let (e, j, d) = (Arc::clone(engine), job_rx.clone(), done_tx.clone());
                thread::spawn(move || worker(e, j, d))
            })
            .collect();
        Pool {
            jobs: Some(job_tx),
            done: done_rx,
            handles,
            batch: Vec::with_capacity(BATCH),
            used: 0,
            seq: 0,
            next: 0,
            pending: BTreeMap::new(),
            free: Vec::new(),
        }
    }

    /// Queues event `e` (number `num`, on descriptor `fd`, named
    /// `fd_transient` when the state does not hold it), already applied to
    /// `state`, for the rules of `cands`. Alerts of batches finished by
    /// now go to `emit`, in order.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        cands: &Arc<Candidates>,
        e: &EventView<'_>,
        num: u64,
        fd: Option<i64>,
        fd_transient: Option<&str>,
        state: &State,
        emit: &mut dyn FnMut(Alert),
    ) {
        if self.used == self.batch.len() {
            self.batch.push(Item::default());
        }
        let it = &mut self.batch[self.used];
        self.used += 1;
        it.cands = Arc::clone(cands);
        it.raw.clear();
        it.raw.extend_from_slice(e.raw());
        it.cpu = e.cpu();
        it.flags = e.flags();
        it.num = num;
        it.fd = fd;
        it.fd_transient = fd_transient.map(str::to_string);
        it.snap.take(state, e, fd);
        if self.used == BATCH {
            self.send();
            self.collect(emit);
        }
    }

    /// Hands the partly filled batch to the workers and sends out the
    /// alerts of the batches finished by now, without waiting for the
    /// others (a live source calls this whenever it has read what was
    /// there, so alerts are not held back).
    pub fn flush(&mut self, emit: &mut dyn FnMut(Alert)) {
        if self.used > 0 {
            self.send();
        }
        self.collect(emit);
    }

    /// Waits for every queued event and sends out the remaining alerts.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        if self.used > 0 {
            self.send();
        }
        while self.next < self.seq {
            match self.done.recv() {
                Ok(d) => self.take(d, emit),
                // Every worker is gone: nothing more will come.
                Err(_) => break,
            }
        }
    }

    fn send(&mut self) {
        let next = self.free.pop().unwrap_or_default();
        let mut items = std::mem::replace(&mut self.batch, next);
        items.truncate(self.used);
        self.used = 0;
        let Some(jobs) = &self.jobs else { return };
        if jobs
            .send(Batch {
                seq: self.seq,
                items,
            })
            .is_ok()
        {
            self.seq += 1;
        }
    }

    fn collect(&mut self, emit: &mut dyn FnMut(Alert)) {
        while let Ok(d) = self.done.try_recv() {
            self.take(d, emit);
        }
    }

    fn take(&mut self, d: Done, emit: &mut dyn FnMut(Alert)) {
        self.free.push(d.items);
        self.pending.insert(d.seq, d.alerts);
        while let Some(alerts) = self.pending.remove(&self.next) {
            self.next += 1;
            alerts.into_iter().for_each(&mut *emit);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the queue ends the workers once they are done.
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

fn worker(engine: Arc<Engine>, jobs: Receiver<Batch>, done: Sender<Done>) {
    let mut scratch = Scratch::default();
    let mut rec = Record::default();
    let table = engine.table();
    for b in jobs {
        let mut alerts = Vec::new();
        for it in &b.items {
            let Ok(evt) = EventView::new(&it.raw, it.cpu, it.flags) else {
                continue;
            };
            let ctx = Ctx::new(&evt, it.num, &it.snap, it.fd, it.fd_transient.as_deref());
            rec.reset(table.len());
            let mut lazy = Lazy {
                rec: &mut rec,
                table,
                ctx: &ctx,
            };
            engine.run(&it.cands, &mut lazy, &mut scratch, evt.ts(), &mut |a| {
                alerts.push(a)
            });
        }
        let d = Done {
            seq: b.seq,
            alerts,
            items: b.items,
        };
        if done.send(d).is_err() {
            return;
        }
    }
}
