//! The daemon's configuration: /etc/saker/saker.yaml with Falco's keys where
//! they mean the same thing, `-o key=value` overrides with dotted keys, unknown
//! keys reported as warnings and invalid values as errors with file:line:col.
//!
//! Every key is one row of [`KEYS`]: its dotted name and the function that
//! checks and stores its value. Adding a key is adding a row.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::output::alert::Priority;
use crate::rules::yaml::{parse_documents, Node, NodeKind, Pos};

/// Where the packaged configuration lives.
pub const DEFAULT_PATH: &str = "/etc/saker/saker.yaml";

/// Ring sizes of `syscall_buf_size_preset` 1..=10 (Falco's presets), in
/// bytes; 0 keeps the module's default.
pub const BUF_SIZE_PRESETS: [u64; 10] = [
    1 << 20,
    2 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
    64 << 20,
    128 << 20,
    256 << 20,
    512 << 20,
];

/// What happens when the module drops events (`syscall_event_drops.actions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropAction {
    /// Do nothing.
    Ignore,
    /// Log a message.
    Log,
    /// Raise an alert.
    Alert,
    /// Exit the daemon.
    Exit,
}

/// `syscall_event_drops`.
#[derive(Debug, Clone, PartialEq)]
pub struct DropPolicy {
    /// Fraction of dropped events over a second above which actions run.
    pub threshold: f64,
    /// What to do.
    pub actions: Vec<DropAction>,
    /// Actions per second (token bucket rate).
    pub rate: f64,
    /// Token bucket size.
    pub max_burst: u32,
}

/// `file_output`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileOutput {
    /// Whether the sink is on.
    pub enabled: bool,
    /// Keep the file open between alerts.
    pub keep_alive: bool,
    /// The file alerts are appended to.
    pub filename: PathBuf,
}

/// `program_output`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramOutput {
    /// Whether the sink is on.
    pub enabled: bool,
    /// Keep one program running for all alerts.
    pub keep_alive: bool,
    /// Shell command fed alerts on its standard input.
    pub program: String,
}

/// `http_output`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpOutput {
    /// Whether the sink is on.
    pub enabled: bool,
    /// `http://` URL alerts are posted to.
    pub url: String,
    /// User-Agent header.
    pub user_agent: String,
}

/// `syslog_output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogOutput {
    /// Whether the sink is on.
    pub enabled: bool,
    /// The syslog socket (saker's addition; `/dev/log` by default).
    pub path: PathBuf,
}

/// `webserver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webserver {
    /// Whether the web server runs.
    pub enabled: bool,
    /// Address it listens on.
    pub listen_address: String,
    /// Port it listens on.
    pub listen_port: u16,
    /// Path of the health check.
    pub k8s_healthz_endpoint: String,
}

