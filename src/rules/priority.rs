//! Alert priorities, as rules name them and alerts print them.

use std::fmt;

/// Alert priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// System is unusable.
    Emergency,
    /// Action must be taken immediately.
    Alert,
    /// Critical conditions.
    Critical,
    /// Error conditions.
    Error,
    /// Warning conditions.
    Warning,
    /// Normal but significant.
    Notice,
    /// Informational.
    Informational,
    /// Debugging.
    Debug,
}

impl Priority {
    /// Parses a priority name, case-insensitively (`INFO` is `INFORMATIONAL`).
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The name as Falco prints it in alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases = [
            ("EMERGENCY", Some(Priority::Emergency)),
            ("Alert", Some(Priority::Alert)),
            ("critical", Some(Priority::Critical)),
            ("error", Some(Priority::Error)),
            ("WARNING", Some(Priority::Warning)),
            ("notice", Some(Priority::Notice)),
            ("INFO", Some(Priority::Informational)),
            ("informational", Some(Priority::Informational)),
            ("DEBUG", Some(Priority::Debug)),
            ("loud", None),
        ];
        for (s, want) in cases {
            assert_eq!(Priority::parse(s), want, "{s}");
        }
        assert!(Priority::Emergency < Priority::Debug);
        assert_eq!(Priority::Informational.to_string(), "Informational");
    }
}
