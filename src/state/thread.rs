//! Thread state: the process table seeded from a capture's process list and
//! kept current by clone/execve/procexit events, bounded in size.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::container::id_from_cgroups;
use super::fd::FdTable;
use crate::capture::meta::ThreadInfo;

/// Most threads kept; beyond this the least recently active is evicted.
pub const MAX_THREADS: usize = 131_072;

/// One thread as the state knows it.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    /// Thread id.
    pub tid: u64,
    /// Process id.
    pub pid: u64,
    /// Parent thread id.
    pub ptid: u64,
    /// Command name (`proc.name`).
    pub comm: String,
    /// argv\[0\] (`proc.exe`).
    pub exe: String,
    /// Executable path (`proc.exepath`).
    pub exepath: String,
    /// Arguments after argv\[0\].
    pub args: Vec<String>,
    /// Working directory, with a trailing `/`.
    pub cwd: String,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Login uid (-1 unset).
    pub loginuid: i32,
    /// Thread id in its pid namespace.
    pub vtid: i64,
    /// Process id in its pid namespace.
    pub vpid: i64,
    /// `PPM_CL_*` flags.
    pub flags: u32,
    /// Environment, `NAME=value` each.
    pub env: Vec<String>,
    /// Controlling terminal number (0 none).
    pub tty: u32,
    /// When the thread was created (its clone exit), 0 if unknown.
    pub clone_ts: u64,
    /// Short container id from the cgroups; empty for host threads.
    pub container_id: String,
}

/// Largest enter event kept per thread.
const MAX_ENTER_KEPT: usize = 4096;

impl Thread {
    /// A thread from a capture's process list entry.
    pub fn from_meta(t: &ThreadInfo) -> Thread {
        Thread {
            tid: t.tid,
            pid: t.pid,
            ptid: t.ptid,
            comm: t.comm.clone(),
            exe: t.exe.clone(),
            exepath: t.exepath.clone(),
            args: t.args.clone(),
            cwd: with_slash(&t.cwd),
            uid: t.uid,
            gid: t.gid,
            loginuid: t.loginuid,
            vtid: t.vtid,
            vpid: t.vpid,
            flags: t.flags,
            env: t.env.clone(),
            tty: 0,
            clone_ts: 0,
            container_id: id_from_cgroups(t.cgroups.iter().map(String::as_str)),
        }
    }

    /// `proc.cmdline`: comm followed by the arguments.
    pub fn cmdline(&self) -> String {
        let mut s = self.comm.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// What changes with nearly every event of a thread, kept apart from the
/// shared [`Thread`] so that updating it never copies the thread.
#[derive(Debug, Clone, Default)]
pub struct Hot {
    /// Timestamp of the last event of this thread.
    pub last_ts: u64,
    /// The descriptor of the thread's last fd-using enter event (exit
    /// events operate on it); 0 until one is seen.
    pub lastevent_fd: i64,
    /// Bytes of the thread's last enter event (exit events take their fd and
    /// path from it).
    pub last_enter: Vec<u8>,
    /// The descriptor of a close enter event whose exit event has not come
    /// yet, with the close enter event's timestamp.
    pub pending_close: Option<(i64, u64)>,
}

impl Hot {
    /// Keeps a copy of an enter event (truncated to a bound).
    pub fn set_last_enter(&mut self, raw: &[u8]) {
        self.last_enter.clear();
        if raw.len() <= MAX_ENTER_KEPT {
            self.last_enter.extend_from_slice(raw);
        }
    }
}

/// A directory with a trailing slash (empty stays empty).
pub fn with_slash(dir: &str) -> String {
    let mut s = dir.to_string();
    if !s.is_empty() && !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// A thread of the table: the shared part, which evaluation snapshots hold
/// by reference, and the part each event changes.
#[derive(Debug, Clone)]
struct Slot {
    thread: Arc<Thread>,
    hot: Hot,
}

/// All threads, and the fd tables of their processes.
#[derive(Debug, Default)]
pub struct ThreadTable {
    threads: HashMap<u64, Slot>,
    fds: HashMap<u64, FdTable>,
}

impl ThreadTable {
    /// The thread `tid`.
    pub fn get(&self, tid: u64) -> Option<&Thread> {
        self.threads.get(&tid).map(|s| &*s.thread)
    }

    /// The thread `tid` as a shared reference, for snapshots.
    pub fn get_shared(&self, tid: u64) -> Option<&Arc<Thread>> {
        self.threads.get(&tid).map(|s| &s.thread)
    }

    /// The thread `tid`, mutably; copied first if a snapshot still holds it.
    pub fn get_mut(&mut self, tid: u64) -> Option<&mut Thread> {
        self.threads
            .get_mut(&tid)
            .map(|s| Arc::make_mut(&mut s.thread))
    }

    /// What changes with every event of thread `tid`.
    pub fn hot(&self, tid: u64) -> Option<&Hot> {
        self.threads.get(&tid).map(|s| &s.hot)
    }

    /// What changes with every event of thread `tid`, mutably.
    pub fn hot_mut(&mut self, tid: u64) -> Option<&mut Hot> {
        self.threads.get_mut(&tid).map(|s| &mut s.hot)
    }

    /// Adds or replaces a thread, last active at `ts`, evicting the least
    /// recently active one if the table is full.
    pub fn insert(&mut self, t: Thread, ts: u64) {
        if self.threads.len() >= MAX_THREADS && !self.threads.contains_key(&t.tid) {
            if let Some(old) = self
                .threads
                .iter()
                .min_by_key(|(_, s)| s.hot.last_ts)
                .map(|(tid, _)| *tid)
            {
                self.remove(old);
            }
        }
        let hot = Hot {
            last_ts: ts,
            ..Hot::default()
        };
        self.threads.insert(
            t.tid,
            Slot {
                thread: Arc::new(t),
                hot,
            },
        );
    }

    /// Removes a thread; the fd table goes with the process's main thread.
    pub fn remove(&mut self, tid: u64) -> Option<Arc<Thread>> {
        let s = self.threads.remove(&tid)?;
        if s.thread.pid == tid {
            self.fds.remove(&tid);
        }
        Some(s.thread)
    }

    /// The fd table of the process of thread `tid`.
    pub fn fds(&self, tid: u64) -> Option<&FdTable> {
        let pid = self.threads.get(&tid).map_or(tid, |s| s.thread.pid);
        self.fds.get(&pid)
    }

    /// The fd table of the process of thread `tid`, created if missing.
    pub fn fds_mut(&mut self, tid: u64) -> &mut FdTable {
        let pid = self.threads.get(&tid).map_or(tid, |s| s.thread.pid);
        self.fds.entry(pid).or_default()
    }

    /// The fd table of the process of thread `tid`, if it has one.
    pub fn fds_existing_mut(&mut self, tid: u64) -> Option<&mut FdTable> {
        let pid = self.threads.get(&tid).map_or(tid, |s| s.thread.pid);
        self.fds.get_mut(&pid)
    }

    /// A copy of the fd table of process `pid` under a new process id.
    pub fn copy_fds(&mut self, from_pid: u64, to_pid: u64) {
        if let Some(t) = self.fds.get(&from_pid).cloned() {
            self.fds.insert(to_pid, t);
        }
    }

    /// Number of threads.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Open descriptors across every process's table.
    pub fn fd_count(&self) -> usize {
        self.fds.values().map(FdTable::len).sum()
    }

    /// Whether there are no threads.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }
}
