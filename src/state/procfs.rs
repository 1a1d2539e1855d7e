//! A snapshot of the live system for the start of a capture: machine info,
//! interface addresses, users and groups, every thread from /proc and the open
//! files of every process, as capture [`Metadata`].
//!
//! Processes that vanish during the scan are skipped; fields the kernel will
//! not show (another user's environment, a kernel thread's exe) stay empty.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::capture::meta::{FdInfo, FdKind, Interface, MachineInfo, Metadata, ThreadInfo};
use crate::sys;

pub mod parse;

use parse::{fdtype, Link};

/// What went wrong taking the snapshot.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file that must be readable was not.
    Io(io::Error),
}

/// An error of the snapshot, with the path concerned.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    path: PathBuf,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The path concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "{}: {e}", self.path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
        }
    }
}

/// `PPM_CL_CLONE_FILES`
const PPM_CL_CLONE_FILES: u32 = 1 << 0;
/// `PPM_CL_CLONE_THREAD`
const PPM_CL_CLONE_THREAD: u32 = 1 << 13;

/// Takes the whole snapshot from /proc, /etc and getifaddrs.
pub fn snapshot() -> Result<Metadata, Error> {
    let proc_root = Path::new("/proc");
    let sockets = parse::socket_table(proc_root);
    let controllers: Vec<String> = fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let (threads, fds) = scan_processes(proc_root, &sockets, &controllers)?;
    Ok(Metadata {
        machine: machine_info(proc_root),
        interfaces: interfaces(),
        users: fs::read_to_string("/etc/passwd")
            .map(|s| parse::parse_passwd(&s))
            .unwrap_or_default(),
        groups: fs::read_to_string("/etc/group")
            .map(|s| parse::parse_group(&s))
            .unwrap_or_default(),
        threads,
        fds,
    })
}

/// Machine info: CPUs, memory, pid_max, host name.
pub fn machine_info(proc_root: &Path) -> MachineInfo {
    let read = |p: &str| fs::read_to_string(proc_root.join(p)).unwrap_or_default();
    MachineInfo {
        num_cpus: sys::online_cpus(),
        memory_size_bytes: parse::parse_meminfo_total(&read("meminfo")).unwrap_or(0),
        max_pid: read("sys/kernel/pid_max").trim().parse().unwrap_or(0),
        hostname: read("sys/kernel/hostname").trim().to_string(),
    }
}

/// Interface addresses from getifaddrs (empty if it fails).
pub fn interfaces() -> Vec<Interface> {
    let addrs = sys::interface_addrs().unwrap_or_default();
    addrs
        .into_iter()
        .map(|a| match a.addr {
            sys::IfAddr::V4 {
                addr,
                netmask,
                bcast,
            } => Interface::V4 {
                name: a.name,
                addr: u32::from_ne_bytes(addr),
                netmask: u32::from_ne_bytes(netmask),
                bcast: u32::from_ne_bytes(bcast),
                linkspeed: 0,
            },
            sys::IfAddr::V6 { addr, netmask } => Interface::V6 {
                name: a.name,
                addr,
                netmask,
                bcast: [0; 16],
                linkspeed: 0,
            },
        })
        .collect()
}

fn io_err(path: &Path, e: io::Error) -> Error {
    Error {
        kind: ErrorKind::Io(e),
        path: path.to_path_buf(),
    }
}

