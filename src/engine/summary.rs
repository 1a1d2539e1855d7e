//! The end-of-run summary Falco prints: events detected, rule counts by
//! severity and triggered rules by rule name.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::output::alert::{Alert, Priority};

/// Alert counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Alerts raised.
    pub detected: u64,
    /// Alerts per priority.
    pub by_priority: BTreeMap<Priority, u64>,
    /// Alerts per rule name.
    pub by_rule: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts one alert.
    pub fn add(&mut self, a: &Alert) {
        self.detected += 1;
        *self.by_priority.entry(a.priority).or_default() += 1;
        match self.by_rule.get_mut(&a.rule) {
            Some(n) => *n += 1,
            None => {
                self.by_rule.insert(a.rule.clone(), 1);
            }
        }
    }

    /// The summary text, one item per line.
    pub fn render(&self) -> String {
        let mut s = format!("Events detected: {}\n", self.detected);
        s.push_str("Rule counts by severity:\n");
        for (p, n) in &self.by_priority {
            let _ = writeln!(s, "   {}: {n}", p.name().to_ascii_uppercase());
        }
        s.push_str("Triggered rules by rule name:\n");
        for (r, n) in &self.by_rule {
            let _ = writeln!(s, "   {r}: {n}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let mut s = Summary::default();
        let mut a = crate::output::alert::tests::sample();
        s.add(&a);
        s.add(&a);
        a.rule = "Other".into();
        a.priority = Priority::Warning;
        s.add(&a);
        assert_eq!(
            s.render(),
            "Events detected: 3\nRule counts by severity:\n   ERROR: 2\n   WARNING: 1\n\
             Triggered rules by rule name:\n   Other: 1\n   Write below etc: 2\n"
        );
    }
}
