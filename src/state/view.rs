//! Read access to the state for field extraction: the live [`State`], or a
//! [`Snapshot`] of everything one event's evaluation can read, taken on the
//! state thread in event order and handed to a worker thread. A snapshot
//! holds threads and containers by reference count (the state copies a
//! shared thread before changing it), so taking one copies little and
//! workers never touch the shared tables.

use std::net::IpAddr;
use std::sync::Arc;

use super::container::Container;
use super::fd::Fd;
use super::thread::Thread;
use super::State;
use crate::event::params;
use crate::event::schema::ParamType;
use crate::event::view::EventView;

/// Most ancestors a snapshot keeps (deeper ones read as unknown).
pub const MAX_ANCESTORS: usize = 64;

/// What field extractors may read of the state.
pub trait View {
    /// The thread `tid`.
    fn thread(&self, tid: u64) -> Option<&Thread>;
    /// The descriptor `fd` of thread `tid`'s process.
    fn fd(&self, tid: u64, fd: i64) -> Option<&Fd>;
    /// The name of user `uid`.
    fn user(&self, uid: u32) -> Option<&str>;
    /// The name of group `gid`.
    fn group(&self, gid: u32) -> Option<&str>;
    /// The container with short id `id`.
    fn container(&self, id: &str) -> Option<&Container>;
    /// Whether `addr` belongs to the machine thread `tid` runs on.
    fn is_local_addr(&self, tid: u64, addr: IpAddr) -> bool;
    /// The last enter event kept for thread `tid` (a snapshot keeps it only
    /// when it is the enter of the snapshot's exit event, the one use).
    fn last_enter(&self, tid: u64) -> Option<&[u8]>;
}

impl View for State {
    fn thread(&self, tid: u64) -> Option<&Thread> {
        self.threads.get(tid)
    }
    fn fd(&self, tid: u64, fd: i64) -> Option<&Fd> {
        State::fd(self, tid, fd)
    }
    fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
    fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
    fn container(&self, id: &str) -> Option<&Container> {
        self.containers.get(id)
    }
    fn is_local_addr(&self, tid: u64, addr: IpAddr) -> bool {
        State::is_local_addr(self, tid, addr)
    }
    fn last_enter(&self, tid: u64) -> Option<&[u8]> {
        self.threads.hot(tid).map(|h| h.last_enter.as_slice())
    }
}

/// What one event's evaluation can read of the state at that event: its
/// thread, the process's main thread, their ancestors, the threads and
/// descriptors its parameters name, the descriptor it operates on, its
/// container, the user and group names and the local addresses.
/// Buffers are kept across [`Snapshot::take`] calls.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    tid: u64,
    threads: Vec<Arc<Thread>>,
    fds: Vec<(i64, Fd)>,
    last_enter: Vec<u8>,
    has_enter: bool,
    container: Option<Arc<Container>>,
    users: Arc<super::Names>,
    groups: Arc<super::Names>,
    local_addrs: Arc<Vec<IpAddr>>,
}

