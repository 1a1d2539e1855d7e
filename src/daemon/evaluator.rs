//! Where the rule engine plugs into the daemon: an [`Evaluator`] takes each
//! event with the state it was applied to and emits alerts.
//!
//! [`for_rules`] returns the rule engine; [`NoEngine`] raises nothing and
//! stands in when a rule set cannot be compiled.

use std::collections::BTreeSet;

use crate::event::view::EventView;
use crate::output::alert::Alert;
use crate::rules::Loaded;
use crate::state::update::EventFd;
use crate::state::State;

/// Evaluates loaded rules against events.
pub trait Evaluator: Send {
    /// Evaluates one event (already applied to `state`, the update giving
    /// `efd`: the descriptor the event operates on, and its name when the
    /// state does not hold it); each alert goes to `emit`, in rule order.
    fn process(
        &mut self,
        event: &EventView<'_>,
        efd: &EventFd,
        state: &State,
        emit: &mut dyn FnMut(Alert),
    );

    /// Whether this evaluator can raise alerts at all.
    fn raises_alerts(&self) -> bool;

    /// Sends out the alerts of events evaluated elsewhere (worker threads)
    /// that are ready, without waiting; called whenever the source has
    /// been read up to what it holds.
    fn flush(&mut self, _emit: &mut dyn FnMut(Alert)) {}

    /// Waits for every event given and sends out the remaining alerts;
    /// called before the evaluator is replaced or the source ends.
    fn finish(&mut self, _emit: &mut dyn FnMut(Alert)) {}

    /// The event ids some rule is tested on, when the evaluator knows
    /// them (the interest set then leaves out the others).
    fn tested_events(&self) -> Option<BTreeSet<u16>> {
        None
    }
}

/// Stands in for the missing engine: loads nothing, raises nothing.
#[derive(Debug, Default)]
pub struct NoEngine;

impl Evaluator for NoEngine {
    fn process(&mut self, _: &EventView<'_>, _: &EventFd, _: &State, _: &mut dyn FnMut(Alert)) {}

    fn raises_alerts(&self) -> bool {
        false
    }
}

/// The evaluator for a loaded rule set, with the machine's `hostname` for
/// the alerts: the rule engine ([`crate::engine::Engine`]) over the enabled
/// rules, evaluated on the event thread (`workers` 1) or on that many
/// worker threads. Should the rule set not compile into programs (rule
/// loading checks the same fields, so this is not expected), the errors are
/// printed to stderr and [`NoEngine`] stands in.
pub fn for_rules(rules: &Loaded, hostname: &str, workers: usize) -> Box<dyn Evaluator> {
    let opts = crate::engine::Options {
        hostname: hostname.to_string(),
        ..crate::engine::Options::default()
    };
    match crate::engine::Engine::new(&rules.rules, opts) {
        Ok(e) => Box::new(crate::engine::live::LiveEvaluator::new(e, workers)),
        Err(errs) => {
            for e in errs {
                eprintln!("saker: {e}");
            }
            Box::new(NoEngine)
        }
    }
}