/// Numeric entries of a directory, sorted.
fn numeric_entries(dir: &Path) -> io::Result<Vec<u64>> {
    let mut v: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

fn read_link(p: &Path) -> String {
    fs::read_link(p)
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What the threads of one process share.
#[derive(Debug, Default)]
struct Process {
    exe: String,
    exepath: String,
    args: Vec<String>,
    env: Vec<String>,
    root: String,
    cgroups: Vec<String>,
    loginuid: i32,
    fdlimit: u64,
    /// Owner uid, owner gid and mode of the executable.
    exe_owner: Option<(u32, u32, u32)>,
}

fn read_process(pdir: &Path, controllers: &[String]) -> Process {
    let cmdline = parse::split_nul(&fs::read(pdir.join("cmdline")).unwrap_or_default());
    let mut args = cmdline.into_iter();
    let exepath = read_link(&pdir.join("exe"));
    let exe_owner = fs::metadata(pdir.join("exe"))
        .ok()
        .map(|m| (m.uid(), m.gid(), m.mode()));
    let text = |f: &str| fs::read_to_string(pdir.join(f)).unwrap_or_default();
    Process {
        exe: args.next().unwrap_or_default(),
        args: args.collect(),
        exepath,
        env: parse::split_nul(&fs::read(pdir.join("environ")).unwrap_or_default()),
        root: read_link(&pdir.join("root")),
        cgroups: parse::parse_cgroups(&text("cgroup"), controllers),
        loginuid: text("loginuid")
            .trim()
            .parse::<u32>()
            .map(|v| v as i32)
            .unwrap_or(-1),
        fdlimit: parse::parse_fdlimit(&text("limits")).unwrap_or(0),
        exe_owner,
    }
}

/// Whether a file of owner `(uid, gid, mode)` is writable by `uid`/`gid`.
fn writable_by(owner: (u32, u32, u32), uid: u32, gid: u32) -> bool {
    let (ouid, ogid, mode) = owner;
    if uid == 0 {
        return mode & 0o222 != 0;
    }
    if uid == ouid {
        mode & 0o200 != 0
    } else if gid == ogid {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    }
}

/// One thread, or `None` if it vanished.
fn read_thread(tdir: &Path, pid: u64, tid: u64, p: &Process) -> Option<ThreadInfo> {
    let stat = parse::parse_stat(&fs::read_to_string(tdir.join("stat")).ok()?)?;
    let status = parse::parse_status(&fs::read_to_string(tdir.join("status")).ok()?);
    let comm = fs::read_to_string(tdir.join("comm"))
        .ok()?
        .trim_end_matches('\n')
        .to_string();
    let exe = if p.exe.is_empty() {
        comm.clone()
    } else {
        p.exe.clone()
    };
    Some(ThreadInfo {
        tid,
        pid,
        ptid: status.ppid,
        sid: stat.sid,
        vpgid: stat.pgrp,
        exe,
        comm,
        exepath: p.exepath.clone(),
        args: p.args.clone(),
        cwd: read_link(&tdir.join("cwd")),
        fdlimit: p.fdlimit,
        flags: if tid == pid {
            0
        } else {
            PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES
        },
        uid: status.euid,
        gid: status.egid,
        vmsize_kb: status.vmsize_kb,
        vmrss_kb: status.vmrss_kb,
        vmswap_kb: status.vmswap_kb,
        pfmajor: stat.majflt,
        pfminor: stat.minflt,
        env: p.env.clone(),
        vtid: status.vtid.unwrap_or(tid as i64),
        vpid: status.vpid.unwrap_or(pid as i64),
        cgroups: p.cgroups.clone(),
        root: p.root.clone(),
        loginuid: p.loginuid,
        exe_writable: p
            .exe_owner
            .is_some_and(|o| writable_by(o, status.euid, status.egid)),
    })
}

/// One open file of a process.
fn read_fd(pdir: &Path, fd: u64, sockets: &HashMap<u64, FdKind>) -> Option<FdInfo> {
    let link = pdir.join("fd").join(fd.to_string());
    let target = fs::read_link(&link).ok()?;
    let target = target.to_string_lossy();
    let meta = fs::metadata(&link).ok();
    let ino = meta.as_ref().map_or(0, |m| m.ino());
    let named = |fd_type| FdKind::Named {
        fd_type,
        name: target.to_string(),
    };
    let kind = match parse::classify_link(&target) {
        Link::Socket(sino) => sockets
            .get(&sino)
            .cloned()
            .unwrap_or_else(|| named(fdtype::UNSUPPORTED)),
        Link::Pipe => named(fdtype::FIFO),
        Link::Anon(t) => named(t),
        Link::Path(path) => match &meta {
            Some(m) if m.is_dir() => named(fdtype::DIRECTORY),
            Some(m) if m.file_type().is_fifo() => named(fdtype::FIFO),
            _ => {
                let info = fs::read_to_string(pdir.join("fdinfo").join(fd.to_string()));
                let flags = info.ok().and_then(|t| parse::parse_fdinfo_flags(&t));
                FdKind::File {
                    name: path.to_string(),
                    open_flags: flags.map_or(0, parse::open_flags_to_ppm),
                    dev: meta.as_ref().map_or(0, |m| parse::encode_dev(m.dev())),
                }
            }
        },
    };
    Some(FdInfo {
        fd: fd as i64,
        ino,
        kind,
    })
}

/// Open files by process id.
pub type ProcessFds = Vec<(u64, Vec<FdInfo>)>;

/// Threads of every process under `proc_root`, and each process's open files
/// (under its pid). Only an unreadable `proc_root` is an error.
pub fn scan_processes(
    proc_root: &Path,
    sockets: &HashMap<u64, FdKind>,
    controllers: &[String],
) -> Result<(Vec<ThreadInfo>, ProcessFds), Error> {
    let pids = numeric_entries(proc_root).map_err(|e| io_err(proc_root, e))?;
    let mut threads = Vec::new();
    let mut fds = Vec::new();
    for pid in pids {
        let pdir = proc_root.join(pid.to_string());
        let Ok(tids) = numeric_entries(&pdir.join("task")) else {
            continue;
        };
        let process = read_process(&pdir, controllers);
        let before = threads.len();
        for tid in tids {
            let tdir = pdir.join("task").join(tid.to_string());
            threads.extend(read_thread(&tdir, pid, tid, &process));
        }
        if threads.len() == before {
            continue;
        }
        let open: Vec<FdInfo> = numeric_entries(&pdir.join("fd"))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|fd| read_fd(&pdir, fd, sockets))
            .collect();
        fds.push((pid, open));
    }
    Ok((threads, fds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn scan_finds_this_process_its_files_and_sockets() {
        let dir = std::env::temp_dir().join(format!("saker-procfs-{}", std::process::id()));
        let mut file = fs::File::create(&dir).unwrap();
        file.write_all(b"x").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();

        let meta = snapshot().unwrap();
        let _ = fs::remove_file(&dir);
        let me = std::process::id() as u64;
        let main = meta
            .threads
            .iter()
            .find(|t| t.tid == me)
            .expect("own thread");
        assert_eq!(main.pid, me);
        assert!(!main.comm.is_empty());
        assert_eq!(
            main.exepath,
            std::env::current_exe().unwrap().to_string_lossy()
        );
        assert_eq!(main.uid, unsafe_free_euid());
        assert!(main.fdlimit > 0);
        assert!(main.vmsize_kb > 0);
        assert!(
            meta.threads
                .iter()
                .any(|t| t.pid == me && t.tid != me && t.flags != 0)
                || meta.threads.iter().filter(|t| t.pid == me).count() == 1
        );

        let (_, fds) = meta
            .fds
            .iter()
            .find(|(pid, _)| *pid == me)
            .expect("own fds");
        let name = dir.to_string_lossy();
        let f = fds
            .iter()
            .find(|f| matches!(&f.kind, FdKind::File { name: n, .. } if *n == name))
            .expect("the file opened above");
        if let FdKind::File { open_flags, .. } = f.kind {
            assert_eq!(open_flags & 3, 2, "opened write-only");
        }
        assert!(fds.iter().any(|f| matches!(f.kind,
            FdKind::Ipv4ServerSocket { port: p, l4proto: 2, .. } if p == port)));

        assert!(meta.machine.num_cpus >= 1);
        assert!(meta.machine.memory_size_bytes > 0);
        assert!(meta.machine.max_pid > 0);
        assert!(meta.users.iter().any(|u| u.uid == 0));
        drop(file);
    }

    /// Effective uid from /proc/self/status, without libc.
    fn unsafe_free_euid() -> u32 {
        parse::parse_status(&fs::read_to_string("/proc/self/status").unwrap()).euid
    }

    #[test]
    fn vanished_processes_are_skipped() {
        let root = std::env::temp_dir().join(format!("saker-fakeproc-{}", std::process::id()));
        let t = root.join("100/task/100");
        fs::create_dir_all(&t).unwrap();
        // pid 100 has a task dir but no stat: gone mid-scan.
        fs::create_dir_all(root.join("200/task")).unwrap();
        let t2 = root.join("200/task/201");
        fs::create_dir_all(&t2).unwrap();
        fs::write(t2.join("stat"), "201 (w) S 1 200 200 0 -1 0 1 0 2 0").unwrap();
        fs::write(t2.join("status"), "PPid:\t1\nUid:\t0\t5\t0\t0\n").unwrap();
        fs::write(t2.join("comm"), "w\n").unwrap();
        let (threads, fds) = scan_processes(&root, &HashMap::new(), &[]).unwrap();
        let _ = fs::remove_dir_all(&root);
        assert_eq!(threads.len(), 1);
        let w = &threads[0];
        assert_eq!(
            (w.tid, w.pid, w.comm.as_str(), w.exe.as_str(), w.uid),
            (201, 200, "w", "w", 5)
        );
        assert_eq!(w.flags, PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES);
        assert_eq!(
            (w.vpgid, w.sid, w.pfminor, w.pfmajor, w.loginuid),
            (200, 200, 1, 2, -1)
        );
        assert_eq!(fds, vec![(200, vec![])]);
        assert!(scan_processes(Path::new("/nonexistent/proc"), &HashMap::new(), &[]).is_err());
    }

    #[test]
    fn writable_checks_owner_group_other() {
        let cases = [
            ((0, 0, 0o755), 0, 0, true),
            ((0, 0, 0o555), 0, 0, false),
            ((1000, 100, 0o755), 1000, 100, true),
            ((1000, 100, 0o575), 1000, 100, false),
            ((1000, 100, 0o775), 2000, 100, true),
            ((1000, 100, 0o757), 2000, 200, true),
            ((1000, 100, 0o755), 2000, 200, false),
        ];
        for (owner, uid, gid, want) in cases {
            assert_eq!(writable_by(owner, uid, gid), want, "{owner:?} {uid} {gid}");
        }
    }

    #[test]
    fn the_live_snapshot_survives_a_capture_file() {
        let meta = snapshot().unwrap();
        let w = crate::capture::Writer::new(Vec::new(), &meta).unwrap();
        let bytes = w.finish().unwrap();
        let r = crate::capture::Reader::new("mem", &bytes[..]).unwrap();
        let back = r.metadata();
        assert_eq!(back.machine, meta.machine);
        assert_eq!(back.users, meta.users);
        assert_eq!(back.threads.len(), meta.threads.len());
        let me = std::process::id() as u64;
        let find = |m: &Metadata| m.threads.iter().find(|t| t.tid == me).cloned();
        assert_eq!(find(back), find(&meta));
    }
}
