//! The engine as the daemon's [`Evaluator`]: each event is evaluated on the
//! event thread right after its state update, fields extracted on demand.

use crate::daemon::evaluator::Evaluator;
use crate::event::params;
use crate::event::schema::{EF_CREATES_FD, EF_USES_FD};
use crate::event::view::EventView;
use crate::filter::eval::{Record, Scratch};
use crate::filter::fields::Ctx;
use crate::output::alert::Alert;
use crate::state::State;

use super::Engine;

/// The engine with its per-thread buffers and event counter.
#[derive(Debug)]
pub struct LiveEvaluator {
    engine: Engine,
    rec: Record,
    scratch: Scratch,
    num: u64,
}

impl LiveEvaluator {
    /// Wraps a compiled engine.
    pub fn new(engine: Engine) -> LiveEvaluator {
        LiveEvaluator {
            engine,
            rec: Record::default(),
            scratch: Scratch::default(),
            num: 0,
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
        let ctx = Ctx::new(event, self.num, state, event_fd(event, state), None);
        self.engine
            .process_ctx(&ctx, &mut self.rec, &mut self.scratch, emit);
    }

    fn raises_alerts(&self) -> bool {
        !self.engine.rules().is_empty()
    }
}
