//! Parsers of the /proc and /etc texts the snapshot reads: pure functions
//! on strings, so they are tested on fixed text.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::capture::meta::{FdKind, Group, User};

/// scap fd type codes.
pub(crate) mod fdtype {
    pub const DIRECTORY: u8 = 2;
    pub const FIFO: u8 = 7;
    pub const EVENT: u8 = 9;
    pub const UNSUPPORTED: u8 = 10;
    pub const SIGNALFD: u8 = 11;
    pub const EVENTPOLL: u8 = 12;
    pub const INOTIFY: u8 = 13;
    pub const TIMERFD: u8 = 14;
    pub const NETLINK: u8 = 15;
}

/// `SCAP_L4_TCP`
pub(crate) const L4_TCP: u8 = 2;
/// `SCAP_L4_UDP`
pub(crate) const L4_UDP: u8 = 3;

/// `MemTotal` of /proc/meminfo, in bytes.
pub fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Users of an /etc/passwd text; malformed lines are skipped.
pub fn parse_passwd(text: &str) -> Vec<User> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(User {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                name: f[0].to_string(),
                homedir: f[5].to_string(),
                shell: f[6].to_string(),
            })
        })
        .collect()
}

/// Groups of an /etc/group text; malformed lines are skipped.
pub fn parse_group(text: &str) -> Vec<Group> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(Group {
                gid: f[2].parse().ok()?,
                name: f[0].to_string(),
            })
        })
        .collect()
}

/// Fields of /proc/<pid>/task/<tid>/status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Parent process id.
    pub ppid: u64,
    /// Effective user id.
    pub euid: u32,
    /// Effective group id.
    pub egid: u32,
    /// VmSize, KiB.
    pub vmsize_kb: u32,
    /// VmRSS, KiB.
    pub vmrss_kb: u32,
    /// VmSwap, KiB.
    pub vmswap_kb: u32,
    /// Thread id in the innermost pid namespace (last of NSpid).
    pub vtid: Option<i64>,
    /// Process id in the innermost pid namespace (last of NStgid).
    pub vpid: Option<i64>,
}

/// The `n`-th whitespace-separated word of `val`, parsed.
fn field<T: std::str::FromStr>(val: &str, n: usize) -> Option<T> {
    val.split_whitespace().nth(n)?.parse().ok()
}

/// Parses a status file; missing fields stay at their defaults.
pub fn parse_status(text: &str) -> Status {
    let mut s = Status::default();
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let mut words = val.split_whitespace();
        match key {
            "PPid" => s.ppid = field(val, 0).unwrap_or(0),
            "Uid" => s.euid = field(val, 1).unwrap_or(0),
            "Gid" => s.egid = field(val, 1).unwrap_or(0),
            "VmSize" => s.vmsize_kb = field(val, 0).unwrap_or(0),
            "VmRSS" => s.vmrss_kb = field(val, 0).unwrap_or(0),
            "VmSwap" => s.vmswap_kb = field(val, 0).unwrap_or(0),
            "NSpid" => s.vtid = words.next_back().and_then(|w| w.parse().ok()),
            "NStgid" => s.vpid = words.next_back().and_then(|w| w.parse().ok()),
            _ => {}
        }
    }
    s
}

/// Fields of /proc/<pid>/task/<tid>/stat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    /// Process group id.
    pub pgrp: u64,
    /// Session id.
    pub sid: u64,
    /// Minor faults.
    pub minflt: u64,
    /// Major faults.
    pub majflt: u64,
}

/// Parses a stat line (the command name may hold spaces and parentheses).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    // Fields after the name, numbered from 3 (state).
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |n: usize| f.get(n - 3).and_then(|w| w.parse().ok());
    Some(Stat {
        pgrp: get(5)?,
        sid: get(6)?,
        minflt: get(10)?,
        majflt: get(12)?,
    })
}

/// The soft "Max open files" of /proc/<pid>/limits (`u64::MAX` if unlimited).
pub fn parse_fdlimit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// Cgroups of /proc/<pid>/cgroup as `controller=path`; the unified (v2)
/// hierarchy is listed under each of `v2_controllers`.
pub fn parse_cgroups(text: &str, v2_controllers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if ctrls.is_empty() {
            out.extend(v2_controllers.iter().map(|c| format!("{c}={path}")));
        } else {
            for c in ctrls.split(',') {
                let c = c.strip_prefix("name=").unwrap_or(c);
                out.push(format!("{c}={path}"));
            }
        }
    }
    out
}

