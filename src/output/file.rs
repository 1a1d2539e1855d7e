//! The file sink: appends alert lines to a file, opened per alert or kept
//! open (`keep_alive`) and reopened on request, for log rotation.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::sink::{Rendered, Sink};

/// Appends alert lines to a file.
pub struct FileSink {
    path: PathBuf,
    keep_alive: bool,
    buffered: bool,
    file: Option<BufWriter<File>>,
}

fn open_append(path: &Path) -> io::Result<BufWriter<File>> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

impl FileSink {
    /// A sink appending to `path`. With `keep_alive` the file is opened now
    /// and kept; otherwise it is opened for each alert.
    pub fn new(path: &Path, keep_alive: bool, buffered: bool) -> io::Result<FileSink> {
        let file = if keep_alive {
            Some(open_append(path)?)
        } else {
            None
        };
        Ok(FileSink {
            path: path.to_path_buf(),
            keep_alive,
            buffered,
            file,
        })
    }
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        if !self.keep_alive {
            let mut f = open_append(&self.path)?;
            writeln!(f, "{}", a.line)?;
            return f.flush();
        }
        if self.file.is_none() {
            self.file = Some(open_append(&self.path)?);
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        let written =
            writeln!(f, "{}", a.line).and_then(|()| if self.buffered { Ok(()) } else { f.flush() });
        if written.is_err() {
            // Open again with the next alert.
            self.file = None;
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        let flushed = self.flush();
        self.file = None;
        if self.keep_alive {
            self.file = Some(open_append(&self.path)?);
        }
        flushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::{rendered, TempDir};

    #[test]
    fn appends_with_and_without_keep_alive() {
        let dir = TempDir::new("file");
        for (keep_alive, buffered) in [(false, false), (true, false), (true, true)] {
            let path = dir
                .path()
                .join(format!("alerts-{keep_alive}-{buffered}.txt"));
            std::fs::write(&path, "old\n").unwrap();
            let mut s = FileSink::new(&path, keep_alive, buffered).unwrap();
            s.send(&rendered("a")).unwrap();
            s.send(&rendered("b")).unwrap();
            s.flush().unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\na\nb\n");
        }
    }

    #[test]
    fn reopen_follows_rotation() {
        let dir = TempDir::new("file-rotate");
        let path = dir.path().join("alerts.txt");
        let rotated = dir.path().join("alerts.txt.1");
        let mut s = FileSink::new(&path, true, false).unwrap();
        s.send(&rendered("before")).unwrap();
        std::fs::rename(&path, &rotated).unwrap();
        s.send(&rendered("still old")).unwrap();
        s.reopen().unwrap();
        s.send(&rendered("after")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated).unwrap(),
            "before\nstill old\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "after\n");
    }

    #[test]
    fn an_unwritable_path_is_an_error_not_a_panic() {
        let dir = TempDir::new("file-bad");
        let path = dir.path().join("no/such/dir/alerts.txt");
        assert!(FileSink::new(&path, true, false).is_err());
        let mut s = FileSink::new(&path, false, false).unwrap();
        assert!(s.send(&rendered("x")).is_err());
    }
}
