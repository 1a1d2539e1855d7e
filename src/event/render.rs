//! Rendering of event parameters as sysdig shows them in `evt.args` and
//! `%evt.arg.NAME`: flags by name, errnos by name, fds and pids resolved
//! through the state, addresses and tuples as text, byte buffers escaped.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::params::{self, SockAddr, SockTuple};
use super::print_table::{ERRNO_NAMES, PRINT, SYSCALL_NAMES};
use super::schema::ParamType;
use super::table::id;
use super::view::EventView;

/// How a numeric parameter is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintFmt {
    /// Not a number.
    Na,
    /// Decimal.
    Dec,
    /// Hexadecimal.
    Hex,
    /// Zero-padded decimal.
    PaddedDec,
    /// An id.
    Id,
    /// A direction.
    Dir,
    /// Octal.
    Oct,
}

/// Print information of one parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamPrint {
    /// Numeric format.
    pub fmt: PrintFmt,
    /// Flag names and values, for flag parameters.
    pub names: Option<&'static [(&'static str, u32)]>,
}

/// Longest byte buffer shown before it is cut with `...`.
pub const MAX_BUF_SHOWN: usize = 80;

/// What rendering can look up in the state.
pub trait Resolve {
    /// Type character, layer-4 character (sockets) and name of descriptor
    /// `fd` of the event's thread.
    fn fd(&self, fd: i64) -> Option<(char, Option<char>, &str)>;
    /// Command name of thread `tid`.
    fn comm(&self, tid: i64) -> Option<&str>;
    /// Working directory of the event's thread (with a trailing `/`).
    fn cwd(&self) -> Option<&str>;
    /// Name of user `uid`.
    fn user(&self, uid: u32) -> Option<&str>;
    /// Name of group `gid`.
    fn group(&self, gid: u32) -> Option<&str>;
}

/// Kernel-internal errnos (512 and up) that syscalls can report.
const KERNEL_ERRNOS: [&str; 18] = [
    "ERESTARTSYS",
    "ERESTARTNOINTR",
    "ERESTARTNOHAND",
    "ENOIOCTLCMD",
    "ERESTART_RESTARTBLOCK",
    "EPROBE_DEFER",
    "EOPENSTALLED",
    "ENOPARAM",
    "",
    "EBADHANDLE",
    "ENOTSYNC",
    "EBADCOOKIE",
    "ENOTSUPP",
    "ETOOSMALL",
    "ESERVERFAULT",
    "EBADTYPE",
    "EJUKEBOX",
    "EIOCBQUEUED",
];

/// The directory descriptor value meaning "the working directory" (`*at()`
/// syscalls), which sysdig names rather than reading as an errno.
const AT_FDCWD: i64 = -100;

/// Name of errno `e` (positive or negative).
pub fn errno_name(e: i64) -> Option<&'static str> {
    let n = e.unsigned_abs() as usize;
    let name = if n >= 512 {
        KERNEL_ERRNOS.get(n - 512).copied()
    } else {
        ERRNO_NAMES.get(n).copied()
    };
    name.filter(|s| !s.is_empty())
}

const SIGNALS: [&str; 32] = [
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// Name of signal `n`.
pub fn signal_name(n: u64) -> Option<&'static str> {
    SIGNALS.get(n as usize).copied().filter(|s| !s.is_empty())
}

/// Name of a `PPM_SC_*` syscall code.
pub fn syscall_name(code: u64) -> Option<&'static str> {
    SYSCALL_NAMES
        .get(code as usize)
        .copied()
        .filter(|s| !s.is_empty() && *s != "unknown")
}