/// The daemon's log level (`log_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Notices and above.
    Notice,
    /// Informational messages and above.
    Info,
    /// Everything.
    Debug,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Rule files and directories, loaded in order.
    pub rules_files: Vec<PathBuf>,
    /// Alerts as JSON objects.
    pub json_output: bool,
    /// JSON alerts carry `output`.
    pub json_include_output_property: bool,
    /// JSON alerts carry `tags`.
    pub json_include_tags_property: bool,
    /// Text alerts carry the full ISO 8601 date and time.
    pub time_format_iso_8601: bool,
    /// Least severe priority that is sent.
    pub priority: Priority,
    /// Sinks buffer their writes.
    pub buffered_outputs: bool,
    /// Alerts waiting for the sinks before new ones are dropped.
    pub outputs_queue_capacity: usize,
    /// `outputs.rate`: alerts a second (token bucket; 0 is no limit).
    pub outputs_rate: f64,
    /// `outputs.max_burst`: the bucket's size.
    pub outputs_max_burst: u32,
    /// `stdout_output.enabled`.
    pub stdout_output: bool,
    /// `syslog_output`.
    pub syslog_output: SyslogOutput,
    /// `file_output`.
    pub file_output: FileOutput,
    /// `program_output`.
    pub program_output: ProgramOutput,
    /// `http_output`.
    pub http_output: HttpOutput,
    /// Daemon messages go to stderr.
    pub log_stderr: bool,
    /// Daemon messages go to syslog.
    pub log_syslog: bool,
    /// Least important daemon message logged.
    pub log_level: LogLevel,
    /// `syscall_event_drops`.
    pub syscall_event_drops: DropPolicy,
    /// `metrics.enabled`: Prometheus metrics on the web server.
    pub metrics: bool,
    /// `webserver`.
    pub webserver: Webserver,
    /// `syscall_buf_size_preset`: 0 (module default) or 1..=10.
    pub syscall_buf_size_preset: u8,
    /// `rule_workers`: threads evaluating rules (1: the event thread).
    pub rule_workers: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            rules_files: vec![
                "/etc/saker/saker_rules.yaml".into(),
                "/etc/saker/saker_rules.local.yaml".into(),
                "/etc/saker/rules.d".into(),
            ],
            json_output: false,
            json_include_output_property: true,
            json_include_tags_property: true,
            time_format_iso_8601: false,
            priority: Priority::Debug,
            buffered_outputs: false,
            outputs_queue_capacity: 1000,
            outputs_rate: 0.0,
            outputs_max_burst: 1000,
            stdout_output: true,
            syslog_output: SyslogOutput {
                enabled: true,
                path: "/dev/log".into(),
            },
            file_output: FileOutput {
                filename: "./events.txt".into(),
                ..FileOutput::default()
            },
            program_output: ProgramOutput::default(),
            http_output: HttpOutput {
                user_agent: format!("saker/{}", env!("CARGO_PKG_VERSION")),
                ..HttpOutput::default()
            },
            log_stderr: true,
            log_syslog: true,
            log_level: LogLevel::Info,
            syscall_event_drops: DropPolicy {
                threshold: 0.1,
                actions: vec![DropAction::Log, DropAction::Alert],
                rate: 0.033_333,
                max_burst: 1,
            },
            metrics: true,
            webserver: Webserver {
                enabled: false,
                listen_address: "127.0.0.1".into(),
                listen_port: 8765,
                k8s_healthz_endpoint: "/healthz".into(),
            },
            syscall_buf_size_preset: 0,
            rule_workers: 1,
        }
    }
}

impl Config {
    /// Ring bytes per CPU the preset asks for, or `None` for the module's
    /// default.
    pub fn ring_bytes(&self) -> Option<u64> {
        match self.syscall_buf_size_preset {
            0 => None,
            n => BUF_SIZE_PRESETS.get(usize::from(n) - 1).copied(),
        }
    }
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Read(String),
    /// The text is not YAML.
    Yaml(String),
    /// The document is not a mapping.
    NotMapping,
    /// A key saker does not know (a warning).
    UnknownKey(String),
    /// A key's value is invalid.
    BadValue {
        /// The dotted key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// An `-o` argument without `=`.
    BadOverride(String),
}

/// A configuration error or warning with its position: `file:line:col`, the
/// source line for a caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What is wrong.
    pub kind: ErrorKind,
    /// File name, or `-o` for command-line overrides.
    pub file: String,
    /// Line, 1-based (0 when there is no position).
    pub line: u32,
    /// Column, 1-based.
    pub col: u32,
    /// The text of that line.
    pub line_text: String,
}

impl Error {
    fn at(kind: ErrorKind, file: &str, text: &str, pos: Pos) -> Error {
        let line_text = text
            .lines()
            .nth(pos.line.saturating_sub(1) as usize)
            .unwrap_or("")
            .to_string();
        Error {
            kind,
            file: file.to_string(),
            line: pos.line,
            col: pos.col,
            line_text,
        }
    }

    /// The message with the source line and a caret under the column.
    pub fn render(&self) -> String {
        let mut s = self.to_string();
        if self.line > 0 && !self.line_text.is_empty() {
            let pad: String = self
                .line_text
                .chars()
                .take(self.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            s.push_str(&format!("\n{}\n{pad}^", self.line_text));
        }
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        match &self.kind {
            ErrorKind::Read(m) => write!(f, "cannot read configuration: {m}"),
            ErrorKind::Yaml(m) => write!(f, "invalid YAML: {m}"),
            ErrorKind::NotMapping => write!(f, "the configuration must be a mapping of keys"),
            ErrorKind::UnknownKey(k) => write!(f, "unknown configuration key {k:?} (ignored)"),
            ErrorKind::BadValue { key, message } => write!(f, "invalid value of {key}: {message}"),
            ErrorKind::BadOverride(a) => {
                write!(f, "-o {a:?}: expected key=value (e.g. -o json_output=true)")
            }
        }
    }
}

impl std::error::Error for Error {}

/// A loaded configuration with its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Unknown keys and such; loading went on.
    pub warnings: Vec<Error>,
}

