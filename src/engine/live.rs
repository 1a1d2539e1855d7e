//! The engine as the daemon's [`Evaluator`]: each event is evaluated right
//! after its state update, on the event thread (one worker) or by a
//! [`Pool`] of worker threads with a snapshot of the state, its alerts
//! coming back in event order.

use crate::daemon::evaluator::Evaluator;
use crate::event::params;
use crate::event::schema::{EF_CREATES_FD, EF_USES_FD};
use crate::event::table::EVENT_MAX;
use crate::event::view::EventView;
use crate::filter::eval::{Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::Alert;
use crate::state::State;

use std::collections::BTreeSet;
use std::sync::Arc;

use super::pool::Pool;
use super::Engine;

/// The engine with its per-thread buffers (or its workers) and event
/// counter.
pub struct LiveEvaluator {
    engine: Arc<Engine>,
    rec: Record,
    scratch: Scratch,
    num: u64,
    pool: Option<Pool>,
}

impl LiveEvaluator {
    /// Wraps a compiled engine, evaluating on the event thread when
    /// `workers` is 1, else on that many threads.
    pub fn new(engine: Engine, workers: usize) -> LiveEvaluator {
        let engine = Arc::new(engine);
        let pool = (workers > 1).then(|| Pool::new(&engine, workers));
        LiveEvaluator {
            engine,
            rec: Record::default(),
            scratch: Scratch::default(),
            num: 0,
            pool,
        }
    }
}

/// The descriptor an event operates on, as far as the event and the state
/// tell: the enter event's `fd` parameter, a created descriptor's number, or
/// the thread's last descriptor for other exit events.
fn event_fd(e: &EventView<'_>, state: &State) -> Option<i64> {
    let info = e.info()?;
    if info.flags & (EF_USES_FD | EF_CREATES_FD) == 0 {
        return None;
    }
    if e.is_enter() {
        return e.param_by_name("fd").and_then(params::int);
    }
    if info.flags & EF_CREATES_FD != 0 {
        return e.param(0).and_then(params::int);
    }
    state.threads.hot(e.tid()).map(|h| h.lastevent_fd)
}

impl Evaluator for LiveEvaluator {
    fn process(&mut self, event: &EventView<'_>, state: &State, emit: &mut dyn FnMut(Alert)) {
        self.num += 1;
        let cands = self.engine.candidates(event);
        if cands.rules.is_empty() {
            return;
        }
        let fd = event_fd(event, state);
        match &mut self.pool {
            Some(pool) => pool.push(cands, event, self.num, fd, None, state, emit),
            None => {
                let ctx = Ctx::new(event, self.num, state, fd, None);
                self.engine
                    .process_with(cands, &ctx, &mut self.rec, &mut self.scratch, emit);
            }
        }
    }

    fn raises_alerts(&self) -> bool {
        !self.engine.rules().is_empty()
    }

    fn tested_events(&self) -> Option<BTreeSet<u16>> {
        Some(
            (0..EVENT_MAX)
                .filter(|&t| self.engine.tests_event(t))
                .collect(),
        )
    }

    fn flush(&mut self, emit: &mut dyn FnMut(Alert)) {
        if let Some(pool) = &mut self.pool {
            pool.flush(emit);
        }
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        if let Some(pool) = &mut self.pool {
            pool.finish(emit);
        }
    }
}
