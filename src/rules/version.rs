//! Rules engine versions: what `required_engine_version` is compared with.

use std::fmt;

/// The rules engine version this loader implements: rule files requiring a
/// later one are rejected.
pub const ENGINE_VERSION: Version = Version(0, 57, 0);

/// A version triple; an integer `N` means `0.N.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// Parses `N` or `A.B.C`.
    pub fn parse(s: &str) -> Option<Version> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let num = |p: &str| p.parse::<u64>().ok();
        match parts.as_slice() {
            [n] => Some(Version(0, num(n)?, 0)),
            [a, b, c] => Some(Version(num(a)?, num(b)?, num(c)?)),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases = [
            ("9", Some(Version(0, 9, 0))),
            ("0.57.0", Some(Version(0, 57, 0))),
            (" 1.2.3 ", Some(Version(1, 2, 3))),
            ("not-a-number", None),
            ("1.2", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(Version::parse(s), want, "{s:?}");
        }
        assert!(Version::parse("9999999").unwrap() > ENGINE_VERSION);
        assert!(Version::parse("0.57.0").unwrap() <= ENGINE_VERSION);
    }
}
