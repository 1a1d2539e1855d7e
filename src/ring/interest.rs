//! The interest set: which native syscalls (and non-syscall sources) the
//! module captures, each syscall's enter and exit event apart, built from
//! event type names or syscall names through the module's syscall map
//! (native number → enter/exit event ids).

use std::collections::HashSet;

use super::{syscall_names, Error, ErrorKind, Result};
use crate::abi;
use crate::event::schema::{self, EF_UNUSED};
use crate::event::table::{id, EVENTS};

/// Event types the state tracker needs whatever the rules ask for: process
/// lifecycle, file descriptor creation and destruction, identity changes.
pub const STATE_EVENTS: &[&str] = &[
    "clone",
    "fork",
    "vfork",
    "clone3",
    "execve",
    "execveat",
    "procexit",
    "open",
    "openat",
    "openat2",
    "open_by_handle_at",
    "creat",
    "close",
    "dup",
    "socket",
    "socketpair",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "shutdown",
    "pipe",
    "pipe2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "inotify_init",
    "inotify_init1",
    "epoll_create",
    "epoll_create1",
    "userfaultfd",
    "memfd_create",
    "fcntl",
    "chdir",
    "fchdir",
    "chroot",
    "setuid",
    "setgid",
    "setresuid",
    "setresgid",
    "setreuid",
    "setregid",
    "setsid",
    "setpgid",
    "prlimit",
    "setrlimit",
];

/// State events of which the state tracker reads the exit event alone: the
/// open family's exit events carry every parameter of their enter events
/// (when the exit event has the path, see [`Interest::state_tracking`]).
pub const STATE_EXIT_ONLY: &[&str] = &["open", "openat", "openat2", "creat"];

/// State events of which the state tracker reads the enter event alone:
/// close releases its descriptor whatever it returns (on Linux also when it
/// fails with EINTR or EIO; with EBADF there was none), so the enter event,
/// which names the descriptor, says all (see `State::update`).
pub const STATE_ENTER_ONLY: &[&str] = &["close"];

/// Name of the non-syscall source of process exits.
const PROCEXIT: &str = "procexit";

/// A set of native syscalls and sources to capture.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interest {
    abi: abi::saker_interest,
}

/// Whether `name` is an event type of the schema or a native syscall.
fn is_known_name(name: &str) -> bool {
    EVENTS
        .iter()
        .any(|e| e.flags & EF_UNUSED == 0 && e.name == name)
        || syscall_names::X86_64.iter().any(|&(_, n)| n == name)
}

/// Event type names an event id goes by (none for unknown or unused ids).
fn event_name(id: u16) -> Option<&'static str> {
    schema::info(id)
        .filter(|i| i.flags & EF_UNUSED == 0)
        .map(|i| i.name)
}

/// Sets or clears bit `nr` of a bitmap.
fn assign(words: &mut [u64], nr: usize, on: bool) {
    if on {
        words[nr / 64] |= 1 << (nr % 64);
    } else {
        words[nr / 64] &= !(1 << (nr % 64));
    }
}

fn bit(words: &[u64], nr: usize) -> bool {
    words[nr / 64] & (1 << (nr % 64)) != 0
}

impl Interest {
    /// Both events of every syscall and every source.
    pub fn all() -> Interest {
        let mut i = Interest::default();
        i.abi.enter = [u64::MAX; abi::SAKER_SYSCALL_WORDS as usize];
        i.abi.exit = [u64::MAX; abi::SAKER_SYSCALL_WORDS as usize];
        i.abi.sources = abi::SAKER_SRC_PROCEXIT as u64;
        i
    }

