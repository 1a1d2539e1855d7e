//! Replaying a capture through the engine. Parsing and state updates run in
//! event order on the calling thread. With one worker, rules are evaluated
//! there too, fields extracted on demand. With more, the calling thread
//! extracts, per event, every field its candidate rules read into a
//! [`Record`] (an immutable snapshot of what evaluation needs), workers
//! evaluate batches of records, and alerts are put back into event order;
//! the alerts are the same for any worker count.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::{Candidates, Engine};
use crate::capture::{self, Reader};
use crate::filter::eval::{Record, Scratch};
use crate::output::alert::Alert;
use crate::output::dump::Replay;

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

struct Item {
    cands: Arc<Candidates>,
    rec: Record,
    ts: u64,
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
        if !engine.candidates(&e).rules.is_empty() {
            stats.evaluated += 1;
        }
        engine.process_ctx(&ctx, &mut rec, &mut scratch, &mut |a| {
            stats.alerts += 1;
            emit(a);
        });
    }
    Ok(stats)
}

fn worker(engine: Arc<Engine>, jobs: Receiver<Batch>, done: Sender<Done>) {
    let mut scratch = Scratch::default();
    for mut b in jobs {
        let mut alerts = Vec::new();
        for it in &mut b.items {
            engine.run(&it.cands, &mut it.rec, &mut scratch, it.ts, &mut |a| {
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

/// Puts finished batches back into order and recycles their records.
struct Reorder {
    next: u64,
    pending: BTreeMap<u64, Vec<Alert>>,
    free: Vec<Record>,
    free_batches: Vec<Vec<Item>>,
}

impl Reorder {
    fn take(&mut self, d: Done, stats: &mut Stats, emit: &mut dyn FnMut(Alert)) {
        let mut items = d.items;
        self.free.extend(items.drain(..).map(|i| i.rec));
        self.free_batches.push(items);
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
        free: Vec::new(),
        free_batches: Vec::new(),
    };
    let mut replay = Replay::new(reader.metadata());
    let mut seq = 0;
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    let table = engine.table();
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
            let mut rec = order.free.pop().unwrap_or_default();
            rec.reset(table.len());
            for &f in &cands.fields {
                rec.fill(f, table, &ctx);
            }
            batch.push(Item {
                cands: Arc::clone(cands),
                rec,
                ts: e.ts(),
            });
            if batch.len() == BATCH {
                let next = order.free_batches.pop().unwrap_or_default();
                let items = std::mem::replace(&mut batch, next);
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
    if !batch.is_empty() && result.is_ok() {
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
