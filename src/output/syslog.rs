//! The syslog sink: one datagram per alert to the local syslog socket
//! (`/dev/log` or a configured path), tagged `saker` with the alert's
//! priority as severity.
//!
//! The message is the local socket form glibc's syslog(3) sends, without the
//! timestamp, which journald and rsyslog take from reception:
//! `<PRI>saker[PID]: MESSAGE` with PRI = facility * 8 + severity. The few
//! bytes are written here over a std Unix datagram socket rather than through
//! libc's syslog (no unsafe code, and a test can bind the socket).

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use super::alert::Priority;
use super::sink::{Rendered, Sink};

/// The `user` facility.
pub const FACILITY_USER: u8 = 1;
/// The `daemon` facility.
pub const FACILITY_DAEMON: u8 = 3;

/// A connection-less writer to a syslog socket.
#[derive(Debug)]
pub struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
    tag: String,
    facility: u8,
}

impl Syslog {
    /// A writer to the socket at `path` with `tag` and `facility`.
    pub fn new(path: &Path, tag: &str, facility: u8) -> io::Result<Syslog> {
        Ok(Syslog {
            socket: UnixDatagram::unbound()?,
            path: path.to_path_buf(),
            tag: tag.to_string(),
            facility,
        })
    }

    /// The datagram for `message` at syslog `severity` (0..=7).
    pub fn format(&self, severity: u8, message: &str) -> String {
        let pri = u16::from(self.facility) * 8 + u16::from(severity.min(7));
        format!("<{pri}>{}[{}]: {message}", self.tag, std::process::id())
    }

    /// Sends `message` at `severity`.
    pub fn send(&self, severity: u8, message: &str) -> io::Result<()> {
        let d = self.format(severity, message);
        self.socket.send_to(d.as_bytes(), &self.path).map(|_| ())
    }
}

/// Alerts to syslog.
pub struct SyslogSink {
    log: Syslog,
}

impl SyslogSink {
    /// A sink writing to the syslog socket at `path`, facility `user`.
    pub fn new(path: &Path) -> io::Result<SyslogSink> {
        Ok(SyslogSink {
            log: Syslog::new(path, "saker", FACILITY_USER)?,
        })
    }
}

impl Sink for SyslogSink {
    fn name(&self) -> &'static str {
        "syslog_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        self.log
            .send(Priority::syslog_severity(a.alert.priority), &a.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::{alert, TempDir};
    use std::time::Duration;

    #[test]
    fn sends_tagged_datagrams_with_the_priority_as_severity() {
        let dir = TempDir::new("syslog");
        let path = dir.path().join("log.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut s = SyslogSink::new(&path).unwrap();
        let pid = std::process::id();
        for (p, pri) in [
            (Priority::Emergency, 8),
            (Priority::Error, 11),
            (Priority::Warning, 12),
            (Priority::Debug, 15),
        ] {
            let r = Rendered {
                alert: alert("x", p),
                line: format!("{p} alert"),
            };
            s.send(&r).unwrap();
            let mut buf = [0u8; 512];
            let n = server.recv(&mut buf).unwrap();
            assert_eq!(
                std::str::from_utf8(&buf[..n]).unwrap(),
                format!("<{pri}>saker[{pid}]: {p} alert")
            );
        }
    }

    #[test]
    fn a_missing_socket_is_an_error() {
        let dir = TempDir::new("syslog-missing");
        let mut s = SyslogSink::new(&dir.path().join("none.sock")).unwrap();
        let r = Rendered {
            alert: alert("x", Priority::Error),
            line: "x".into(),
        };
        assert!(s.send(&r).is_err());
    }
}
