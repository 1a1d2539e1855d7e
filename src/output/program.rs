//! The program sink: feeds alert lines to a shell command's standard input,
//! one command for all alerts (`keep_alive`, restarted if it exits) or one
//! command per alert.

use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use super::sink::{Rendered, Sink};

/// Pipes alert lines into a program.
pub struct ProgramSink {
    command: String,
    keep_alive: bool,
    buffered: bool,
    running: Option<(Child, io::BufWriter<ChildStdin>)>,
}

fn spawn(command: &str) -> io::Result<(Child, io::BufWriter<ChildStdin>)> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("program has no standard input"))?;
    Ok((child, io::BufWriter::new(stdin)))
}

impl ProgramSink {
    /// A sink running `command` with `/bin/sh -c`.
    pub fn new(command: &str, keep_alive: bool, buffered: bool) -> ProgramSink {
        ProgramSink {
            command: command.to_string(),
            keep_alive,
            buffered,
            running: None,
        }
    }

    /// Closes the kept program's input and waits for it.
    fn stop(&mut self) -> io::Result<()> {
        if let Some((mut child, mut stdin)) = self.running.take() {
            let flushed = stdin.flush();
            drop(stdin);
            child.wait()?;
            flushed?;
        }
        Ok(())
    }
}

impl Sink for ProgramSink {
    fn name(&self) -> &'static str {
        "program_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        if !self.keep_alive {
            let (mut child, mut stdin) = spawn(&self.command)?;
            let written = writeln!(stdin, "{}", a.line).and_then(|()| stdin.flush());
            drop(stdin);
            let status = child.wait()?;
            if !status.success() {
                return Err(io::Error::other(format!("program exited with {status}")));
            }
            return written;
        }
        // A kept program that exited is started again.
        if let Some((child, _)) = self.running.as_mut() {
            if child.try_wait()?.is_some() {
                self.stop()?;
            }
        }
        if self.running.is_none() {
            self.running = Some(spawn(&self.command)?);
        }
        let Some((_, stdin)) = self.running.as_mut() else {
            return Ok(());
        };
        let written = writeln!(stdin, "{}", a.line).and_then(|()| {
            if self.buffered {
                Ok(())
            } else {
                stdin.flush()
            }
        });
        if written.is_err() {
            let _ = self.stop();
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.running.as_mut() {
            Some((_, stdin)) => stdin.flush(),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> io::Result<()> {
        self.stop()
    }
}

impl Drop for ProgramSink {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::{rendered, TempDir};
    use std::time::{Duration, Instant};

    fn wait_for(path: &std::path::Path, text: &str) -> String {
        let t0 = Instant::now();
        loop {
            let got = std::fs::read_to_string(path).unwrap_or_default();
            if got == text || t0.elapsed() > Duration::from_secs(10) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn feeds_a_program_per_alert_or_kept_alive() {
        let dir = TempDir::new("program");
        for keep_alive in [false, true] {
            let out = dir.path().join(format!("out-{keep_alive}"));
            let cmd = format!("cat >> '{}'", out.display());
            let mut s = ProgramSink::new(&cmd, keep_alive, false);
            s.send(&rendered("one")).unwrap();
            s.send(&rendered("two")).unwrap();
            assert_eq!(
                wait_for(&out, "one\ntwo\n"),
                "one\ntwo\n",
                "keep_alive={keep_alive}"
            );
            s.close().unwrap();
        }
    }

    #[test]
    fn a_kept_program_that_exits_is_restarted() {
        let dir = TempDir::new("program-restart");
        let out = dir.path().join("out");
        // Takes one line and exits.
        let cmd = format!("head -n 1 >> '{}'", out.display());
        let mut s = ProgramSink::new(&cmd, true, false);
        s.send(&rendered("a")).unwrap();
        assert_eq!(wait_for(&out, "a\n"), "a\n");
        // Until the sink notices the exit a write may fail; it then restarts.
        let t0 = Instant::now();
        loop {
            let _ = s.send(&rendered("b"));
            std::thread::sleep(Duration::from_millis(50));
            let got = std::fs::read_to_string(&out).unwrap();
            if got != "a\n" || t0.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("a\nb\n"));
    }

    #[test]
    fn a_failing_program_is_an_error() {
        let mut s = ProgramSink::new("exit 3", false, false);
        let e = s.send(&rendered("x")).unwrap_err();
        assert!(e.to_string().contains("exit status: 3"), "{e}");
    }
}