type Setter = fn(&mut Config, &Node) -> Result<(), String>;

fn scalar(n: &Node) -> Result<&str, String> {
    match &n.kind {
        NodeKind::Scalar(s, _) => Ok(s),
        _ => Err(format!("expected a scalar, found a {}", n.type_name())),
    }
}

fn boolean(n: &Node) -> Result<bool, String> {
    if let Some(b) = n.as_bool() {
        return Ok(b);
    }
    match scalar(n)?.to_ascii_lowercase().as_str() {
        "yes" | "on" | "y" => Ok(true),
        "no" | "off" | "n" => Ok(false),
        other => Err(format!("expected true or false, found {other:?}")),
    }
}

fn uint(n: &Node, min: u64, max: u64) -> Result<u64, String> {
    let s = scalar(n)?;
    match s.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected an integer from {min} to {max}, found {s:?}"
        )),
    }
}

fn float(n: &Node, min: f64, max: f64) -> Result<f64, String> {
    let s = scalar(n)?;
    match s.parse::<f64>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(format!(
            "expected a number from {min} to {max}, found {s:?}"
        )),
    }
}

fn text(n: &Node) -> Result<String, String> {
    if n.is_null() {
        return Err("expected a string, found nothing".into());
    }
    scalar(n).map(str::to_string)
}

/// A string or a sequence of strings.
fn strings(n: &Node) -> Result<Vec<String>, String> {
    match &n.kind {
        NodeKind::Seq(items) => items.iter().map(text).collect(),
        NodeKind::Scalar(..) if n.is_null() => Ok(Vec::new()),
        _ => Ok(vec![text(n)?]),
    }
}

fn http_url(n: &Node) -> Result<String, String> {
    let url = text(n)?;
    if url.starts_with("https://") {
        return Err("https:// is not supported (saker is built without TLS); \
                    use http:// to a local forwarder"
            .into());
    }
    if !url.starts_with("http://") || url.len() <= "http://".len() {
        return Err(format!("expected an http:// URL, found {url:?}"));
    }
    Ok(url)
}

fn drop_actions(n: &Node) -> Result<Vec<DropAction>, String> {
    strings(n)?
        .iter()
        .map(|a| match a.as_str() {
            "ignore" => Ok(DropAction::Ignore),
            "log" => Ok(DropAction::Log),
            "alert" => Ok(DropAction::Alert),
            "exit" => Ok(DropAction::Exit),
            _ => Err(format!(
                "unknown action {a:?} (expected ignore, log, alert or exit)"
            )),
        })
        .collect()
}

fn log_level(n: &Node) -> Result<LogLevel, String> {
    Ok(match scalar(n)?.to_ascii_lowercase().as_str() {
        "emergency" | "alert" | "critical" | "error" => LogLevel::Error,
        "warning" => LogLevel::Warning,
        "notice" => LogLevel::Notice,
        "info" | "informational" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        other => {
            return Err(format!(
                "unknown log level {other:?} (expected error, warning, notice, info or debug)"
            ))
        }
    })
}