/// `evt.type` of an event: the schema name, or for generic syscall events
/// the syscall's name.
pub fn type_name(e: &EventView<'_>) -> &'static str {
    let ty = e.event_type();
    if ty == id::GENERIC_E || ty == id::GENERIC_X {
        return e
            .param(0)
            .and_then(params::uint)
            .and_then(syscall_name)
            .unwrap_or("<unknown>");
    }
    type_name_of(ty)
}

/// `evt.type` of every event of type `ty` other than the generic ones
/// (whose name is their syscall's): the schema name, or `<unknown>` for
/// unused and placeholder types.
pub fn type_name_of(ty: u16) -> &'static str {
    match super::schema::info(ty) {
        Some(i) if i.name.starts_with("NA") || i.flags & super::schema::EF_UNUSED != 0 => {
            "<unknown>"
        }
        Some(i) => i.name,
        None => "<unknown>",
    }
}

/// Appends bytes as sysdig's normal buffer format: printable ASCII as is,
/// everything else as `.`.
pub fn escape_buf(b: &[u8], out: &mut String) {
    for &c in b {
        out.push(if (0x20..0x7f).contains(&c) {
            c as char
        } else {
            '.'
        });
    }
}

fn flags(v: u64, names: &[(&str, u32)], only: bool, out: &mut String) {
    let start = out.len();
    let _ = write!(out, "{v}");
    let init = v as u32;
    let mut rest = init;
    let mut matched = String::new();
    for &(name, val) in names {
        if (val == 0 && init == 0) || (val != 0 && rest & val == val && rest != 0) {
            if !matched.is_empty() {
                matched.push('|');
            }
            matched.push_str(name);
            rest &= !val;
        }
    }
    if !matched.is_empty() {
        attach(out, start, only, format_args!("{matched}"));
    }
}

/// Appends the resolved form of the value written since `start`: as
/// `(text)` after it, or in its place when only the resolved form is wanted
/// (`%evt.arg.NAME`).
fn attach(out: &mut String, start: usize, only: bool, text: std::fmt::Arguments<'_>) {
    if only {
        out.truncate(start);
        let _ = out.write_fmt(text);
    } else {
        out.push('(');
        let _ = out.write_fmt(text);
        out.push(')');
    }
}

fn number(v: u64, signed: bool, fmt: PrintFmt, out: &mut String) {
    let _ = match fmt {
        PrintFmt::Hex => write!(out, "{v:X}"),
        PrintFmt::Oct if v == 0 => write!(out, "0"),
        PrintFmt::Oct => write!(out, "0{v:o}"),
        PrintFmt::PaddedDec => write!(out, "{:09}", v as i64),
        _ if signed => write!(out, "{}", v as i64),
        _ => write!(out, "{v}"),
    };
}

fn tuple(t: SockTuple<'_>, out: &mut String) {
    let _ = match t {
        SockTuple::Inet {
            sip,
            sport,
            dip,
            dport,
        } => write!(
            out,
            "{}:{}->{}:{}",
            Ipv4Addr::from(sip),
            sport,
            Ipv4Addr::from(dip),
            dport
        ),
        SockTuple::Inet6 {
            sip,
            sport,
            dip,
            dport,
        } => write!(
            out,
            "{}:{}->{}:{}",
            Ipv6Addr::from(sip),
            sport,
            Ipv6Addr::from(dip),
            dport
        ),
        SockTuple::Unix { source, dest, path } => {
            let _ = write!(out, "{source:x}->{dest:x} ");
            escape_buf(path, out);
            Ok(())
        }
        SockTuple::Other(_) => Ok(()),
    };
}

/// Appends the rendering of parameter `i` of `e` as `evt.args` shows it:
/// the value, then its resolved form in parentheses (`3(<f>/etc/passwd)`).
pub fn param(e: &EventView<'_>, i: usize, res: Option<&dyn Resolve>, out: &mut String) {
    param_as(e, i, res, false, out);
}

/// Appends parameter `i` of `e` as `%evt.arg.NAME` shows it: the resolved
/// form alone when there is one (`<f>/etc/passwd`, `ENOENT`, `O_RDONLY`).
pub fn param_resolved(e: &EventView<'_>, i: usize, res: Option<&dyn Resolve>, out: &mut String) {
    param_as(e, i, res, true, out);
}

