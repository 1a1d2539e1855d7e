//! File descriptor state: what each open descriptor of a process refers to,
//! in a bounded table per process.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::capture::meta::{FdInfo, FdKind};

/// Most descriptors kept per process; further opens are not tracked.
pub const MAX_FDS_PER_PROCESS: usize = 65536;

/// What a descriptor refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdType {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// An IPv4 socket.
    Ipv4,
    /// An IPv6 socket.
    Ipv6,
    /// A unix socket.
    Unix,
    /// A pipe or FIFO.
    Pipe,
    /// An eventfd.
    Event,
    /// A signalfd.
    Signal,
    /// An epoll instance.
    EventPoll,
    /// An inotify instance.
    Inotify,
    /// A timerfd.
    Timer,
    /// A netlink socket.
    Netlink,
    /// Anything else.
    Unknown,
}

impl FdType {
    /// The one-character code sysdig shows in `<f>` prefixes and `fd.typechar`.
    pub fn typechar(&self) -> char {
        char::from(self.typechar_str().as_bytes()[0])
    }

    /// [`FdType::typechar`] as a one-character string.
    pub fn typechar_str(&self) -> &'static str {
        match self {
            FdType::File => "f",
            FdType::Directory => "d",
            FdType::Ipv4 => "4",
            FdType::Ipv6 => "6",
            FdType::Unix => "u",
            FdType::Pipe => "p",
            FdType::Event => "e",
            FdType::Signal => "s",
            FdType::EventPoll => "l",
            FdType::Inotify => "i",
            FdType::Timer => "t",
            FdType::Netlink => "n",
            FdType::Unknown => "o",
        }
    }

    /// The `fd.type` name.
    pub fn name(&self) -> &'static str {
        match self {
            FdType::File => "file",
            FdType::Directory => "directory",
            FdType::Ipv4 => "ipv4",
            FdType::Ipv6 => "ipv6",
            FdType::Unix => "unix",
            FdType::Pipe => "pipe",
            FdType::Event => "event",
            FdType::Signal => "signalfd",
            FdType::EventPoll => "eventpoll",
            FdType::Inotify => "inotify",
            FdType::Timer => "timerfd",
            FdType::Netlink => "netlink",
            FdType::Unknown => "unknown",
        }
    }
}

/// One open descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fd {
    /// Kind.
    pub ty: FdType,
    /// Name as `fd.name` shows it (path, `a:p->b:q` tuple, ...).
    pub name: String,
    /// Open flags (`PPM_O_*`), 0 if unknown.
    pub flags: u32,
    /// Layer-4 protocol of sockets (`SCAP_L4_*`: 2 tcp, 3 udp, 4 icmp, 5 raw;
    /// 0 unknown).
    pub l4: u8,
    /// The layer-4 protocol a socket will have once connected, from its
    /// socket() type.
    pub l4_hint: u8,
    /// Whether the process is the server side of this socket (it accepted
    /// the connection).
    pub server: bool,
    /// Whether the socket is connected (by connect, accept, or at capture
    /// start).
    pub connected: bool,
    /// Timestamp of the event that last gave the descriptor its name.
    pub named_ts: u64,
}

/// `SCAP_L4_TCP`.
pub const L4_TCP: u8 = 2;
/// `SCAP_L4_UDP`.
pub const L4_UDP: u8 = 3;

/// The character sysdig appends to the type character for a layer-4
/// protocol (`<4t>`, `<6u>`).
pub fn l4char(l4: u8) -> Option<char> {
    match l4 {
        2 => Some('t'),
        3 => Some('u'),
        4 => Some('i'),
        5 => Some('r'),
        _ => None,
    }
}

/// Renders an IPv4 endpoint pair as sysdig does (`1.2.3.4:5->6.7.8.9:10`).
pub fn ipv4_tuple(sip: [u8; 4], sport: u16, dip: [u8; 4], dport: u16) -> String {
    format!(
        "{}:{}->{}:{}",
        Ipv4Addr::from(sip),
        sport,
        Ipv4Addr::from(dip),
        dport
    )
}

