//! Alerts: what a rule match produces, its priority scale, and its text and
//! JSON renderings in Falco's shapes.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

pub use crate::rules::priority::{Priority, UnknownPriority};

/// A value of an output field: Falco prints strings, numbers, booleans and
/// `null` for fields that have no value for the event.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// No value (`<NA>` in text).
    Null,
    /// Text.
    Str(String),
    /// Unsigned number.
    U64(u64),
    /// Signed number.
    I64(i64),
    /// Boolean.
    Bool(bool),
}

impl FieldValue {
    fn to_json(&self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::U64(n) => Value::from(*n),
            FieldValue::I64(n) => Value::from(*n),
            FieldValue::Bool(b) => Value::Bool(*b),
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Event time, nanoseconds since the epoch.
    pub time_ns: u64,
    /// The rule's name.
    pub rule: String,
    /// The rule's priority.
    pub priority: Priority,
    /// The event source (`syscall`).
    pub source: String,
    /// The machine's host name.
    pub hostname: String,
    /// The rule's output with fields filled in.
    pub output: String,
    /// Every field the output names, with its value, in output order.
    pub output_fields: Vec<(String, FieldValue)>,
    /// The rule's tags.
    pub tags: Vec<String>,
}

/// How alerts are rendered for the sinks (config `json_output` and the
/// `json_include_*` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendering {
    /// JSON objects instead of text lines.
    pub json: bool,
    /// Whether the JSON has the `output` property.
    pub include_output: bool,
    /// Whether the JSON has the `tags` property.
    pub include_tags: bool,
    /// Text alerts start with the full ISO 8601 date and time
    /// (`time_format_iso_8601`), not only the time of day.
    pub iso_time: bool,
}