/// Splits a NUL-separated buffer (cmdline, environ) into strings.
pub fn split_nul(buf: &[u8]) -> Vec<String> {
    let buf = buf.strip_suffix(&[0]).unwrap_or(buf);
    if buf.is_empty() {
        return Vec::new();
    }
    buf.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The `flags:` of an fdinfo file (octal kernel open flags).
pub fn parse_fdinfo_flags(text: &str) -> Option<u32> {
    let line = text.lines().find(|l| l.starts_with("flags:"))?;
    u32::from_str_radix(line["flags:".len()..].trim(), 8).ok()
}

/// Kernel open flags (as fdinfo shows them, generic/x86_64 values: glibc
/// defines `O_LARGEFILE` as 0 on 64-bit) to `PPM_O_*`.
pub fn open_flags_to_ppm(flags: u32) -> u32 {
    let mut out = match flags & 0o3 {
        0o1 => 1 << 1,
        0o2 => (1 << 0) | (1 << 1),
        _ => 1 << 0,
    };
    let table: [(u32, u32); 12] = [
        (0o100, 1 << 2),                  // O_CREAT
        (0o2000, 1 << 3),                 // O_APPEND
        (0o10000, 1 << 4),                // O_DSYNC
        (0o200, 1 << 5),                  // O_EXCL
        (0o4000, 1 << 6),                 // O_NONBLOCK
        (0o4010000, 1 << 7),              // O_SYNC (__O_SYNC | O_DSYNC)
        (0o1000, 1 << 8),                 // O_TRUNC
        (0o40000, 1 << 9),                // O_DIRECT
        (0o200000, 1 << 10),              // O_DIRECTORY
        (0o100000, 1 << 11),              // O_LARGEFILE
        (0o2000000, 1 << 12),             // O_CLOEXEC
        (0o20000000 | 0o200000, 1 << 13), // O_TMPFILE
    ];
    for (k, p) in table {
        if flags & k == k {
            out |= p;
        }
    }
    out
}

/// A device number as the kernel encodes it for userspace (`new_encode_dev`).
pub fn encode_dev(dev: u64) -> u32 {
    let major = libc::major(dev);
    let minor = libc::minor(dev);
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

fn hex_addr_port(s: &str) -> Option<(&str, u16)> {
    let (a, p) = s.split_once(':')?;
    Some((a, u16::from_str_radix(p, 16).ok()?))
}

fn hex_v6(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for i in 0..4 {
        let w = u32::from_str_radix(s.get(i * 8..i * 8 + 8)?, 16).ok()?;
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
    }
    Some(out)
}

/// Sockets of a /proc/net/{tcp,udp}[6] table by inode. TCP sockets in LISTEN
/// and sockets without a peer are server sockets.
pub fn parse_inet_table(text: &str, l4proto: u8, v6: bool) -> Vec<(u64, FdKind)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Some((la, lp)), Some((ra, rp))) = (hex_addr_port(f[1]), hex_addr_port(f[2])) else {
            continue;
        };
        let Ok(ino) = f[9].parse::<u64>() else {
            continue;
        };
        let listen =
            (l4proto == L4_TCP && f[3] == "0A") || (rp == 0 && ra.bytes().all(|b| b == b'0'));
        let kind = if v6 {
            let (Some(l), Some(r)) = (hex_v6(la), hex_v6(ra)) else {
                continue;
            };
            if listen {
                FdKind::Ipv6ServerSocket {
                    ip: l,
                    port: lp,
                    l4proto,
                }
            } else {
                FdKind::Ipv6Socket {
                    sip: l,
                    dip: r,
                    sport: lp,
                    dport: rp,
                    l4proto,
                }
            }
        } else {
            let (Ok(l), Ok(r)) = (u32::from_str_radix(la, 16), u32::from_str_radix(ra, 16)) else {
                continue;
            };
            if listen {
                FdKind::Ipv4ServerSocket {
                    ip: l,
                    port: lp,
                    l4proto,
                }
            } else {
                FdKind::Ipv4Socket {
                    sip: l,
                    dip: r,
                    sport: lp,
                    dport: rp,
                    l4proto,
                }
            }
        };
        out.push((ino, kind));
    }
    out
}

/// Sockets of /proc/net/unix by inode (source: the kernel address column).
pub fn parse_unix_table(text: &str) -> Vec<(u64, FdKind)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let (Ok(addr), Ok(ino)) = (
            u64::from_str_radix(f[0].trim_end_matches(':'), 16),
            f[6].parse::<u64>(),
        ) else {
            continue;
        };
        let name = f.get(7).map(|s| s.to_string()).unwrap_or_default();
        out.push((
            ino,
            FdKind::UnixSocket {
                source: addr,
                dest: 0,
                name,
            },
        ));
    }
    out
}

/// Inodes of /proc/net/netlink sockets.
pub fn parse_netlink_table(text: &str) -> Vec<u64> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(9)?.parse().ok())
        .collect()
}