/// Renders an IPv6 endpoint pair as sysdig does (`::1:5->::1:10`).
pub fn ipv6_tuple(sip: [u8; 16], sport: u16, dip: [u8; 16], dport: u16) -> String {
    format!(
        "{}:{}->{}:{}",
        Ipv6Addr::from(sip),
        sport,
        Ipv6Addr::from(dip),
        dport
    )
}

impl Fd {
    /// A descriptor of type `ty` named `name`, with no flags or protocol.
    pub fn new(ty: FdType, name: impl Into<String>) -> Fd {
        Fd {
            ty,
            name: name.into(),
            flags: 0,
            l4: 0,
            l4_hint: 0,
            server: false,
            connected: false,
            named_ts: 0,
        }
    }

    /// The state entry of a descriptor from a capture's fd list.
    pub fn from_meta(info: &FdInfo) -> Fd {
        let mut l4 = 0;
        let mut server = false;
        let mut connected = false;
        let (ty, name, flags) = match &info.kind {
            FdKind::File {
                name, open_flags, ..
            } => (FdType::File, name.clone(), *open_flags),
            FdKind::Ipv4Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                l4 = *l4proto;
                connected = true;
                server = sport < dport;
                // Shown client first: the endpoint with the lower port is
                // taken as the server.
                let (s, sp, d, dp) = if sport < dport {
                    (dip, *dport, sip, *sport)
                } else {
                    (sip, *sport, dip, *dport)
                };
                (
                    FdType::Ipv4,
                    ipv4_tuple(s.to_le_bytes(), sp, d.to_le_bytes(), dp),
                    0,
                )
            }
            FdKind::Ipv4ServerSocket { ip, port, l4proto } => {
                l4 = *l4proto;
                (
                    FdType::Ipv4,
                    format!("{}:{}", Ipv4Addr::from(ip.to_le_bytes()), port),
                    0,
                )
            }
            FdKind::Ipv6Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                l4 = *l4proto;
                connected = true;
                server = sport < dport;
                let name = if sport < dport {
                    ipv6_tuple(*dip, *dport, *sip, *sport)
                } else {
                    ipv6_tuple(*sip, *sport, *dip, *dport)
                };
                (FdType::Ipv6, name, 0)
            }
            FdKind::Ipv6ServerSocket { ip, port, l4proto } => {
                l4 = *l4proto;
                (FdType::Ipv6, format!("{}:{}", Ipv6Addr::from(*ip), port), 0)
            }
            FdKind::UnixSocket { name, .. } => (FdType::Unix, name.trim_end().to_string(), 0),
            FdKind::Named { fd_type, name } => {
                let ty = match fd_type {
                    1 => FdType::File,
                    2 => FdType::Directory,
                    7 => FdType::Pipe,
                    9 => FdType::Event,
                    11 => FdType::Signal,
                    12 => FdType::EventPoll,
                    13 => FdType::Inotify,
                    14 => FdType::Timer,
                    15 => FdType::Netlink,
                    _ => FdType::Unknown,
                };
                (ty, name.clone(), 0)
            }
        };
        Fd {
            ty,
            name,
            flags,
            l4,
            l4_hint: 0,
            server,
            connected,
            named_ts: 0,
        }
    }
}

/// Descriptors below this number are kept in a vector indexed by number:
/// processes number their descriptors from 0 up, lowest free first.
const DENSE_FDS: i64 = 1024;

/// The descriptors of one process: the low numbers by index, the others
/// (and negative ones, which no event creates) in a map.
#[derive(Debug, Clone, Default)]
pub struct FdTable {
    dense: Vec<Option<Fd>>,
    sparse: HashMap<i64, Fd>,
    len: usize,
}

