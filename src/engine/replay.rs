//! Replaying a capture through the engine. Parsing and state updates run in
//! event order on the calling thread. With one worker, rules are evaluated
//! there too, fields extracted on demand. With more, the calling thread
//! hands each event that has candidate rules to a worker with a
//! [`Snapshot`] of the state it can read (threads and containers by
//! reference count); workers extract fields on demand from it and evaluate
//! batches of events, and alerts are put back into event order. The alerts
//! are the same for any worker count.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::{Candidates, Engine};
use crate::capture::{self, Reader};
use crate::event::view::EventView;
use crate::filter::eval::{Lazy, Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::Alert;
use crate::output::dump::Replay;
use crate::state::view::Snapshot;

/// Counts of a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events read.
    pub events: u64,
    /// Events tested against at least one rule.
    pub evaluated: u64,
    /// Alerts raised.
    pub alerts: u64,
}

/// Events per batch handed to a worker.
const BATCH: usize = 256;
/// Batches in flight before the reader waits for the workers.
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

/// Replays `reader` through `engine` with `workers` evaluation threads
/// (at least one); alerts go to `emit` in event and rule order.
pub fn replay<R: Read>(
    reader: &mut Reader<R>,
    engine: &Arc<Engine>,
    workers: usize,
    emit: &mut dyn FnMut(Alert),
) -> Result<Stats, capture::Error> {
    if workers <= 1 {
        return inline(reader, engine, emit);
    }
    parallel(reader, engine, workers, emit)
}

fn inline<R: Read>(
    reader: &mut Reader<R>,
    engine: &Engine,
    emit: &mut dyn FnMut(Alert),
) -> Result<Stats, capture::Error> {
    let mut replay = Replay::new(reader.metadata());
    let mut stats = Stats::default();
    let mut rec = Record::default();
    let mut scratch = Scratch::default();
    while let Some(e) = reader.next_event()? {
        stats.events += 1;
        let Some(ctx) = replay.step(&e) else {
            continue;
        };
        let cands = engine.candidates(&e);
        if !cands.rules.is_empty() {
            stats.evaluated += 1;
        }
        engine.process_with(cands, &ctx, &mut rec, &mut scratch, &mut |a| {
            stats.alerts += 1;
            emit(a);
        });
    }
    Ok(stats)
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

/// Puts finished batches back into order and recycles their items.
struct Reorder {
    next: u64,
    pending: BTreeMap<u64, Vec<Alert>>,
    free_batches: Vec<Vec<Item>>,
}

impl Reorder {
    fn take(&mut self, d: Done, stats: &mut Stats, emit: &mut dyn FnMut(Alert)) {
        self.free_batches.push(d.items);
        self.pending.insert(d.seq, d.alerts);
        while let Some(alerts) = self.pending.remove(&self.next) {
            self.next += 1;
            for a in alerts {
                stats.alerts += 1;
                emit(a);
            }
        }
    }
}

fn parallel<R: Read>(
    reader: &mut Reader<R>,
    engine: &Arc<Engine>,
    workers: usize,
    emit: &mut dyn FnMut(Alert),
) -> Result<Stats, capture::Error> {
    let (job_tx, job_rx) = bounded::<Batch>(IN_FLIGHT);
    let (done_tx, done_rx) = unbounded::<Done>();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (e, j, d) = (Arc::clone(engine), job_rx.clone(), done_tx.clone());
            thread::spawn(move || worker(e, j, d))
        })
        .collect();
    drop(job_rx);
    drop(done_tx);
    let mut stats = Stats::default();
    let mut order = Reorder {
        next: 0,
        pending: BTreeMap::new(),
        free_batches: Vec::new(),
    };
    let mut replay = Replay::new(reader.metadata());
    let mut seq = 0;
    // Items are reused: a batch keeps its items (and their buffers) when
    // it comes back, and `used` counts those filled.
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    let mut used = 0;
    let result = (|| {
        while let Some(e) = reader.next_event()? {
            stats.events += 1;
            let Some(ctx) = replay.step(&e) else {
                continue;
            };
            let cands = engine.candidates(&e);
            if cands.rules.is_empty() {
                continue;
            }
            stats.evaluated += 1;
            let (num, fd) = (ctx.num, ctx.fd);
            let transient = ctx.fd_transient.map(str::to_string);
            if used == batch.len() {
                batch.push(Item::default());
            }
            let it = &mut batch[used];
            used += 1;
            it.cands = Arc::clone(cands);
            it.raw.clear();
            it.raw.extend_from_slice(e.raw());
            it.cpu = e.cpu();
            it.flags = e.flags();
            it.num = num;
            it.fd = fd;
            it.fd_transient = transient;
            it.snap.take(&replay.state, &e, fd);
            if used == BATCH {
                let next = order.free_batches.pop().unwrap_or_default();
                let items = std::mem::replace(&mut batch, next);
                used = 0;
                if job_tx.send(Batch { seq, items }).is_err() {
                    break;
                }
                seq += 1;
                while let Ok(d) = done_rx.try_recv() {
                    order.take(d, &mut stats, emit);
                }
            }
        }
        Ok(())
    })();
    if used > 0 && result.is_ok() {
        batch.truncate(used);
        let _ = job_tx.send(Batch {
            seq,
            items: std::mem::take(&mut batch),
        });
    }
    drop(job_tx);
    for d in done_rx {
        order.take(d, &mut stats, emit);
    }
    for h in handles {
        let _ = h.join();
    }
    result.map(|()| stats)
}