impl Default for Rendering {
    fn default() -> Rendering {
        Rendering {
            json: false,
            include_output: true,
            include_tags: true,
            iso_time: false,
        }
    }
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Formats nanoseconds since the epoch as Falco's JSON time,
/// `2016-08-04T16:17:57.882054739Z`.
pub fn iso8601(time_ns: u64) -> String {
    let secs = (time_ns / 1_000_000_000) as i64;
    let nanos = time_ns % 1_000_000_000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats nanoseconds since the epoch as the time of day Falco prints in
/// front of text alerts, `16:17:57.882054739`.
pub fn time_of_day(time_ns: u64) -> String {
    let secs = time_ns / 1_000_000_000;
    let rem = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        time_ns % 1_000_000_000
    )
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Alert {
    /// Falco's JSON object: `hostname`, `output`, `priority`, `rule`,
    /// `source`, `tags`, `time`, `output_fields`. As Falco writes it, `output`
    /// is the whole text line (time and priority first) and `output_fields`
    /// also holds that line's time field (`evt.time`, or `evt.time.iso8601`
    /// with ISO times) in nanoseconds since the epoch.
    pub fn to_json(&self, r: &Rendering) -> Value {
        let mut m = Map::new();
        m.insert("hostname".into(), Value::String(self.hostname.clone()));
        if r.include_output {
            let text = Rendering { json: false, ..*r };
            m.insert("output".into(), Value::String(self.render(&text)));
        }
        m.insert(
            "priority".into(),
            Value::String(self.priority.name().into()),
        );
        m.insert("rule".into(), Value::String(self.rule.clone()));
        m.insert("source".into(), Value::String(self.source.clone()));
        if r.include_tags {
            m.insert(
                "tags".into(),
                Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
            );
        }
        m.insert("time".into(), Value::String(iso8601(self.time_ns)));
        let mut fields: Map<String, Value> = self
            .output_fields
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        let time_key = if r.iso_time {
            "evt.time.iso8601"
        } else {
            "evt.time"
        };
        fields.insert(time_key.into(), Value::from(self.time_ns));
        m.insert("output_fields".into(), Value::Object(fields));
        Value::Object(m)
    }

    /// The alert as one line, without newline: the JSON object, or
    /// `TIME: Priority output` as Falco prints text alerts.
    pub fn render(&self, r: &Rendering) -> String {
        if r.json {
            self.to_json(r).to_string()
        } else {
            let time = if r.iso_time {
                // Falco's text form: `2016-08-04T16:17:57.882054739+0000`.
                let iso = iso8601(self.time_ns);
                format!("{}+0000", iso.trim_end_matches('Z'))
            } else {
                time_of_day(self.time_ns)
            };
            format!("{time}: {} {}", self.priority.name(), self.output)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Alert {
        Alert {
            time_ns: 1_470_327_477_882_054_739,
            rule: "Write below etc".into(),
            priority: Priority::Error,
            source: "syscall".into(),
            hostname: "host1".into(),
            output: "File below /etc opened for writing (user=root)".into(),
            output_fields: vec![
                ("user.name".into(), FieldValue::Str("root".into())),
                ("proc.pid".into(), FieldValue::U64(42)),
                ("fd.name".into(), FieldValue::Null),
            ],
            tags: vec!["filesystem".into(), "mitre_persistence".into()],
        }
    }

    #[test]
    fn priorities_parse_and_order() {
        for (text, p) in [
            ("emergency", Priority::Emergency),
            ("ALERT", Priority::Alert),
            ("Critical", Priority::Critical),
            ("error", Priority::Error),
            ("warning", Priority::Warning),
            ("notice", Priority::Notice),
            ("info", Priority::Informational),
            ("informational", Priority::Informational),
            ("debug", Priority::Debug),
        ] {
            assert_eq!(text.parse::<Priority>(), Ok(p), "{text}");
        }
        assert!("warn".parse::<Priority>().is_err());
        for (p, threshold, passes) in [
            (Priority::Critical, Priority::Warning, true),
            (Priority::Warning, Priority::Warning, true),
            (Priority::Notice, Priority::Warning, false),
            (Priority::Debug, Priority::Debug, true),
            (Priority::Emergency, Priority::Emergency, true),
            (Priority::Alert, Priority::Emergency, false),
        ] {
            assert_eq!(p.passes(threshold), passes, "{p} vs {threshold}");
        }
        assert_eq!(Priority::Warning.syslog_severity(), 4);
    }

    #[test]
    fn times_format_like_falco() {
        for (ns, iso, tod) in [
            (0, "1970-01-01T00:00:00.000000000Z", "00:00:00.000000000"),
            (
                1_470_327_477_882_054_739,
                "2016-08-04T16:17:57.882054739Z",
                "16:17:57.882054739",
            ),
            (
                951_782_400_000_000_001,
                "2000-02-29T00:00:00.000000001Z",
                "00:00:00.000000001",
            ),
        ] {
            assert_eq!(iso8601(ns), iso);
            assert_eq!(time_of_day(ns), tod);
        }
    }

    #[test]
    fn json_has_falco_shape() {
        let a = sample();
        let v = a.to_json(&Rendering::default());
        let expected = serde_json::json!({
            "hostname": "host1",
            "output": "16:17:57.882054739: Error File below /etc opened for writing (user=root)",
            "priority": "Error",
            "rule": "Write below etc",
            "source": "syscall",
            "tags": ["filesystem", "mitre_persistence"],
            "time": "2016-08-04T16:17:57.882054739Z",
            "output_fields": {
                "evt.time": 1_470_327_477_882_054_739u64,
                "user.name": "root",
                "proc.pid": 42,
                "fd.name": null
            }
        });
        assert_eq!(v, expected);
        let lean = a.to_json(&Rendering {
            json: true,
            include_output: false,
            include_tags: false,
            iso_time: false,
        });
        assert!(lean.get("output").is_none() && lean.get("tags").is_none());
        assert_eq!(
            a.render(&Rendering::default()),
            "16:17:57.882054739: Error File below /etc opened for writing (user=root)"
        );
        let iso = Rendering {
            iso_time: true,
            ..Rendering::default()
        };
        assert_eq!(
            a.render(&iso),
            "2016-08-04T16:17:57.882054739+0000: Error File below /etc opened for writing (user=root)"
        );
    }
}