impl FdTable {
    /// The descriptor `fd`, if open.
    #[inline]
    pub fn get(&self, fd: i64) -> Option<&Fd> {
        if (0..DENSE_FDS).contains(&fd) {
            self.dense.get(fd as usize)?.as_ref()
        } else {
            self.sparse.get(&fd)
        }
    }

    /// Records `fd` (replacing any previous entry). Returns false when the
    /// table is full and the entry was not recorded.
    pub fn insert(&mut self, fd: i64, entry: Fd) -> bool {
        if self.len >= MAX_FDS_PER_PROCESS && self.get(fd).is_none() {
            return false;
        }
        let old = if (0..DENSE_FDS).contains(&fd) {
            let i = fd as usize;
            if i >= self.dense.len() {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i].replace(entry)
        } else {
            self.sparse.insert(fd, entry)
        };
        self.len += usize::from(old.is_none());
        true
    }

    /// The descriptor `fd`, mutably.
    pub fn get_mut(&mut self, fd: i64) -> Option<&mut Fd> {
        if (0..DENSE_FDS).contains(&fd) {
            self.dense.get_mut(fd as usize)?.as_mut()
        } else {
            self.sparse.get_mut(&fd)
        }
    }

    /// Forgets `fd`.
    pub fn remove(&mut self, fd: i64) -> Option<Fd> {
        self.remove_if(fd, |_| true)
    }

    /// Forgets `fd` if its entry passes `test` (one lookup).
    pub fn remove_if(&mut self, fd: i64, test: impl FnOnce(&Fd) -> bool) -> Option<Fd> {
        let old = if (0..DENSE_FDS).contains(&fd) {
            let slot = self.dense.get_mut(fd as usize)?;
            if !test(slot.as_ref()?) {
                return None;
            }
            slot.take()
        } else {
            match self.sparse.entry(fd) {
                Entry::Occupied(e) if test(e.get()) => Some(e.remove()),
                _ => None,
            }
        };
        self.len -= usize::from(old.is_some());
        old
    }

    /// Number of open descriptors.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table keeps what a plain map of number to entry keeps, for low,
    /// high and negative numbers alike, through replacements and removals.
    #[test]
    fn table_agrees_with_a_map() {
        let mut t = FdTable::default();
        let mut model: std::collections::HashMap<i64, String> = Default::default();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let fd = match x % 4 {
                0 => (x >> 8) as i64 % 8,
                1 => (x >> 8) as i64 % 2048,
                2 => DENSE_FDS - 2 + (x >> 8) as i64 % 4,
                _ => -((x >> 8) as i64 % 3) - 1,
            };
            let name = format!("/f{step}");
            match (x >> 40) % 3 {
                0 => {
                    assert!(t.insert(fd, Fd::new(FdType::File, name.clone())));
                    model.insert(fd, name);
                }
                1 => {
                    let got = t.remove(fd).map(|f| f.name);
                    assert_eq!(got, model.remove(&fd), "remove {fd}");
                }
                _ => {
                    let keep_odd = step % 2 == 1;
                    let got = t.remove_if(fd, |f| keep_odd == f.name.ends_with('1'));
                    let want = match model.get(&fd) {
                        Some(n) if keep_odd == n.ends_with('1') => model.remove(&fd),
                        _ => None,
                    };
                    assert_eq!(got.map(|f| f.name), want, "remove_if {fd}");
                }
            }
            assert_eq!(t.len(), model.len());
            assert_eq!(t.get(fd).map(|f| &f.name), model.get(&fd), "get {fd}");
        }
        for (fd, name) in &model {
            assert_eq!(t.get(*fd).map(|f| &f.name), Some(name));
            t.get_mut(*fd).unwrap().flags = 7;
        }
        assert!(model.keys().all(|fd| t.get(*fd).unwrap().flags == 7));
        assert_eq!(t.is_empty(), model.is_empty());
    }
}