/// Every key: dotted name and setter.
pub const KEYS: &[(&str, Setter)] = &[
    ("rules_file", |c, n| {
        c.rules_files = strings(n)?.into_iter().map(PathBuf::from).collect();
        Ok(())
    }),
    ("rules_files", |c, n| {
        c.rules_files = strings(n)?.into_iter().map(PathBuf::from).collect();
        Ok(())
    }),
    ("json_output", |c, n| boolean(n).map(|v| c.json_output = v)),
    ("json_include_output_property", |c, n| {
        boolean(n).map(|v| c.json_include_output_property = v)
    }),
    ("json_include_tags_property", |c, n| {
        boolean(n).map(|v| c.json_include_tags_property = v)
    }),
    ("time_format_iso_8601", |c, n| {
        boolean(n).map(|v| c.time_format_iso_8601 = v)
    }),
    ("priority", |c, n| {
        c.priority = scalar(n)?.parse().map_err(|e| format!("{e}"))?;
        Ok(())
    }),
    ("buffered_outputs", |c, n| {
        boolean(n).map(|v| c.buffered_outputs = v)
    }),
    ("outputs_queue.capacity", |c, n| {
        uint(n, 1, 1 << 24).map(|v| c.outputs_queue_capacity = v as usize)
    }),
    ("outputs.rate", |c, n| {
        float(n, 0.0, 1e9).map(|v| c.outputs_rate = v)
    }),
    ("outputs.max_burst", |c, n| {
        uint(n, 1, u32::MAX.into()).map(|v| c.outputs_max_burst = v as u32)
    }),
    ("stdout_output.enabled", |c, n| {
        boolean(n).map(|v| c.stdout_output = v)
    }),
    ("syslog_output.enabled", |c, n| {
        boolean(n).map(|v| c.syslog_output.enabled = v)
    }),
    ("syslog_output.path", |c, n| {
        text(n).map(|v| c.syslog_output.path = v.into())
    }),
    ("file_output.enabled", |c, n| {
        boolean(n).map(|v| c.file_output.enabled = v)
    }),
    ("file_output.keep_alive", |c, n| {
        boolean(n).map(|v| c.file_output.keep_alive = v)
    }),
    ("file_output.filename", |c, n| {
        text(n).map(|v| c.file_output.filename = v.into())
    }),
    ("program_output.enabled", |c, n| {
        boolean(n).map(|v| c.program_output.enabled = v)
    }),
    ("program_output.keep_alive", |c, n| {
        boolean(n).map(|v| c.program_output.keep_alive = v)
    }),
    ("program_output.program", |c, n| {
        text(n).map(|v| c.program_output.program = v)
    }),
    ("http_output.enabled", |c, n| {
        boolean(n).map(|v| c.http_output.enabled = v)
    }),
    ("http_output.url", |c, n| {
        http_url(n).map(|v| c.http_output.url = v)
    }),
    ("http_output.user_agent", |c, n| {
        text(n).map(|v| c.http_output.user_agent = v)
    }),
    ("log_stderr", |c, n| boolean(n).map(|v| c.log_stderr = v)),
    ("log_syslog", |c, n| boolean(n).map(|v| c.log_syslog = v)),
    ("log_level", |c, n| log_level(n).map(|v| c.log_level = v)),
    ("syscall_event_drops.threshold", |c, n| {
        float(n, 0.0, 1.0).map(|v| c.syscall_event_drops.threshold = v)
    }),
    ("syscall_event_drops.actions", |c, n| {
        drop_actions(n).map(|v| c.syscall_event_drops.actions = v)
    }),
    ("syscall_event_drops.rate", |c, n| {
        float(n, 0.0, 1e6).map(|v| c.syscall_event_drops.rate = v)
    }),
    ("syscall_event_drops.max_burst", |c, n| {
        uint(n, 0, u32::MAX.into()).map(|v| c.syscall_event_drops.max_burst = v as u32)
    }),
    ("metrics.enabled", |c, n| boolean(n).map(|v| c.metrics = v)),
    ("webserver.enabled", |c, n| {
        boolean(n).map(|v| c.webserver.enabled = v)
    }),
    ("webserver.listen_address", |c, n| {
        let a = text(n)?;
        a.parse::<std::net::IpAddr>()
            .map_err(|_| format!("expected an IP address, found {a:?}"))?;
        c.webserver.listen_address = a;
        Ok(())
    }),
    ("webserver.listen_port", |c, n| {
        uint(n, 0, 65535).map(|v| c.webserver.listen_port = v as u16)
    }),
    ("webserver.k8s_healthz_endpoint", |c, n| {
        let p = text(n)?;
        if !p.starts_with('/') {
            return Err(format!("expected a path starting with /, found {p:?}"));
        }
        c.webserver.k8s_healthz_endpoint = p;
        Ok(())
    }),
    ("rule_workers", |c, n| {
        uint(n, 1, 64).map(|v| c.rule_workers = v as usize)
    }),
    ("syscall_buf_size_preset", |c, n| {
        uint(n, 0, 10).map(|v| c.syscall_buf_size_preset = v as u8)
    }),
];

fn setter(key: &str) -> Option<Setter> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

fn is_section(key: &str) -> bool {
    KEYS.iter()
        .any(|(k, _)| k.len() > key.len() && k.starts_with(key) && k.as_bytes()[key.len()] == b'.')
}