fn param_as(e: &EventView<'_>, i: usize, res: Option<&dyn Resolve>, only: bool, out: &mut String) {
    let (Some(info), Some(b)) = (e.info(), e.param(i)) else {
        return;
    };
    let Some(p) = info.params.get(i) else {
        return;
    };
    let pp = PRINT
        .get(e.event_type() as usize)
        .and_then(|l| l.get(i))
        .copied()
        .unwrap_or(ParamPrint {
            fmt: PrintFmt::Dec,
            names: None,
        });
    typed(p.ty, pp, b, res, only, out);
}

fn typed(
    ty: ParamType,
    pp: ParamPrint,
    b: &[u8],
    res: Option<&dyn Resolve>,
    only: bool,
    out: &mut String,
) {
    use ParamType as P;
    let start = out.len();
    if b.is_empty() {
        if matches!(ty, P::Socktuple | P::Sockaddr) {
            out.push_str("NULL");
        }
        return;
    }
    match ty {
        P::Errno => {
            let v = params::int(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            if v < 0 {
                if let Some(n) = errno_name(v) {
                    attach(out, start, only, format_args!("{n}"));
                }
            }
        }
        P::Fd => {
            let v = params::int(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            if v == AT_FDCWD {
                attach(out, start, only, format_args!("AT_FDCWD"));
            } else if v < 0 {
                if let Some(n) = errno_name(v) {
                    attach(out, start, only, format_args!("{n}"));
                }
            } else if let Some((c, l4, name)) = res.and_then(|r| r.fd(v)) {
                match l4 {
                    Some(l) => attach(out, start, only, format_args!("<{c}{l}>{name}")),
                    None => attach(out, start, only, format_args!("<{c}>{name}")),
                }
            }
        }
        P::Pid => {
            let v = params::int(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            if let Some(c) = res.and_then(|r| r.comm(v)) {
                attach(out, start, only, format_args!("{c}"));
            }
        }
        P::Int16 | P::Int32 | P::Int64 => {
            number(params::int(b).unwrap_or(0) as u64, true, pp.fmt, out)
        }
        P::Flags8 | P::Flags16 | P::Flags32 | P::Mode => {
            let v = params::uint(b).unwrap_or(0);
            match pp.names {
                Some(n) => flags(v, n, only, out),
                None => number(v, false, pp.fmt, out),
            }
        }
        P::Sigtype => {
            let v = params::uint(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            if let Some(n) = signal_name(v) {
                attach(out, start, only, format_args!("{n}"));
            }
        }
        P::Syscallid => {
            let v = params::uint(b).unwrap_or(0);
            out.push_str(syscall_name(v).unwrap_or("<unknown>"));
        }
        // sysdig prints 64-bit unsigned decimals as signed.
        P::Uint64 => number(params::uint(b).unwrap_or(0), true, pp.fmt, out),
        P::Uid | P::Gid => {
            let v = params::uint(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            let name = res.and_then(|r| {
                if ty == P::Uid {
                    r.user(v as u32)
                } else {
                    r.group(v as u32)
                }
            });
            if let Some(n) = name {
                attach(out, start, only, format_args!("{n}"));
            }
        }
        P::Uint8 | P::Uint16 | P::Uint32 | P::Sigset => {
            number(params::uint(b).unwrap_or(0), false, pp.fmt, out)
        }
        P::Reltime => {
            let v = params::uint(b).unwrap_or(0);
            let _ = write!(out, "{v}");
            attach(out, start, only, format_args!("{}s", v as f64 / 1e9));
        }
        P::Charbuf => out.push_str(&String::from_utf8_lossy(params::str_bytes(b))),
        P::Fspath | P::Fsrelpath => {
            let s = String::from_utf8_lossy(params::str_bytes(b));
            out.push_str(&s);
            if !s.starts_with('/') {
                if let Some(cwd) = res.and_then(|r| r.cwd()) {
                    let full = crate::state::update::resolve_path(cwd, &s);
                    attach(out, start, only, format_args!("{full}"));
                }
            }
        }
        P::Bytebuf | P::Charbufarray | P::CharbufPairArray => {
            if b.len() > MAX_BUF_SHOWN {
                escape_buf(&b[..MAX_BUF_SHOWN - 3], out);
                out.push_str("...");
            } else {
                escape_buf(b, out);
            }
        }
        P::Sockaddr => match params::sockaddr(b) {
            Some(SockAddr::Inet(ip, port)) => {
                let _ = write!(out, "{}:{}", Ipv4Addr::from(ip), port);
            }
            Some(SockAddr::Inet6(ip, port)) => {
                let _ = write!(out, "{}:{}", Ipv6Addr::from(ip), port);
            }
            Some(SockAddr::Unix(p)) => escape_buf(p, out),
            _ => {}
        },
        P::Socktuple => {
            if let Some(t) = params::socktuple(b) {
                tuple(t, out);
            }
        }
        P::Fdlist => fdlist(b, res, out),
        P::Dyn => {
            // Dynamic parameters carry their sub-type index first.
            let v = &b[1..];
            match (b[0], v.len()) {
                (1, 8) => typed(P::Errno, pp, v, res, only, out),
                (2, 4) | (3, 8) | (4, 8) => {
                    number(params::uint(v).unwrap_or(0), false, PrintFmt::Dec, out)
                }
                _ => escape_buf(v, out),
            }
        }
    }
}

fn fdlist(b: &[u8], res: Option<&dyn Resolve>, out: &mut String) {
    let n = b.len().min(2);
    let count = params::uint(&b[..n]).unwrap_or(0) as usize;
    let mut first = true;
    for k in 0..count {
        let at = 2 + k * 10;
        let (Some(fd), Some(fl)) = (
            b.get(at..at + 8).and_then(params::int),
            b.get(at + 8..at + 10).and_then(params::uint),
        ) else {
            break;
        };
        if !first {
            out.push(' ');
        }
        first = false;
        let c = res.and_then(|r| r.fd(fd)).map(|(c, _, _)| c);
        let _ = match c {
            Some(c) => write!(out, "{fd}:{c}{fl:x}"),
            None => write!(out, "{fd}:{fl:x}"),
        };
    }
}

/// Appends `evt.args`: `name=value ` for each decoded parameter (sysdig
/// leaves a space after each, and shows none for generic syscall events).
pub fn args(e: &EventView<'_>, res: Option<&dyn Resolve>, out: &mut String) {
    let Some(info) = e.info() else {
        return;
    };
    if matches!(e.event_type(), id::GENERIC_E | id::GENERIC_X) {
        return;
    }
    for (i, p) in info.params.iter().enumerate().take(e.nparams()) {
        out.push_str(p.name);
        out.push('=');
        param(e, i, res, out);
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::view::build;

    struct Fake;
    impl Resolve for Fake {
        fn fd(&self, fd: i64) -> Option<(char, Option<char>, &str)> {
            match fd {
                3 => Some(('f', None, "/etc/passwd")),
                4 => Some(('4', Some('t'), "1.2.3.4:5->6.7.8.9:80")),
                _ => None,
            }
        }
        fn comm(&self, tid: i64) -> Option<&str> {
            (tid == 7).then_some("cat")
        }
        fn cwd(&self) -> Option<&str> {
            Some("/home/u/")
        }
        fn user(&self, uid: u32) -> Option<&str> {
            (uid == 0).then_some("root")
        }
        fn group(&self, _: u32) -> Option<&str> {
            None
        }
    }

    fn args_of(ty: u16, params: &[Vec<u8>]) -> String {
        let refs: Vec<&[u8]> = params.iter().map(Vec::as_slice).collect();
        let b = build(1, 7, ty, &refs);
        let e = EventView::new(&b, 0, 0).unwrap();
        let mut out = String::new();
        args(&e, Some(&Fake), &mut out);
        out
    }

    #[test]
    fn renders_like_sysdig() {
        let long = [b'a'; 100];
        let cases: Vec<(u16, Vec<Vec<u8>>, String)> = vec![
            (
                id::SYSCALL_OPEN_X,
                vec![
                    3i64.to_le_bytes().to_vec(),
                    b"/etc/passwd\0".to_vec(),
                    0x1001u32.to_le_bytes().to_vec(),
                    0u32.to_le_bytes().to_vec(),
                ],
                "fd=3(<f>/etc/passwd) name=/etc/passwd flags=4097(O_RDONLY|O_CLOEXEC) mode=0 "
                    .into(),
            ),
            (
                id::SYSCALL_OPEN_X,
                vec![
                    (-2i64).to_le_bytes().to_vec(),
                    b"x\0".to_vec(),
                    3u32.to_le_bytes().to_vec(),
                    0o644u32.to_le_bytes().to_vec(),
                ],
                "fd=-2(ENOENT) name=x(/home/u/x) flags=3(O_RDWR) mode=0644 ".into(),
            ),
            (
                id::SYSCALL_OPENAT_2_E,
                vec![
                    (-100i64).to_le_bytes().to_vec(),
                    b"x\0".to_vec(),
                    1u32.to_le_bytes().to_vec(),
                    0u32.to_le_bytes().to_vec(),
                ],
                "dirfd=-100(AT_FDCWD) name=x(/home/u/x) flags=1(O_RDONLY) mode=0 ".into(),
            ),
            (
                id::SYSCALL_READ_X,
                vec![5i64.to_le_bytes().to_vec(), b"ab\ncd\0".to_vec()],
                "res=5 data=ab.cd. ".into(),
            ),
            (
                id::SYSCALL_WRITE_X,
                vec![100i64.to_le_bytes().to_vec(), long.to_vec()],
                format!("res=100 data={}... ", "a".repeat(77)),
            ),
            (
                id::SYSCALL_READ_E,
                vec![4i64.to_le_bytes().to_vec(), 10u32.to_le_bytes().to_vec()],
                "fd=4(<4t>1.2.3.4:5->6.7.8.9:80) size=10 ".into(),
            ),
            (
                id::SOCKET_CONNECT_X,
                vec![(-514i64).to_le_bytes().to_vec(), b"".to_vec()],
                "res=-514(ERESTARTNOHAND) tuple=NULL ".into(),
            ),
            (
                id::SYSCALL_SETUID_E,
                vec![0u32.to_le_bytes().to_vec()],
                "uid=0(root) ".into(),
            ),
            (
                id::SYSCALL_KILL_E,
                vec![7i64.to_le_bytes().to_vec(), 9u8.to_le_bytes().to_vec()],
                "pid=7(cat) sig=9(SIGKILL) ".into(),
            ),
            (
                id::SYSCALL_NANOSLEEP_E,
                vec![1_000_000_000u64.to_le_bytes().to_vec()],
                "interval=1000000000(1s) ".into(),
            ),
            (
                id::GENERIC_E,
                vec![139u16.to_le_bytes().to_vec(), 28u16.to_le_bytes().to_vec()],
                "".into(),
            ),
        ];
        for (ty, params, want) in cases {
            assert_eq!(args_of(ty, &params), want, "event {ty}");
        }
    }

    #[test]
    fn type_names() {
        let generic = build(
            1,
            1,
            id::GENERIC_E,
            &[&139u16.to_le_bytes(), &0u16.to_le_bytes()],
        );
        let e = EventView::new(&generic, 0, 0).unwrap();
        assert_eq!(type_name(&e), "madvise");
        let unknown = build(1, 1, id::GENERIC_X, &[&0u16.to_le_bytes()]);
        assert_eq!(
            type_name(&EventView::new(&unknown, 0, 0).unwrap()),
            "<unknown>"
        );
        assert_eq!(errno_name(-11), Some("EAGAIN"));
        assert_eq!(errno_name(-9999), None);
    }
}
