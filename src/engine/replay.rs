//! Replaying a capture through the engine. Parsing and state updates run in
//! event order on the calling thread. With one worker, rules are evaluated
//! there too, fields extracted on demand. With more, the calling thread
//! hands each event that has candidate rules to a [`Pool`] of workers with a
//! snapshot of the state it can read, and alerts come back in event order.
//! The alerts are the same for any worker count.

use std::io::Read;
use std::sync::Arc;

use super::pool::Pool;
use super::Engine;
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

fn parallel<R: Read>(
    reader: &mut Reader<R>,
    engine: &Arc<Engine>,
    workers: usize,
    emit: &mut dyn FnMut(Alert),
) -> Result<Stats, capture::Error> {
    let mut pool = Pool::new(engine, workers);
    let mut stats = Stats::default();
    let mut replay = Replay::new(reader.metadata());
    let mut alerts = 0;
    let mut counted = |a: Alert| {
        alerts += 1;
        emit(a);
    };
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
            let state = &replay.state;
            pool.push(
                cands,
                &e,
                num,
                fd,
                transient.as_deref(),
                state,
                &mut counted,
            );
        }
        Ok(())
    })();
    if result.is_ok() {
        pool.finish(&mut counted);
    }
    drop(pool);
    stats.alerts = alerts;
    result.map(|()| stats)
}