impl Snapshot {
    /// Takes what `e` (operating on descriptor `fd`) can read of `state`.
    pub fn take(&mut self, state: &State, e: &EventView<'_>, fd: Option<i64>) {
        let tid = e.tid();
        self.tid = tid;
        self.threads.clear();
        self.fds.clear();
        self.last_enter.clear();
        self.has_enter = false;
        self.container = None;
        if !Arc::ptr_eq(&self.users, &state.users) {
            self.users = Arc::clone(&state.users);
        }
        if !Arc::ptr_eq(&self.groups, &state.groups) {
            self.groups = Arc::clone(&state.groups);
        }
        if !Arc::ptr_eq(&self.local_addrs, &state.local_addrs) {
            self.local_addrs = Arc::clone(&state.local_addrs);
        }
        // Extractors read the kept enter event only as the enter of this
        // exit; any other is not copied.
        if let Some(h) = state.threads.hot(tid).filter(|_| !e.is_enter()) {
            let ty = h
                .last_enter
                .get(20..22)
                .map(|b| u16::from_le_bytes([b[0], b[1]]));
            if ty.is_some_and(|t| t.wrapping_add(1) == e.event_type()) {
                self.last_enter.extend_from_slice(&h.last_enter);
                self.has_enter = true;
            }
        }
        if let Some(t) = state.threads.get_shared(tid) {
            if !t.container_id.is_empty() {
                self.container = state.containers.get_shared(&t.container_id).cloned();
            }
            let pid = t.pid;
            self.add_lineage(state, tid);
            self.add_lineage(state, pid);
        }
        let add_fd = |snap: &mut Snapshot, n: i64| {
            if snap.fds.iter().all(|(have, _)| *have != n) {
                if let Some(f) = state.fd(tid, n) {
                    snap.fds.push((n, f.clone()));
                }
            }
        };
        if let Some(n) = fd {
            add_fd(self, n);
        }
        if let Some(info) = e.info() {
            for (i, p) in info.params.iter().enumerate() {
                let v = || e.param(i).and_then(params::int);
                match p.ty {
                    ParamType::Fd => {
                        if let Some(n) = v() {
                            add_fd(self, n);
                        }
                    }
                    ParamType::Fdlist => {
                        let b = e.param(i).unwrap_or_default();
                        let count = b.get(..2).and_then(params::uint).unwrap_or(0) as usize;
                        for k in 0..count {
                            match b.get(2 + k * 10..10 + k * 10).and_then(params::int) {
                                Some(n) => add_fd(self, n),
                                None => break,
                            }
                        }
                    }
                    ParamType::Pid => {
                        if let Some(n) = v().filter(|n| *n > 0) {
                            self.add_thread(state, n as u64);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn has(&self, tid: u64) -> bool {
        self.threads.iter().any(|t| t.tid == tid)
    }

    fn add_thread(&mut self, state: &State, tid: u64) -> bool {
        if self.has(tid) {
            return true;
        }
        match state.threads.get_shared(tid) {
            Some(t) => {
                self.threads.push(Arc::clone(t));
                true
            }
            None => false,
        }
    }

    /// Thread `tid` and its ancestors by parent thread id; a thread already
    /// taken came with its ancestors.
    fn add_lineage(&mut self, state: &State, tid: u64) {
        let mut cur = tid;
        for _ in 0..=MAX_ANCESTORS {
            if self.has(cur) {
                return;
            }
            let Some(t) = state.threads.get_shared(cur) else {
                return;
            };
            self.threads.push(Arc::clone(t));
            if t.ptid == cur {
                return;
            }
            cur = t.ptid;
        }
    }
}

impl View for Snapshot {
    fn thread(&self, tid: u64) -> Option<&Thread> {
        self.threads.iter().find(|t| t.tid == tid).map(|t| &**t)
    }
    fn fd(&self, tid: u64, fd: i64) -> Option<&Fd> {
        if tid != self.tid {
            return None;
        }
        self.fds.iter().find(|(n, _)| *n == fd).map(|(_, f)| f)
    }
    fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
    fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
    fn container(&self, id: &str) -> Option<&Container> {
        self.container.as_deref().filter(|c| c.id == id)
    }
    fn is_local_addr(&self, tid: u64, addr: IpAddr) -> bool {
        let container_ip = self
            .thread(tid)
            .filter(|t| !t.container_id.is_empty())
            .and_then(|t| self.container(&t.container_id))
            .and_then(|c| c.ip);
        match container_ip {
            Some(ip) => ip == addr,
            None => self.local_addrs.contains(&addr),
        }
    }
    fn last_enter(&self, tid: u64) -> Option<&[u8]> {
        (tid == self.tid && self.has_enter).then_some(self.last_enter.as_slice())
    }
}