    /// The syscalls producing any of `names` (event types such as `open` or
    /// `execve`, or native syscall names such as `accept4`), resolved through
    /// `map`, both events of each. Returns the set and the known names that
    /// no syscall produces on this module; unknown names are an error.
    pub fn from_names<S: AsRef<str>>(
        names: &[S],
        map: &abi::saker_syscall_map,
    ) -> Result<(Interest, Vec<String>)> {
        let wanted: HashSet<&str> = names
            .iter()
            .map(|n| n.as_ref().trim())
            .filter(|n| !n.is_empty())
            .collect();
        let mut unknown: Vec<String> = wanted
            .iter()
            .filter(|n| !is_known_name(n))
            .map(|n| n.to_string())
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            return Err(Error::new(ErrorKind::UnknownNames(unknown)));
        }
        let mut i = Interest::default();
        let mut matched: HashSet<&str> = HashSet::new();
        for nr in 0..abi::SAKER_SYSCALL_MAX as usize {
            let candidates = [
                event_name(map.enter_event[nr]),
                event_name(map.exit_event[nr]),
                syscall_names::name(nr as u16),
            ];
            let mut hit = false;
            for n in candidates.into_iter().flatten() {
                if let Some(&w) = wanted.get(n) {
                    matched.insert(w);
                    hit = true;
                }
            }
            if hit {
                i.add_syscall(nr as u16);
            }
        }
        if wanted.contains(PROCEXIT) {
            i.abi.sources |= abi::SAKER_SRC_PROCEXIT as u64;
            matched.insert(PROCEXIT);
        }
        let mut unmatched: Vec<String> =
            wanted.difference(&matched).map(|n| n.to_string()).collect();
        unmatched.sort();
        Ok((i, unmatched))
    }

    /// The state-tracking set ([`STATE_EVENTS`]) resolved through `map`:
    /// both events of each syscall, except the enter events of
    /// [`STATE_EXIT_ONLY`] (when the module's exit event carries the path)
    /// and the exit events of [`STATE_ENTER_ONLY`].
    pub fn state_tracking(map: &abi::saker_syscall_map) -> Interest {
        // Every STATE_EVENTS name is a schema event or a syscall name (see
        // the tests), so resolution cannot fail; fall back to everything if
        // it somehow did.
        let Ok((mut i, _)) = Interest::from_names(STATE_EVENTS, map) else {
            return Interest::all();
        };
        for nr in 0..abi::SAKER_SYSCALL_MAX as usize {
            let (enter, exit) = (map.enter_event[nr], map.exit_event[nr]);
            if event_name(exit).is_some_and(|n| STATE_EXIT_ONLY.contains(&n))
                && schema::param_index(exit, "name").is_some()
            {
                assign(&mut i.abi.enter, nr, false);
            }
            if event_name(enter).is_some_and(|n| STATE_ENTER_ONLY.contains(&n)) {
                assign(&mut i.abi.exit, nr, false);
            }
        }
        i
    }

    /// This set with, of each syscall that has its own events (not the
    /// generic ones), only the events `tested` keeps: what rules need of a
    /// syscall whose other event they never test.
    pub fn keep_events(
        mut self,
        map: &abi::saker_syscall_map,
        tested: impl Fn(u16) -> bool,
    ) -> Interest {
        for nr in 0..abi::SAKER_SYSCALL_MAX as usize {
            let (enter, exit) = (map.enter_event[nr], map.exit_event[nr]);
            if enter == id::GENERIC_E || exit == id::GENERIC_X {
                continue;
            }
            if !tested(enter) {
                assign(&mut self.abi.enter, nr, false);
            }
            if !tested(exit) {
                assign(&mut self.abi.exit, nr, false);
            }
        }
        self
    }

    /// This set with both events of each syscall of which it has one: for
    /// capture files, which sysdig reads with each call's two events.
    pub fn paired(mut self) -> Interest {
        for (a, b) in self.abi.enter.iter_mut().zip(self.abi.exit.iter_mut()) {
            *a |= *b;
            *b = *a;
        }
        self
    }

    /// This set plus `other` (late enter events if either has them).
    pub fn union(mut self, other: &Interest) -> Interest {
        let pairs = self.abi.enter.iter_mut().zip(other.abi.enter);
        for (a, b) in pairs.chain(self.abi.exit.iter_mut().zip(other.abi.exit)) {
            *a |= b;
        }
        self.abi.sources |= other.abi.sources;
        self.abi.flags |= other.abi.flags;
        self
    }

    /// This set with its enter events written when their call returns,
    /// just before the exit event, from the arguments as they are then
    /// (`SAKER_INTEREST_LATE_ENTER`). The module then calls no probe as
    /// syscalls enter, except for the few enter events it must take there
    /// (exit, exit_group, rt_sigreturn). An enter event carries its call's
    /// return time, so the call's latency reads 0: for the live rules, not
    /// for capture files.
    pub fn late_enter(mut self) -> Interest {
        self.abi.flags |= abi::SAKER_INTEREST_LATE_ENTER as u64;
        self
    }

    /// Whether enter events are written when their call returns.
    pub fn has_late_enter(&self) -> bool {
        self.abi.flags & abi::SAKER_INTEREST_LATE_ENTER as u64 != 0
    }

    /// Adds both events of native syscall `nr` (ignored past
    /// `SAKER_SYSCALL_MAX`).
    pub fn add_syscall(&mut self, nr: u16) {
        if (nr as u32) < abi::SAKER_SYSCALL_MAX {
            assign(&mut self.abi.enter, nr as usize, true);
            assign(&mut self.abi.exit, nr as usize, true);
        }
    }

    /// Whether native syscall `nr`'s enter event is captured.
    pub fn has_enter(&self, nr: u16) -> bool {
        (nr as u32) < abi::SAKER_SYSCALL_MAX && bit(&self.abi.enter, nr as usize)
    }

    /// Whether native syscall `nr`'s exit event is captured.
    pub fn has_exit(&self, nr: u16) -> bool {
        (nr as u32) < abi::SAKER_SYSCALL_MAX && bit(&self.abi.exit, nr as usize)
    }

    /// Whether either event of native syscall `nr` is captured.
    pub fn has_syscall(&self, nr: u16) -> bool {
        self.has_enter(nr) || self.has_exit(nr)
    }

    /// Whether process exits are captured.
    pub fn has_procexit(&self) -> bool {
        self.abi.sources & abi::SAKER_SRC_PROCEXIT as u64 != 0
    }

    /// Number of native syscalls of which some event is captured.
    pub fn syscall_count(&self) -> u32 {
        let words = self.abi.enter.iter().zip(self.abi.exit);
        words.map(|(a, b)| (a | b).count_ones()).sum()
    }

    /// Number of events captured: each syscall's enter and exit events
    /// counted apart.
    pub fn event_count(&self) -> u32 {
        let words = self.abi.enter.iter().chain(&self.abi.exit);
        words.map(|w| w.count_ones()).sum()
    }

    /// The set as the module takes it.
    pub fn as_abi(&self) -> &abi::saker_interest {
        &self.abi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map like the module's for a few x86_64 syscalls; the rest generic.
    fn map() -> Box<abi::saker_syscall_map> {
        let mut m = Box::<abi::saker_syscall_map>::default();
        for (nr, e, x) in [
            (0, id::SYSCALL_READ_E, id::SYSCALL_READ_X),
            (2, id::SYSCALL_OPEN_E, id::SYSCALL_OPEN_X),
            (3, id::SYSCALL_CLOSE_E, id::SYSCALL_CLOSE_X),
            (32, id::SYSCALL_DUP_E, id::SYSCALL_DUP_X),
            (33, id::SYSCALL_DUP_E, id::SYSCALL_DUP_X),
            (42, id::SOCKET_CONNECT_E, id::SOCKET_CONNECT_X),
            (59, id::SYSCALL_EXECVE_19_E, id::SYSCALL_EXECVE_19_X),
            (257, id::SYSCALL_OPENAT_2_E, id::SYSCALL_OPENAT_2_X),
            (288, id::SOCKET_ACCEPT4_5_E, id::SOCKET_ACCEPT4_5_X),
        ] {
            m.enter_event[nr] = e;
            m.exit_event[nr] = x;
        }
        m
    }

    #[test]
    fn names_resolve_through_the_map() {
        let m = map();
        let cases: &[(&[&str], &[u16], &[&str])] = &[
            (&["execve", "open", "openat"], &[2, 59, 257], &[]),
            (&[" execve", "", "openat "], &[59, 257], &[]),
            (&["dup"], &[32, 33], &[]),
            // A native name with no dedicated event matches its number.
            (&["getpid"], &[39], &[]),
            // accept4's event is named "accept": that name reaches both
            // the native accept (43) and accept4 (288).
            (&["accept"], &[43, 288], &[]),
            (&["accept4"], &[288], &[]),
            // Known, but no syscall produces it here.
            (&["switch", "read"], &[0], &["switch"]),
        ];
        for (names, nrs, unmatched) in cases {
            let (i, un) = Interest::from_names(names, &m).unwrap();
            for nr in 0..abi::SAKER_SYSCALL_MAX as u16 {
                assert_eq!(i.has_syscall(nr), nrs.contains(&nr), "{names:?} nr {nr}");
            }
            assert_eq!(un, *unmatched, "{names:?}");
            assert!(!i.has_procexit());
        }
    }

    #[test]
    fn unknown_names_are_an_error() {
        let e = Interest::from_names(&["execve", "nosuch", "alsono"], &map()).unwrap_err();
        match e.kind() {
            ErrorKind::UnknownNames(n) => assert_eq!(n, &["alsono", "nosuch"]),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn state_set_is_known_and_includes_procexit() {
        for n in STATE_EVENTS {
            assert!(is_known_name(n), "{n}");
        }
        let s = Interest::state_tracking(&map());
        assert!(s.has_procexit());
        for nr in [2, 3, 32, 33, 42, 59, 257, 288, 56, 57, 58, 435] {
            assert!(s.has_syscall(nr), "nr {nr}");
        }
        // open and openat exits carry the path: their enter events are
        // not read; close's enter event says all.
        for (nr, enter, exit) in [
            (2, false, true),
            (257, false, true),
            (3, true, false),
            (59, true, true),
            (42, true, true),
            (32, true, true),
            (56, true, true),
        ] {
            assert_eq!((s.has_enter(nr), s.has_exit(nr)), (enter, exit), "nr {nr}");
        }
        assert!(!s.has_syscall(0), "read is not state");
        let (only_read, _) = Interest::from_names(&["read"], &map()).unwrap();
        let u = only_read.union(&s);
        assert!(u.has_syscall(0) && u.has_syscall(59) && u.has_procexit());
        assert_eq!(u.syscall_count(), s.syscall_count() + 1);
        assert_eq!(u.event_count(), s.event_count() + 2);
        let p = s.paired();
        assert!(p.has_enter(257) && p.has_exit(257) && p.has_exit(3));
        assert_eq!(p.event_count(), 2 * s.syscall_count());
    }

    #[test]
    fn an_open_exit_without_the_path_keeps_its_enter_event() {
        // A module emitting the first openat layout (fd only on exit).
        let mut m = map();
        m.enter_event[257] = id::SYSCALL_OPENAT_E;
        m.exit_event[257] = id::SYSCALL_OPENAT_X;
        let s = Interest::state_tracking(&m);
        assert!(s.has_enter(257) && s.has_exit(257));
    }

    #[test]
    fn keep_events_drops_untested_directions_of_own_events_only() {
        let m = map();
        let (i, _) = Interest::from_names(&["openat", "getppid", "execve"], &m).unwrap();
        let tested = [id::SYSCALL_OPENAT_2_X, id::SYSCALL_EXECVE_19_X];
        let k = i.keep_events(&m, |e| tested.contains(&e));
        assert!(!k.has_enter(257) && k.has_exit(257));
        assert!(!k.has_enter(59) && k.has_exit(59));
        // getppid (110) has only the generic events: both stay.
        assert!(k.has_enter(110) && k.has_exit(110));
        assert_eq!(k.event_count(), 4);
        let none = i.keep_events(&m, |_| false);
        assert_eq!(none.syscall_count(), 1);
    }

    #[test]
    fn all_covers_every_number() {
        let a = Interest::all();
        assert_eq!(a.syscall_count(), abi::SAKER_SYSCALL_MAX);
        assert_eq!(a.event_count(), 2 * abi::SAKER_SYSCALL_MAX);
        assert!(a.has_procexit());
        assert!(!a.has_syscall(abi::SAKER_SYSCALL_MAX as u16));
    }

    #[test]
    fn late_enter_is_a_flag_that_union_keeps() {
        let m = map();
        let (i, _) = Interest::from_names(&["close"], &m).unwrap();
        assert!(!i.has_late_enter());
        assert_eq!(i.as_abi().flags, 0);
        let late = i.late_enter();
        assert!(late.has_late_enter());
        assert_eq!(late.as_abi().flags, abi::SAKER_INTEREST_LATE_ENTER as u64);
        // The events are the same; only when the enter ones are written.
        assert!(late.has_enter(3) && late.has_exit(3));
        assert_eq!(late.event_count(), i.event_count());
        assert!(i.union(&late).has_late_enter());
        assert!(late.union(&Interest::default()).has_late_enter());
        assert!(!i.union(&Interest::all()).has_late_enter());
    }
}
