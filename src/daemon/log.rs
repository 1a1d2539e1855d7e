//! The daemon's own messages (not alerts): to stderr and/or syslog (facility
//! daemon, tag `saker`), filtered by `log_level`, reconfigured on reload.

use std::io::Write;
use std::sync::Mutex;

use crate::config::{Config, LogLevel};
use crate::output::alert::{iso8601, now_ns};
use crate::output::syslog::{Syslog, FACILITY_DAEMON};

struct Targets {
    stderr: bool,
    syslog: Option<Syslog>,
    level: LogLevel,
}

/// Where daemon messages go.
pub struct Logger {
    targets: Mutex<Targets>,
}

impl Logger {
    /// Messages to stderr only, at `info`, until configured.
    pub fn stderr() -> Logger {
        Logger {
            targets: Mutex::new(Targets {
                stderr: true,
                syslog: None,
                level: LogLevel::Info,
            }),
        }
    }

    /// Applies `log_stderr`, `log_syslog` (to the `syslog_output.path`
    /// socket) and `log_level`.
    pub fn configure(&self, c: &Config) {
        let syslog = if c.log_syslog {
            Syslog::new(&c.syslog_output.path, "saker", FACILITY_DAEMON).ok()
        } else {
            None
        };
        if let Ok(mut t) = self.targets.lock() {
            *t = Targets {
                stderr: c.log_stderr,
                syslog,
                level: c.log_level,
            };
        }
    }

    /// Logs `message` at `level`.
    pub fn log(&self, level: LogLevel, message: &str) {
        let Ok(t) = self.targets.lock() else { return };
        if level > t.level {
            return;
        }
        if t.stderr {
            let ts = iso8601(now_ns());
            let _ = writeln!(std::io::stderr(), "{}: {message}", &ts[..19]);
        }
        if let Some(s) = &t.syslog {
            let severity = match level {
                LogLevel::Error => 3,
                LogLevel::Warning => 4,
                LogLevel::Notice => 5,
                LogLevel::Info => 6,
                LogLevel::Debug => 7,
            };
            let _ = s.send(severity, message);
        }
    }

    /// Logs at `error`.
    pub fn error(&self, m: &str) {
        self.log(LogLevel::Error, m);
    }

    /// Logs at `warning`.
    pub fn warn(&self, m: &str) {
        self.log(LogLevel::Warning, m);
    }

    /// Logs at `info`.
    pub fn info(&self, m: &str) {
        self.log(LogLevel::Info, m);
    }
}
