//! System state rebuilt from events: threads and processes, their open file
//! descriptors, users and groups, and containers.

pub mod container;
pub mod fd;
pub mod procfs;
pub mod thread;
pub mod update;
pub mod view;

#[cfg(test)]
mod update_tests;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::capture::meta::{Interface, Metadata};
use container::ContainerTable;
use fd::{Fd, FdTable};
use thread::{Thread, ThreadTable};

/// User or group names by id.
pub type Names = HashMap<u32, String>;

/// The state: threads, fds, users and groups.
#[derive(Debug, Default)]
pub struct State {
    /// Threads and fd tables.
    pub threads: ThreadTable,
    /// User names by uid (shared with evaluation snapshots).
    pub users: Arc<Names>,
    /// Group names by gid (shared with evaluation snapshots).
    pub groups: Arc<Names>,
    /// Containers described by the capture.
    pub containers: ContainerTable,
    /// Addresses of the host's network interfaces (shared with snapshots).
    pub local_addrs: Arc<Vec<IpAddr>>,
    /// A thread that exited with the previous event; removed at the next.
    exited: Option<u64>,
    /// A descriptor closed by the previous event; removed at the next.
    closed: Option<(u64, i64)>,
}

impl State {
    /// State seeded from a capture's (or /proc snapshot's) metadata.
    pub fn from_metadata(meta: &Metadata) -> State {
        let mut s = State::default();
        for t in &meta.threads {
            s.threads.insert(Thread::from_meta(t), 0);
        }
        for (tid, fds) in &meta.fds {
            let table = s.threads.fds_mut(*tid);
            for f in fds {
                table.insert(f.fd, Fd::from_meta(f));
            }
        }
        s.local_addrs = Arc::new(
            meta.interfaces
                .iter()
                .map(|i| match i {
                    Interface::V4 { addr, .. } => IpAddr::V4(Ipv4Addr::from(addr.to_le_bytes())),
                    Interface::V6 { addr, .. } => IpAddr::V6(Ipv6Addr::from(*addr)),
                })
                .collect(),
        );
        s.users = Arc::new(meta.users.iter().map(|u| (u.uid, u.name.clone())).collect());
        s.groups = Arc::new(
            meta.groups
                .iter()
                .map(|g| (g.gid, g.name.clone()))
                .collect(),
        );
        s
    }

    /// The thread `tid`.
    pub fn thread(&self, tid: u64) -> Option<&Thread> {
        self.threads.get(tid)
    }

    /// The fd table of thread `tid`'s process.
    pub fn fds(&self, tid: u64) -> Option<&FdTable> {
        self.threads.fds(tid)
    }

    /// Whether `addr` belongs to the machine thread `tid` runs on: its
    /// container's address for a thread in a described container, else
    /// one of the host's interface addresses.
    pub fn is_local_addr(&self, tid: u64, addr: IpAddr) -> bool {
        let container_ip = self
            .thread(tid)
            .filter(|t| !t.container_id.is_empty())
            .and_then(|t| self.containers.get(&t.container_id))
            .and_then(|c| c.ip);
        match container_ip {
            Some(ip) => ip == addr,
            None => self.local_addrs.contains(&addr),
        }
    }

    /// The descriptor `fd` of thread `tid`'s process.
    pub fn fd(&self, tid: u64, fd: i64) -> Option<&Fd> {
        self.fds(tid)?.get(fd)
    }
}
