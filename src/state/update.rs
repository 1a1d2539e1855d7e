//! Applying events to the state: thread creation by clone/fork, execve,
//! procexit, and descriptor changes by open/socket/connect/accept/bind/dup/close.

use std::borrow::Cow;

use super::container::{id_from_cgroups, Container};
use super::fd::{ipv4_tuple, ipv6_tuple, Fd, FdType, L4_TCP, L4_UDP};
use super::thread::{with_slash, Hot, Thread};
use super::State;
use crate::event::params::{self, SockAddr, SockTuple};
use crate::event::schema::{self, ParamType, EF_CREATES_FD, EF_SKIPPARSERESET, EF_USES_FD};
use crate::event::table::id;
use crate::event::view::EventView;

/// `PPM_CL_CLONE_THREAD`.
const PPM_CL_CLONE_THREAD: u32 = 1 << 13;
/// `PPM_O_DIRECTORY`.
const PPM_O_DIRECTORY: u32 = 1 << 10;
/// `PPM_AT_FDCWD` as sysdig passes it.
const AT_FDCWD: i64 = -100;

/// Per-event results of the update that fields need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFd {
    /// The descriptor the event operates on or creates, if any (-1 for
    /// the enter event, or a failure, of a call that creates one).
    pub fd: Option<i64>,
    /// The name `fd.name` shows when the descriptor is not in the state
    /// (a failed open's path, or an empty name).
    pub transient: Option<String>,
}

#[inline]
fn param_int(e: &EventView<'_>, name: &str) -> Option<i64> {
    params::int(e.param_by_name(name)?)
}

fn param_str(e: &EventView<'_>, name: &str) -> Option<String> {
    let b = e.param_by_name(name)?;
    Some(text(params::str_bytes(b)).into_owned())
}

/// A string parameter's text: borrowed when it is valid UTF-8 (checked by
/// the standard library's fast validation), else with replacement
/// characters.
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// The enter event kept for a thread, as a view, if it is the enter of `exit_ty`.
fn enter_of<'a>(t: &'a Hot, exit_ty: u16) -> Option<EventView<'a>> {
    let v = EventView::new(&t.last_enter, 0, 0).ok()?;
    (v.event_type() + 1 == exit_ty).then_some(v)
}

/// Joins a possibly relative path onto a directory and normalizes `.`/`..`.
pub fn resolve_path(dir: &str, path: &str) -> String {
    if is_normal_abs(path) {
        return path.to_string();
    }
    let full = if path.starts_with('/') || dir.is_empty() {
        path.to_string()
    } else {
        format!("{}{}", with_slash(dir), path)
    };
    if !full.starts_with('/') {
        return full;
    }
    normalize(&full)
}