/// Every socket of the system's tables by inode.
pub fn socket_table(proc_root: &Path) -> HashMap<u64, FdKind> {
    let read = |p: &str| fs::read_to_string(proc_root.join("net").join(p)).unwrap_or_default();
    let mut m = HashMap::new();
    for (file, proto, v6) in [
        ("tcp", L4_TCP, false),
        ("tcp6", L4_TCP, true),
        ("udp", L4_UDP, false),
        ("udp6", L4_UDP, true),
    ] {
        m.extend(parse_inet_table(&read(file), proto, v6));
    }
    m.extend(parse_unix_table(&read("unix")));
    for ino in parse_netlink_table(&read("netlink")) {
        m.insert(
            ino,
            FdKind::Named {
                fd_type: fdtype::NETLINK,
                name: String::new(),
            },
        );
    }
    m
}

/// What an fd link names, before looking at the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link<'a> {
    /// `socket:[ino]`
    Socket(u64),
    /// `pipe:[ino]`
    Pipe,
    /// `anon_inode:...` of the given scap fd type.
    Anon(u8),
    /// A path.
    Path(&'a str),
}

/// Classifies the target of /proc/<pid>/fd/<n>.
pub fn classify_link(target: &str) -> Link<'_> {
    if let Some(ino) = target
        .strip_prefix("socket:[")
        .and_then(|s| s.strip_suffix(']'))
    {
        return ino
            .parse()
            .map(Link::Socket)
            .unwrap_or(Link::Anon(fdtype::UNSUPPORTED));
    }
    if target.starts_with("pipe:[") {
        return Link::Pipe;
    }
    if let Some(kind) = target.strip_prefix("anon_inode:") {
        let kind = kind.trim_start_matches('[').trim_end_matches(']');
        return Link::Anon(match kind {
            "eventfd" => fdtype::EVENT,
            "signalfd" => fdtype::SIGNALFD,
            "eventpoll" => fdtype::EVENTPOLL,
            "inotify" => fdtype::INOTIFY,
            "timerfd" => fdtype::TIMERFD,
            _ => fdtype::UNSUPPORTED,
        });
    }
    Link::Path(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields() {
        let text = "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\n\
                    NStgid:\t42\t7\nPid:\t43\nNSpid:\t43\t8\nPPid:\t1\n\
                    Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\n\
                    VmSize:\t  10240 kB\nVmRSS:\t   2048 kB\nVmSwap:\t      4 kB\n";
        let s = parse_status(text);
        assert_eq!(
            s,
            Status {
                ppid: 1,
                euid: 1001,
                egid: 101,
                vmsize_kb: 10240,
                vmrss_kb: 2048,
                vmswap_kb: 4,
                vtid: Some(8),
                vpid: Some(7),
            }
        );
        // A kernel thread has no Vm lines and one namespace level.
        let k = parse_status("Name:\tkthreadd\nNStgid:\t2\nNSpid:\t2\nPPid:\t0\n");
        assert_eq!(
            (k.vmsize_kb, k.vtid, k.vpid, k.ppid),
            (0, Some(2), Some(2), 0)
        );
    }

    #[test]
    fn stat_fields_survive_odd_names() {
        let cases = [
            (
                "42 (bash) S 1 42 42 34816 42 4194304 1500 0 3 0 5 6",
                (42, 42, 1500, 3),
            ),
            ("7 (a) b) (c) R 1 5 6 0 -1 0 11 22 33 44", (5, 6, 11, 33)),
        ];
        for (text, (pgrp, sid, minflt, majflt)) in cases {
            let s = parse_stat(text).unwrap();
            assert_eq!(
                (s.pgrp, s.sid, s.minflt, s.majflt),
                (pgrp, sid, minflt, majflt)
            );
        }
        assert_eq!(parse_stat("1 (x) S 0"), None);
        assert_eq!(parse_stat("no paren"), None);
    }

    #[test]
    fn limits_cgroups_and_nul_lists() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             63704                63704                processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_fdlimit(limits), Some(1024));
        assert_eq!(
            parse_fdlimit(
                "Max open files            unlimited            unlimited            files"
            ),
            Some(u64::MAX)
        );
        assert_eq!(parse_fdlimit(""), None);

        let v1 = "12:cpu,cpuacct:/docker/abc\n1:name=systemd:/init.scope\n";
        assert_eq!(
            parse_cgroups(v1, &[]),
            [
                "cpu=/docker/abc",
                "cpuacct=/docker/abc",
                "systemd=/init.scope"
            ]
        );
        let ctrls = vec!["cpu".to_string(), "memory".to_string()];
        assert_eq!(
            parse_cgroups("0::/user.slice/a:b\n", &ctrls),
            ["cpu=/user.slice/a:b", "memory=/user.slice/a:b"]
        );

        assert_eq!(split_nul(b"ls\0-l\0/tmp\0"), ["ls", "-l", "/tmp"]);
        assert_eq!(split_nul(b"A=1\0B=\0"), ["A=1", "B="]);
        assert!(split_nul(b"").is_empty());
    }

    #[test]
    fn open_flags_become_ppm_flags() {
        let cases: &[(&str, u32)] = &[
            ("pos:\t0\nflags:\t0100000\nmnt_id:\t1\n", 1 | (1 << 11)),
            ("flags:\t02100002\n", 3 | (1 << 11) | (1 << 12)),
            ("flags:\t01101\n", 2 | (1 << 2) | (1 << 8)),
            ("flags:\t02004000\n", 1 | (1 << 6) | (1 << 12)),
            ("flags:\t0200000\n", 1 | (1 << 10)),
            ("flags:\t04010001\n", 2 | (1 << 4) | (1 << 7)),
        ];
        for (text, want) in cases {
            let f = parse_fdinfo_flags(text).unwrap();
            assert_eq!(open_flags_to_ppm(f), *want, "{text:?}");
        }
        assert_eq!(parse_fdinfo_flags("pos: 0\n"), None);
        assert_eq!(encode_dev(libc::makedev(8, 1)), 0x801);
        assert_eq!(
            encode_dev(libc::makedev(259, 300)),
            (300 & 0xff) | (259 << 8) | (256 << 12)
        );
    }

    #[test]
    fn inet_tables_resolve_by_inode() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0\n\
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0 20 4 30 10 -1\n";
        let got = parse_inet_table(tcp, L4_TCP, false);
        let lo = u32::from_ne_bytes([127, 0, 0, 1]);
        assert_eq!(
            got,
            vec![
                (
                    1111,
                    FdKind::Ipv4ServerSocket {
                        ip: lo,
                        port: 8080,
                        l4proto: L4_TCP
                    }
                ),
                (
                    2222,
                    FdKind::Ipv4Socket {
                        sip: lo,
                        dip: lo,
                        sport: 50000,
                        dport: 8080,
                        l4proto: L4_TCP
                    }
                ),
            ]
        );
        let udp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  5: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3333 2 0 0\n";
        let mut one = [0u8; 16];
        one[15] = 1;
        assert_eq!(
            parse_inet_table(udp6, L4_UDP, true),
            vec![(
                3333,
                FdKind::Ipv6ServerSocket {
                    ip: one,
                    port: 53,
                    l4proto: L4_UDP
                }
            )]
        );
        assert!(parse_inet_table("header\ngarbage line\n", L4_TCP, false).is_empty());
    }

    #[test]
    fn unix_and_netlink_tables() {
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path\n\
                    ffff8880a1b2c3d4: 00000002 00000000 00010000 0001 01 4444 /run/x.sock\n\
                    ffff8880a1b2c3d5: 00000003 00000000 00000000 0001 03 5555\n";
        assert_eq!(
            parse_unix_table(unix),
            vec![
                (
                    4444,
                    FdKind::UnixSocket {
                        source: 0xffff8880a1b2c3d4,
                        dest: 0,
                        name: "/run/x.sock".into()
                    }
                ),
                (
                    5555,
                    FdKind::UnixSocket {
                        source: 0xffff8880a1b2c3d5,
                        dest: 0,
                        name: String::new()
                    }
                ),
            ]
        );
        let nl = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n\
                  ffff888003a4b000 0   1          00000550 0        0        0     2        0        6666\n";
        assert_eq!(parse_netlink_table(nl), vec![6666]);
    }

    #[test]
    fn links_users_groups_memory() {
        let cases = [
            ("socket:[123]", Link::Socket(123)),
            ("pipe:[9]", Link::Pipe),
            ("anon_inode:[eventfd]", Link::Anon(fdtype::EVENT)),
            ("anon_inode:inotify", Link::Anon(fdtype::INOTIFY)),
            ("anon_inode:[eventpoll]", Link::Anon(fdtype::EVENTPOLL)),
            ("anon_inode:[io_uring]", Link::Anon(fdtype::UNSUPPORTED)),
            ("/etc/passwd", Link::Path("/etc/passwd")),
        ];
        for (t, want) in cases {
            assert_eq!(classify_link(t), want, "{t}");
        }
        let users = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n# c\nbad:line\nu:x:1000:100::/home/u:/bin/sh\n",
        );
        assert_eq!(users.len(), 2);
        assert_eq!(
            (users[1].uid, users[1].gid, users[1].homedir.as_str()),
            (1000, 100, "/home/u")
        );
        let groups = parse_group("root:x:0:\nusers:x:100:a,b\nnogid:x:\n");
        assert_eq!(
            groups
                .iter()
                .map(|g| (g.gid, g.name.as_str()))
                .collect::<Vec<_>>(),
            [(0, "root"), (100, "users")]
        );
        assert_eq!(
            parse_meminfo_total("MemTotal:       16314740 kB\nMemFree: 1 kB\n"),
            Some(16314740 * 1024)
        );
        assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
    }
}
