//! The pidfile: created, locked with flock(2) and written with our pid, so a
//! second instance finds the lock taken and refuses with the first one's pid;
//! removed when dropped.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why a pidfile could not be taken.
#[derive(Debug)]
pub enum PidfileError {
    /// Another process holds the lock.
    Locked {
        /// The pid it wrote, if readable.
        pid: Option<u32>,
    },
    /// Opening, locking or writing failed.
    Io(io::Error),
}

/// A locked pidfile.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    file: Flock<File>,
}

impl Pidfile {
    /// Opens (creating) and locks `path`; fails with [`PidfileError::Locked`]
    /// if another process holds it. The pid is written by
    /// [`Pidfile::write_pid`], after detaching.
    pub fn acquire(path: &Path) -> Result<Pidfile, PidfileError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(PidfileError::Io)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(file) => Ok(Pidfile {
                path: path.to_path_buf(),
                file,
            }),
            Err((mut file, Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(PidfileError::Locked {
                    pid: text.trim().parse().ok(),
                })
            }
            Err((_, e)) => Err(PidfileError::Io(e.into())),
        }
    }

    /// Writes this process's pid (after a fork, the child's).
    pub fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        writeln!(*self.file, "{}", std::process::id())?;
        self.file.sync_all()
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        // Removed while still locked, so no other instance is misled by it.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_pid_and_the_file_goes_at_drop() {
        let path = std::env::temp_dir().join(format!("saker-pidfile-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut first = Pidfile::acquire(&path).unwrap();
        first.write_pid().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        // flock locks belong to the open file: a second open is refused.
        match Pidfile::acquire(&path) {
            Err(PidfileError::Locked { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(first);
        assert!(!path.exists());
        let again = Pidfile::acquire(&path).unwrap();
        drop(again);
        assert!(!path.exists());
    }

    #[test]
    fn an_unwritable_place_is_an_io_error() {
        let r = Pidfile::acquire(Path::new("/nonexistent-dir/saker.pid"));
        assert!(matches!(r, Err(PidfileError::Io(_))));
    }
}