/// An absolute path without empty, `.` and `..` components.
fn normalize(full: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in full.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut s = String::with_capacity(full.len());
    for p in &parts {
        s.push('/');
        s.push_str(p);
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

/// Whether `p` is an absolute path that normalizing leaves as it is: no
/// empty, `.` or `..` component and no trailing slash (`/` itself aside).
fn is_normal_abs(p: &str) -> bool {
    let b = p.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    if b.len() == 1 {
        return true;
    }
    b[1..]
        .split(|c| *c == b'/')
        .all(|c| !matches!(c, b"" | b"." | b".."))
}

fn is_clone_exit(ty: u16) -> bool {
    matches!(
        ty,
        id::SYSCALL_CLONE_11_X
            | id::SYSCALL_CLONE_16_X
            | id::SYSCALL_CLONE_17_X
            | id::SYSCALL_CLONE_20_X
            | id::SYSCALL_FORK_X
            | id::SYSCALL_FORK_17_X
            | id::SYSCALL_FORK_20_X
            | id::SYSCALL_VFORK_X
            | id::SYSCALL_VFORK_17_X
            | id::SYSCALL_VFORK_20_X
            | id::SYSCALL_CLONE3_X
    )
}

fn is_execve_exit(ty: u16) -> bool {
    matches!(
        ty,
        id::SYSCALL_EXECVE_8_X
            | id::SYSCALL_EXECVE_13_X
            | id::SYSCALL_EXECVE_14_X
            | id::SYSCALL_EXECVE_15_X
            | id::SYSCALL_EXECVE_16_X
            | id::SYSCALL_EXECVE_17_X
            | id::SYSCALL_EXECVE_18_X
            | id::SYSCALL_EXECVE_19_X
            | id::SYSCALL_EXECVEAT_X
    )
}

/// Events that never create an entry for an unknown thread.
fn creates_no_thread(ty: u16) -> bool {
    matches!(
        ty,
        id::SCHEDSWITCH_1_E | id::SCHEDSWITCH_6_E | id::PROCEXIT_E | id::PROCEXIT_1_E
    ) || schema::info(ty).is_some_and(|i| i.category == schema::Category::Internal)
        || ty == id::CONTAINER_JSON_E
        || ty == id::CONTAINER_JSON_2_E
}

/// The UTF-8 parts of a NUL-separated buffer, without copying.
fn nul_parts(b: &[u8]) -> impl Iterator<Item = &str> {
    b.split(|c| *c == 0)
        .filter_map(|p| std::str::from_utf8(p).ok())
}

fn split_args(b: &[u8]) -> Vec<String> {
    crate::capture::decode::split_nul(b)
}

impl State {
    /// Applies one event; returns what fields need from the update.
    pub fn update(&mut self, e: &EventView<'_>) -> EventFd {
        if let Some(tid) = self.exited.take() {
            self.threads.remove(tid);
        }
        if let Some((tid, fd)) = self.closed.take() {
            self.threads.fds_mut(tid).remove(fd);
        }
        let ty = e.event_type();
        let tid = e.tid();
        if is_clone_exit(ty) && param_int(e, "res") == Some(0) {
            // The child's own clone exit records it (with its fds) before
            // any placeholder could.
            self.clone_exit(e);
            if let Some(h) = self.threads.hot_mut(tid) {
                h.last_ts = e.ts();
            }
            return EventFd::default();
        }
        if ty == id::CONTAINER_JSON_E || ty == id::CONTAINER_JSON_2_E {
            self.container_event(e);
        }
        if self.threads.get(tid).is_none() && !creates_no_thread(ty) {
            self.threads.insert(
                Thread {
                    tid,
                    pid: tid,
                    ptid: u64::MAX,
                    comm: "<NA>".into(),
                    exe: "<NA>".into(),
                    uid: u32::MAX,
                    gid: u32::MAX,
                    loginuid: -1,
                    vtid: -1,
                    vpid: -1,
                    ..Default::default()
                },
                e.ts(),
            );
        }
        let flags = e.info().map_or(0, |i| i.flags);
        // Context switches and internal events are not system calls: they
        // leave the thread's last enter event and descriptor alone.
        let syscall = flags & EF_SKIPPARSERESET == 0
            && !matches!(ty, id::SCHEDSWITCH_1_E | id::SCHEDSWITCH_6_E);
        let Some(mut t) = self.threads.hot_mut(tid) else {
            return EventFd::default();
        };
        if syscall {
            if let Some(pending) = t.pending_close.take() {
                if ty != id::SYSCALL_CLOSE_X {
                    self.finish_close(tid, pending);
                    let Some(again) = self.threads.hot_mut(tid) else {
                        return EventFd::default();
                    };
                    t = again;
                }
            }
        }
        t.last_ts = e.ts();
        if e.is_enter() {
            if syscall {
                t.set_last_enter(e.raw());
            }
            // The descriptor of an fd-using call is its first parameter.
            let first_fd = e
                .info()
                .and_then(|i| i.params.first())
                .filter(|p| p.ty == ParamType::Fd)
                .and_then(|_| e.param(0))
                .and_then(params::int);
            let fd = if flags & EF_USES_FD != 0 {
                first_fd
            } else if flags & EF_CREATES_FD != 0 {
                Some(-1)
            } else {
                None
            };
            if syscall {
                t.lastevent_fd = fd.unwrap_or(-1);
            }
            if ty == id::SYSCALL_CLOSE_E {
                t.pending_close = fd.map(|fd| (fd, e.ts()));
            }
            if ty == id::PROCEXIT_E || ty == id::PROCEXIT_1_E {
                self.exited = Some(tid);
            }
            return EventFd {
                fd,
                ..EventFd::default()
            };
        }
        let last_fd = t.lastevent_fd;
        if is_clone_exit(ty) {
            self.clone_exit(e);
            return EventFd::default();
        }
        if is_execve_exit(ty) {
            self.execve_exit(e);
            return EventFd::default();
        }
        if matches!(
            ty,
            id::SYSCALL_SETUID_X
                | id::SYSCALL_SETRESUID_X
                | id::SYSCALL_SETGID_X
                | id::SYSCALL_SETRESGID_X
        ) {
            self.set_id_exit(e);
        }
        if ty == id::SYSCALL_CHDIR_X && param_int(e, "res") == Some(0) {
            if let Some(path) = param_str(e, "path") {
                let cwd = self.thread(tid).map(|t| t.cwd.clone()).unwrap_or_default();
                self.set_cwd(tid, &resolve_path(&cwd, &path));
            }
        }
        if flags & EF_CREATES_FD != 0 {
            let (fd, stored) = self.fd_created(e).unwrap_or((-1, false));
            if let Some(h) = self.threads.hot_mut(tid) {
                h.lastevent_fd = fd;
            }
            // A failed open still names the path it tried.
            let transient = if stored || self.fd(tid, fd).is_some() {
                None
            } else {
                Some(
                    param_str(e, "name")
                        .or_else(|| {
                            let h = self.threads.hot(tid)?;
                            param_str(&enter_of(h, ty)?, "name")
                        })
                        .map(|n| {
                            let cwd = self.thread(tid).map(|t| t.cwd.as_str()).unwrap_or("");
                            resolve_path(cwd, &n)
                        })
                        .or_else(|| {
                            let b = e.param_by_name("tuple")?;
                            let f = tuple_fd(Some(b));
                            Some(if b.is_empty() {
                                "NULL".to_string()
                            } else {
                                f.name
                            })
                        })
                        .unwrap_or_default(),
                )
            };
            return EventFd {
                fd: Some(fd),
                transient,
            };
        }
        if flags & EF_USES_FD != 0 {
            let named = self.fd_used(e, last_fd);
            // An exit on a descriptor the state does not know still has
            // one, unnamed, for this event.
            let transient = named.or_else(|| self.fd(tid, last_fd).is_none().then(String::new));
            return EventFd {
                fd: Some(last_fd),
                transient,
            };
        }
        EventFd::default()
    }

    /// Ends a close whose exit event is not coming (`pending`: the
    /// descriptor and the close enter event's timestamp): the thread's next
    /// system call event after a close enter event is not that close's exit
    /// (the exit was not captured, as when the interest set takes close's
    /// enter event alone, or was lost). Linux releases the descriptor
    /// whatever close returns, except when there was none (EBADF), so it is
    /// removed now, unless another thread has put a new descriptor under
    /// the same number since (named at or after the close). A close exit event removes it itself, after
    /// the event (fields of the exit still see it), and only on success,
    /// as sysdig does.
    fn finish_close(&mut self, tid: u64, (fd, closed_ts): (i64, u64)) {
        if let Some(t) = self.threads.fds_existing_mut(tid) {
            t.remove_if(fd, |f| f.named_ts < closed_ts);
        }
    }

    /// Sets the working directory of a thread and of its process's main
    /// thread (threads share it).
    fn set_cwd(&mut self, tid: u64, dir: &str) {
        let dir = with_slash(dir);
        let pid = self.thread(tid).map_or(tid, |t| t.pid);
        for id in [tid, pid] {
            if let Some(t) = self.threads.get_mut(id) {
                t.cwd = dir.clone();
            }
        }
    }

    /// Records the container a container event (`CONTAINER_JSON_E`,
    /// `CONTAINER_JSON_2_E`) describes, without touching threads: for the
    /// descriptions a capture carries before its first other event, which
    /// sysdig consumes when opening it. Returns the container's id.
    pub fn record_container(&mut self, e: &EventView<'_>) -> Option<String> {
        let ty = e.event_type();
        if ty != id::CONTAINER_JSON_E && ty != id::CONTAINER_JSON_2_E {
            return None;
        }
        let c = Container::from_json(&param_str(e, "json")?)?;
        let cid = c.id.clone();
        self.containers.insert(c);
        Some(cid)
    }

    /// A container description: recorded in the container table; its
    /// events belong to a thread that stands for the container
    /// (`container:ID`), as sysdig shows them.
    fn container_event(&mut self, e: &EventView<'_>) {
        let Some(container_id) = self.record_container(e) else {
            return;
        };
        let name = format!("container:{container_id}");
        self.threads.insert(
            Thread {
                tid: e.tid(),
                pid: e.tid(),
                ptid: 0,
                comm: name,
                uid: 0,
                gid: 0,
                loginuid: -1,
                vtid: -1,
                vpid: -1,
                container_id,
                ..Default::default()
            },
            e.ts(),
        );
    }

    fn clone_exit(&mut self, e: &EventView<'_>) {
        let Some(res) = param_int(e, "res") else {
            return;
        };
        let tid = e.tid();
        let flags = param_int(e, "flags").unwrap_or(0) as u32;
        let args = split_args(e.param_by_name("args").unwrap_or_default());
        let exe = param_str(e, "exe").unwrap_or_default();
        let child_tid = match res {
            0 => tid,
            r if r > 0 => r as u64,
            _ => return,
        };
        if res > 0 && self.threads.get(child_tid).is_some() {
            return;
        }
        // A parent in a pid namespace sees the child's namespace pid: the
        // child is recorded from its own event instead.
        let vpid = param_int(e, "vpid");
        if res > 0 && vpid.is_some_and(|v| v >= 0 && Some(v) != param_int(e, "pid")) {
            return;
        }
        let is_thread = flags & PPM_CL_CLONE_THREAD != 0;
        let parent = if res == 0 {
            // A new thread takes after its process, a new process after
            // its parent.
            let by = |name| param_int(e, name).and_then(|p| self.threads.get(p as u64));
            if is_thread {
                by("pid").or_else(|| by("ptid"))
            } else {
                by("ptid")
            }
        } else {
            self.threads.get(tid)
        };
        let comm = param_str(e, "comm")
            .or_else(|| parent.map(|p| p.comm.clone()))
            .unwrap_or_else(|| exe.clone());
        let exepath = parent.map(|p| p.exepath.clone()).unwrap_or_default();
        let (pid, ptid) = if res == 0 {
            (
                param_int(e, "pid").map_or(tid, |p| p as u64),
                param_int(e, "ptid").map_or(u64::MAX, |p| p as u64),
            )
        } else {
            let ppid = parent.map_or(tid, |p| p.pid);
            (if is_thread { ppid } else { child_tid }, tid)
        };
        let parent_pid = parent.map(|p| p.pid);
        let child = Thread {
            tid: child_tid,
            pid,
            ptid,
            comm,
            exe,
            exepath,
            args,
            cwd: parent.map(|p| p.cwd.clone()).unwrap_or_default(),
            uid: param_int(e, "uid").unwrap_or(-1) as u32,
            gid: param_int(e, "gid").unwrap_or(-1) as u32,
            loginuid: parent.map_or(-1, |p| p.loginuid),
            vtid: param_int(e, "vtid").unwrap_or(-1),
            vpid: param_int(e, "vpid").unwrap_or(-1),
            flags,
            env: parent.map(|p| p.env.clone()).unwrap_or_default(),
            tty: parent.map_or(0, |p| p.tty),
            // Created when the first of the parent's and the child's
            // clone exits was seen.
            clone_ts: match self.threads.get(child_tid).map_or(0, |t| t.clone_ts) {
                0 => e.ts(),
                seen => seen,
            },
            container_id: match e.param_by_name("cgroups").filter(|b| !b.is_empty()) {
                Some(b) => id_from_cgroups(nul_parts(b)),
                None => parent.map(|p| p.container_id.clone()).unwrap_or_default(),
            },
        };
        // The fd table is copied once: when the child is first recorded.
        let new_process = !is_thread && pid == child_tid && self.threads.get(child_tid).is_none();
        if pid != child_tid && self.threads.get(pid).is_none() {
            // A thread of a process not yet known: the process is known now.
            let mut main = child.clone();
            main.tid = pid;
            main.ptid = u64::MAX;
            self.threads.insert(main, e.ts());
        }
        self.threads.insert(child, e.ts());
        if new_process {
            if let Some(ppid) = parent_pid {
                self.threads.copy_fds(ppid, child_tid);
            }
        }
    }

    /// A successful set*uid/set*gid exit: the thread takes the new effective
    /// id from the kept enter event (-1 leaves it unchanged).
    fn set_id_exit(&mut self, e: &EventView<'_>) {
        if param_int(e, "res") != Some(0) {
            return;
        }
        let ty = e.event_type();
        let Some(enter) = self.threads.hot(e.tid()).and_then(|h| enter_of(h, ty)) else {
            return;
        };
        let name = match ty {
            id::SYSCALL_SETUID_X => "uid",
            id::SYSCALL_SETRESUID_X => "euid",
            id::SYSCALL_SETGID_X => "gid",
            _ => "egid",
        };
        let Some(v) = enter
            .param_by_name(name)
            .and_then(params::uint)
            .map(|v| v as u32)
            .filter(|v| *v != u32::MAX)
        else {
            return;
        };
        if let Some(t) = self.threads.get_mut(e.tid()) {
            if matches!(ty, id::SYSCALL_SETUID_X | id::SYSCALL_SETRESUID_X) {
                t.uid = v;
            } else {
                t.gid = v;
            }
        }
    }

    fn execve_exit(&mut self, e: &EventView<'_>) {
        if param_int(e, "res") != Some(0) {
            return;
        }
        let enter_path = self
            .threads
            .hot(e.tid())
            .and_then(|h| enter_of(h, e.event_type()))
            .and_then(|v| param_str(&v, "filename").or_else(|| param_str(&v, "pathname")));
        let Some(t) = self.threads.get_mut(e.tid()) else {
            return;
        };
        let args = split_args(e.param_by_name("args").unwrap_or_default());
        let exe = param_str(e, "exe").unwrap_or_default();
        t.comm = param_str(e, "comm")
            .unwrap_or_else(|| exe.rsplit('/').next().unwrap_or(&exe).to_string());
        if let Some(p) = enter_path {
            t.exepath = resolve_path(&t.cwd, &p);
        }
        t.exe = exe;
        t.args = args;
        if let Some(pid) = param_int(e, "pid") {
            t.pid = pid as u64;
        }
        if let Some(ptid) = param_int(e, "ptid") {
            t.ptid = ptid as u64;
        }
        if let Some(l) = param_int(e, "loginuid") {
            t.loginuid = l as i32;
        }
        if let Some(b) = e.param_by_name("env") {
            t.env = split_args(b);
        }
        if let Some(tty) = param_int(e, "tty") {
            t.tty = tty as u32;
        }
        if let Some(b) = e.param_by_name("cgroups").filter(|b| !b.is_empty()) {
            t.container_id = id_from_cgroups(nul_parts(b));
        }
    }

    /// An fd-creating exit event: records the new descriptor. Returns it,
    /// and whether an entry was stored under it.
    fn fd_created(&mut self, e: &EventView<'_>) -> Option<(i64, bool)> {
        let ty = e.event_type();
        let tid = e.tid();
        let t = self.threads.get(tid)?;
        // The kept enter event, read only when the exit event lacks a value.
        let enter = || enter_of(self.threads.hot(tid)?, ty);
        let fd = param_int(e, "fd").or_else(|| param_int(e, "res"))?;
        if fd < 0 {
            return None;
        }
        let entry = match ty {
            id::SYSCALL_OPEN_X
            | id::SYSCALL_CREAT_X
            | id::SYSCALL_OPENAT_X
            | id::SYSCALL_OPENAT_2_X
            | id::SYSCALL_OPENAT2_X => {
                let name = e
                    .param_by_name("name")
                    .or_else(|| enter().and_then(|v| v.param_by_name("name")))
                    .map(|b| text(params::str_bytes(b)))
                    .unwrap_or_default();
                let dirfd = param_int(e, "dirfd")
                    .or_else(|| enter().and_then(|v| param_int(&v, "dirfd")))
                    .unwrap_or(AT_FDCWD);
                let dir = if dirfd == AT_FDCWD
                    || !matches!(
                        ty,
                        id::SYSCALL_OPENAT_X | id::SYSCALL_OPENAT_2_X | id::SYSCALL_OPENAT2_X
                    ) {
                    t.cwd.as_str()
                } else {
                    self.fd(tid, dirfd).map_or("", |f| f.name.as_str())
                };
                let flags = param_int(e, "flags")
                    .or_else(|| enter().and_then(|v| param_int(&v, "flags")))
                    .unwrap_or(0) as u32;
                let path = resolve_path(dir, &name);
                let ty = if flags & PPM_O_DIRECTORY != 0 {
                    FdType::Directory
                } else {
                    FdType::File
                };
                Fd {
                    flags,
                    ..Fd::new(ty, path)
                }
            }
            id::SOCKET_SOCKET_X => {
                let domain = enter().and_then(|v| param_int(&v, "domain")).unwrap_or(0);
                let stype = enter().and_then(|v| param_int(&v, "type")).unwrap_or(0);
                let ty = match domain {
                    1 => FdType::Unix,
                    2 => FdType::Ipv4,
                    10 => FdType::Ipv6,
                    16 => FdType::Netlink,
                    _ => FdType::Unknown,
                };
                let l4_hint = match stype & 0xf {
                    1 => L4_TCP,
                    2 => L4_UDP,
                    _ => 0,
                };
                Fd {
                    l4_hint,
                    ..Fd::new(ty, "")
                }
            }
            id::SYSCALL_PIPE_X | id::SOCKET_SOCKETPAIR_X => {
                let kind = if ty == id::SYSCALL_PIPE_X {
                    FdType::Pipe
                } else {
                    FdType::Unix
                };
                let table = self.threads.fds_mut(tid);
                let mut last = None;
                for name in ["fd1", "fd2"] {
                    if let Some(f) = param_int(e, name).filter(|f| *f >= 0) {
                        table.insert(f, Fd::new(kind.clone(), ""));
                        last = Some(f);
                    }
                }
                return last.map(|f| (f, true));
            }
            id::SOCKET_ACCEPT_X
            | id::SOCKET_ACCEPT4_X
            | id::SOCKET_ACCEPT_5_X
            | id::SOCKET_ACCEPT4_5_X => {
                let mut f = tuple_fd(e.param_by_name("tuple"));
                if f.ty != FdType::Unix {
                    f.l4 = L4_TCP;
                }
                f.server = true;
                f.connected = true;
                f
            }
            id::SYSCALL_DUP_X => {
                let old =
                    param_int(e, "oldfd").or_else(|| enter().and_then(|v| param_int(&v, "fd")))?;
                let f = self.fd(tid, old)?.clone();
                self.threads.fds_mut(tid).insert(fd, f);
                return Some((fd, true));
            }
            _ => match e.name() {
                "eventfd" => Fd::new(FdType::Event, ""),
                "signalfd" => Fd::new(FdType::Signal, ""),
                "timerfd_create" => Fd::new(FdType::Timer, ""),
                "inotify_init" => Fd::new(FdType::Inotify, ""),
                "epoll_create" => Fd::new(FdType::EventPoll, ""),
                _ => return Some((fd, false)),
            },
        };
        let entry = Fd {
            named_ts: e.ts(),
            ..entry
        };
        self.threads.fds_mut(tid).insert(fd, entry);
        Some((fd, true))
    }

    /// An exit event using the descriptor `fd` (from its enter event).
    /// Returns a name for `fd.name` that holds for this event only.
    fn fd_used(&mut self, e: &EventView<'_>, fd: i64) -> Option<String> {
        let tid = e.tid();
        // Read only by the calls that look at it.
        let res = || param_int(e, "res").unwrap_or(0);
        match e.event_type() {
            id::SYSCALL_CLOSE_X if res() >= 0 => self.closed = Some((tid, fd)),
            id::SOCKET_SENDTO_X | id::SOCKET_SENDMSG_X => {
                // An unconnected socket takes the name of the first tuple it
                // sends to; an unspecified source address shows as the
                // destination's.
                let current = self.fd(tid, fd)?;
                if !current.name.is_empty() || !matches!(current.ty, FdType::Ipv4 | FdType::Ipv6) {
                    return None;
                }
                let hint = current.l4_hint;
                let enter = enter_of(self.threads.hot(tid)?, e.event_type())?;
                let tuple = enter.param_by_name("tuple").and_then(params::socktuple)?;
                let name = match tuple {
                    SockTuple::Inet {
                        sip,
                        sport,
                        dip,
                        dport,
                    } => ipv4_tuple(if sip == [0; 4] { dip } else { sip }, sport, dip, dport),
                    SockTuple::Inet6 {
                        sip,
                        sport,
                        dip,
                        dport,
                    } => ipv6_tuple(if sip == [0; 16] { dip } else { sip }, sport, dip, dport),
                    _ => return None,
                };
                if let Some(f) = self.threads.fds_mut(tid).get_mut(fd) {
                    f.name = name;
                    f.l4 = hint;
                    f.named_ts = e.ts();
                }
            }
            id::SYSCALL_FCHDIR_X if res() == 0 => {
                if let Some(dir) = self.fd(tid, fd).map(|f| f.name.clone()) {
                    self.set_cwd(tid, &dir);
                }
            }
            id::SOCKET_CONNECT_X if res() < 0 && res() != -115 => {
                // A failed connect names its tuple for this event only.
                let f = tuple_fd(e.param_by_name("tuple"));
                return (!f.name.is_empty()).then_some(f.name);
            }
            id::SOCKET_CONNECT_X => {
                let mut f = tuple_fd(e.param_by_name("tuple"));
                if !f.name.is_empty() {
                    let old = self.fd(tid, fd);
                    f.l4 = old.map_or(0, |o| if o.l4 != 0 { o.l4 } else { o.l4_hint });
                    if f.ty == FdType::Unix {
                        f.l4 = 0;
                    }
                    f.connected = true;
                    f.named_ts = e.ts();
                    self.threads.fds_mut(tid).insert(fd, f);
                }
            }
            id::SOCKET_BIND_X if res() >= 0 => {
                let addr = e.param_by_name("addr").and_then(params::sockaddr);
                let mut f = match addr {
                    Some(SockAddr::Inet(ip, port)) => Fd::new(
                        FdType::Ipv4,
                        format!("{}:{}", std::net::Ipv4Addr::from(ip), port),
                    ),
                    Some(SockAddr::Inet6(ip, port)) => Fd::new(
                        FdType::Ipv6,
                        format!("{}:{}", std::net::Ipv6Addr::from(ip), port),
                    ),
                    Some(SockAddr::Unix(p)) => {
                        Fd::new(FdType::Unix, String::from_utf8_lossy(p).into_owned())
                    }
                    _ => return None,
                };
                f.l4_hint = self.fd(tid, fd).map_or(0, |o| o.l4_hint);
                // A socket bound to a port is a server of its protocol.
                if !matches!(addr, Some(SockAddr::Inet(_, 0) | SockAddr::Inet6(_, 0)))
                    && f.ty != FdType::Unix
                {
                    f.l4 = f.l4_hint;
                }
                f.named_ts = e.ts();
                self.threads.fds_mut(tid).insert(fd, f);
            }
            _ => {}
        }
        None
    }
}

/// A socket descriptor named after a connection tuple.
fn tuple_fd(b: Option<&[u8]>) -> Fd {
    match b.and_then(params::socktuple) {
        Some(SockTuple::Inet {
            sip,
            sport,
            dip,
            dport,
        }) => Fd::new(FdType::Ipv4, ipv4_tuple(sip, sport, dip, dport)),
        Some(SockTuple::Inet6 {
            sip,
            sport,
            dip,
            dport,
        }) => Fd::new(FdType::Ipv6, ipv6_tuple(sip, sport, dip, dport)),
        Some(SockTuple::Unix { source, dest, path }) => Fd::new(
            FdType::Unix,
            format!("{source:x}->{dest:x} {}", String::from_utf8_lossy(path)),
        ),
        _ => Fd::new(FdType::Unknown, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths() {
        let cases = [
            ("/home/u/", "a.txt", "/home/u/a.txt"),
            ("/home/u", "../x", "/home/x"),
            ("/", "/etc/./passwd", "/etc/passwd"),
            ("/a/", "..", "/"),
            ("", "rel", "rel"),
        ];
        for (dir, path, want) in cases {
            assert_eq!(resolve_path(dir, path), want, "{dir} + {path}");
        }
    }

    /// The fast check agrees with normalizing on every absolute path of up
    /// to eight bytes of `/`, `.` and `a`.
    #[test]
    fn normal_paths_are_the_ones_normalizing_keeps() {
        let mut paths = vec![String::from("/")];
        let mut start = 0;
        for _ in 0..7 {
            let end = paths.len();
            for i in start..end {
                for c in ['/', '.', 'a'] {
                    let p = format!("{}{c}", paths[i]);
                    paths.push(p);
                }
            }
            start = end;
        }
        assert_eq!(paths.len(), (3usize.pow(8) - 1) / 2);
        for p in &paths {
            assert_eq!(is_normal_abs(p), normalize(p) == *p, "{p:?}");
        }
        assert!(!is_normal_abs("etc/passwd"));
        assert!(!is_normal_abs(""));
    }
}