/// Applies mappings and values to a configuration, collecting problems.
struct Applier<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<Error>,
    warnings: Vec<Error>,
}

impl Applier<'_> {
    fn set(&mut self, c: &mut Config, key: &str, key_pos: Pos, value: &Node) {
        if let Some(set) = setter(key) {
            if let Err(message) = set(c, value) {
                let kind = ErrorKind::BadValue {
                    key: key.to_string(),
                    message,
                };
                self.errors
                    .push(Error::at(kind, self.file, self.text, value.start));
            }
        } else if is_section(key) {
            match &value.kind {
                NodeKind::Map(pairs) => self.map(c, key, pairs),
                _ if value.is_null() => {}
                _ => {
                    let kind = ErrorKind::BadValue {
                        key: key.to_string(),
                        message: format!("expected a mapping, found a {}", value.type_name()),
                    };
                    self.errors
                        .push(Error::at(kind, self.file, self.text, value.start));
                }
            }
        } else {
            let kind = ErrorKind::UnknownKey(key.to_string());
            self.warnings
                .push(Error::at(kind, self.file, self.text, key_pos));
        }
    }

    fn map(&mut self, c: &mut Config, prefix: &str, pairs: &[(Node, Node)]) {
        for (k, v) in pairs {
            let name = k.as_str().unwrap_or_default();
            let key = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            self.set(c, &key, k.start, v);
        }
    }
}

/// Applies the YAML `text` (named `file`) to `config`.
fn apply_text(
    config: &mut Config,
    file: &str,
    text: &str,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Error>,
) {
    let docs = match parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            errors.push(Error::at(ErrorKind::Yaml(e.message), file, text, e.pos));
            return;
        }
    };
    let mut a = Applier {
        file,
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    for doc in &docs {
        match &doc.kind {
            NodeKind::Map(pairs) => a.map(config, "", pairs),
            _ if doc.is_null() => {}
            _ => a
                .errors
                .push(Error::at(ErrorKind::NotMapping, file, text, doc.start)),
        }
    }
    errors.append(&mut a.errors);
    warnings.append(&mut a.warnings);
}

/// Applies one `-o key=value` override; the value is YAML (`true`, `8`,
/// `[a, b]`, `{enabled: true}`).
fn apply_override(
    config: &mut Config,
    arg: &str,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Error>,
) {
    let Some((key, value)) = arg.split_once('=') else {
        errors.push(Error {
            kind: ErrorKind::BadOverride(arg.to_string()),
            file: "-o".into(),
            line: 0,
            col: 0,
            line_text: String::new(),
        });
        return;
    };
    let key = key.trim();
    let name = format!("-o {key}");
    let node = match parse_documents(value) {
        Ok(docs) => docs.into_iter().next(),
        Err(e) => {
            errors.push(Error::at(ErrorKind::Yaml(e.message), &name, value, e.pos));
            return;
        }
    };
    let node = node.unwrap_or(Node {
        kind: NodeKind::Scalar(String::new(), crate::rules::yaml::Style::Plain),
        start: Pos {
            offset: 0,
            line: 1,
            col: 1,
        },
        end: Pos::default(),
    });
    let mut a = Applier {
        file: &name,
        text: value,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    a.set(config, key, node.start, &node);
    errors.append(&mut a.errors);
    warnings.append(&mut a.warnings);
}

/// Builds a configuration from the defaults, the YAML `text` of `file` (if
/// any) and the overrides, in that order. All errors are collected.
pub fn from_text(
    file: &str,
    text: Option<&str>,
    overrides: &[String],
) -> Result<Loaded, Vec<Error>> {
    let mut config = Config::default();
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    if let Some(text) = text {
        apply_text(&mut config, file, text, &mut errors, &mut warnings);
    }
    for o in overrides {
        apply_override(&mut config, o, &mut errors, &mut warnings);
    }
    if errors.is_empty() {
        Ok(Loaded { config, warnings })
    } else {
        Err(errors)
    }
}

/// Loads the configuration file `path` and applies the overrides.
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, Vec<Error>> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => from_text(&name, Some(&text), overrides),
        Err(e) => Err(vec![Error {
            kind: ErrorKind::Read(e.to_string()),
            file: name,
            line: 0,
            col: 0,
            line_text: String::new(),
        }]),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
