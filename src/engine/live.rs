//! The engine as the daemon's [`Evaluator`]: each event is evaluated right
//! after its state update, on the event thread (one worker) or by a
//! [`Pool`] of worker threads with a snapshot of the state, its alerts
//! coming back in event order.

use crate::daemon::evaluator::Evaluator;
use crate::event::table::EVENT_MAX;
use crate::event::view::EventView;
use crate::filter::eval::{Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::Alert;
use crate::state::update::EventFd;
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

impl Evaluator for LiveEvaluator {
    fn process(
        &mut self,
        event: &EventView<'_>,
        efd: &EventFd,
        state: &State,
        emit: &mut dyn FnMut(Alert),
    ) {
        self.num += 1;
        let cands = self.engine.candidates(event);
        if cands.rules.is_empty() {
            return;
        }
        let transient = efd.transient.as_deref();
        match &mut self.pool {
            Some(pool) => pool.push(cands, event, self.num, efd.fd, transient, state, emit),
            None => {
                let ctx = Ctx::new(event, self.num, state, efd.fd, transient);
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
