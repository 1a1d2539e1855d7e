//! The stdout sink: one line per alert on standard output (or any writer),
//! flushed per alert unless outputs are buffered.

use std::io::{self, Write};

use super::sink::{Rendered, Sink};

/// Writes alert lines to a stream.
pub struct StdoutSink {
    out: Box<dyn Write + Send>,
    buffered: bool,
}

impl StdoutSink {
    /// A sink on the process's standard output.
    pub fn new(buffered: bool) -> StdoutSink {
        StdoutSink::with_writer(Box::new(io::stdout()), buffered)
    }

    /// A sink on `out` (tests, or another stream).
    pub fn with_writer(out: Box<dyn Write + Send>, buffered: bool) -> StdoutSink {
        let out: Box<dyn Write + Send> = if buffered {
            Box::new(io::BufWriter::with_capacity(1 << 16, out))
        } else {
            out
        };
        StdoutSink { out, buffered }
    }
}

impl Sink for StdoutSink {
    fn name(&self) -> &'static str {
        "stdout_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        self.out.write_all(a.line.as_bytes())?;
        self.out.write_all(b"\n")?;
        if !self.buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::{rendered, TempDir};

    #[test]
    fn writes_one_line_per_alert_flushed_unless_buffered() {
        let dir = TempDir::new("stdout");
        for buffered in [false, true] {
            let path = dir.path().join(format!("out-{buffered}"));
            let file = std::fs::File::create(&path).unwrap();
            let mut s = StdoutSink::with_writer(Box::new(file), buffered);
            s.send(&rendered("first")).unwrap();
            s.send(&rendered("second")).unwrap();
            let seen = std::fs::read_to_string(&path).unwrap();
            assert_eq!(seen.is_empty(), buffered, "buffered={buffered}: {seen:?}");
            s.close().unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
        }
    }
}
