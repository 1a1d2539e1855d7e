//! Where the rule engine plugs into the daemon: an [`Evaluator`] takes each
//! event with the state it was applied to and emits alerts.
//!
//! This build has no rule evaluation engine yet: [`for_rules`] returns
//! [`NoEngine`], which raises nothing, and the daemon says so in its log.
//! An engine implements [`Evaluator`] and is returned from [`for_rules`].

use crate::event::view::EventView;
use crate::output::alert::Alert;
use crate::rules::Loaded;
use crate::state::State;

/// Evaluates loaded rules against events.
pub trait Evaluator: Send {
    /// Evaluates one event (already applied to `state`); each alert goes to
    /// `emit`, in rule order.
    fn process(&mut self, event: &EventView<'_>, state: &State, emit: &mut dyn FnMut(Alert));

    /// Whether this evaluator can raise alerts at all.
    fn raises_alerts(&self) -> bool;
}

/// Stands in for the missing engine: loads nothing, raises nothing.
#[derive(Debug, Default)]
pub struct NoEngine;

impl Evaluator for NoEngine {
    fn process(&mut self, _: &EventView<'_>, _: &State, _: &mut dyn FnMut(Alert)) {}

    fn raises_alerts(&self) -> bool {
        false
    }
}

/// The evaluator for a loaded rule set, with the machine's `hostname` for
/// the alerts.
pub fn for_rules(_rules: &Loaded, _hostname: &str) -> Box<dyn Evaluator> {
    Box::new(NoEngine)
}
