//! Alert priorities, as rules name them and alerts print them: Falco's and
//! syslog's scale.

use std::fmt;
use std::str::FromStr;

/// An alert's priority, from most to least severe (Falco's and syslog's
/// scale; the discriminant is the syslog severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// System is unusable.
    Emergency = 0,
    /// Action must be taken immediately.
    Alert = 1,
    /// Critical conditions.
    Critical = 2,
    /// Error conditions.
    Error = 3,
    /// Warning conditions.
    Warning = 4,
    /// Normal but significant.
    Notice = 5,
    /// Informational.
    Informational = 6,
    /// Debug-level.
    Debug = 7,
}

impl Priority {
    /// Every priority, most severe first.
    pub const ALL: [Priority; 8] = [
        Priority::Emergency,
        Priority::Alert,
        Priority::Critical,
        Priority::Error,
        Priority::Warning,
        Priority::Notice,
        Priority::Informational,
        Priority::Debug,
    ];

    /// The name Falco prints (`Critical`, `Informational`...).
    pub fn name(self) -> &'static str {
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

    /// The syslog severity (0 emergency .. 7 debug).
    pub fn syslog_severity(self) -> u8 {
        self as u8
    }

    /// Whether an alert of this priority passes a `threshold` (at least as
    /// severe as it).
    pub fn passes(self, threshold: Priority) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A priority name that is not one of Falco's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPriority(pub String);

impl fmt::Display for UnknownPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown priority {:?} (expected emergency, alert, critical, error, \
             warning, notice, informational, info or debug)",
            self.0
        )
    }
}

impl std::error::Error for UnknownPriority {}

impl FromStr for Priority {
    type Err = UnknownPriority;

    /// Falco's names, case-insensitive; `info` and `informational` are the
    /// same.
    fn from_str(s: &str) -> Result<Priority, UnknownPriority> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return Err(UnknownPriority(s.to_string())),
        })
    }
}

impl Priority {
    /// Parses a priority name, case-insensitively (`INFO` is `INFORMATIONAL`).
    pub fn parse(s: &str) -> Option<Priority> {
        s.parse().ok()
    }

    /// The name as Falco prints it in alerts.
    pub fn as_str(self) -> &'static str {
        self.name()
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
