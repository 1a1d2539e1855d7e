//! `fd.*` fields: the descriptor the event operates on or creates.

use super::{Arg, Ctx, Field};
use crate::state::fd::{Fd, FdType, L4_TCP, L4_UDP};

/// The `fd.*` fields.
pub static FIELDS: &[Field] = &[
    Field {
        name: "fd.num",
        arg: Arg::None,
        desc: "descriptor number",
        extract: num,
    },
    Field {
        name: "fd.name",
        arg: Arg::None,
        desc: "path, tuple or name of the descriptor",
        extract: name,
    },
    Field {
        name: "fd.type",
        arg: Arg::None,
        desc: "descriptor type",
        extract: ty,
    },
    Field {
        name: "fd.typechar",
        arg: Arg::None,
        desc: "descriptor type character",
        extract: typechar,
    },
    Field {
        name: "fd.directory",
        arg: Arg::None,
        desc: "directory of a file descriptor's path",
        extract: directory,
    },
    Field {
        name: "fd.filename",
        arg: Arg::None,
        desc: "file name of a file descriptor's path, without the directory",
        extract: filename,
    },
    Field {
        name: "fd.cip",
        arg: Arg::None,
        desc: "client address",
        extract: cip,
    },
    Field {
        name: "fd.sip",
        arg: Arg::None,
        desc: "server address",
        extract: sip,
    },
    Field {
        name: "fd.lip",
        arg: Arg::None,
        desc: "local address",
        extract: lip,
    },
    Field {
        name: "fd.rip",
        arg: Arg::None,
        desc: "remote address",
        extract: rip,
    },
    Field {
        name: "fd.ip",
        arg: Arg::None,
        desc: "server address, else client address (filter only)",
        extract: ip,
    },
    Field {
        name: "fd.cport",
        arg: Arg::None,
        desc: "client port",
        extract: cport,
    },
    Field {
        name: "fd.sport",
        arg: Arg::None,
        desc: "server port",
        extract: sport,
    },
    Field {
        name: "fd.lport",
        arg: Arg::None,
        desc: "local port",
        extract: lport,
    },
    Field {
        name: "fd.rport",
        arg: Arg::None,
        desc: "remote port",
        extract: rport,
    },
    Field {
        name: "fd.port",
        arg: Arg::None,
        desc: "server port, else client port (filter only)",
        extract: port,
    },
    Field {
        name: "fd.cnet",
        arg: Arg::None,
        desc: "client address, for network comparisons",
        extract: cip,
    },
    Field {
        name: "fd.snet",
        arg: Arg::None,
        desc: "server address, for network comparisons",
        extract: sip,
    },
    Field {
        name: "fd.lnet",
        arg: Arg::None,
        desc: "local address, for network comparisons",
        extract: lip,
    },
    Field {
        name: "fd.rnet",
        arg: Arg::None,
        desc: "remote address, for network comparisons",
        extract: rip,
    },
    Field {
        name: "fd.net",
        arg: Arg::None,
        desc: "server address, else client address, for network comparisons",
        extract: ip,
    },
    Field {
        name: "fd.cip.name",
        arg: Arg::None,
        desc: "client host name (no name resolution: no value)",
        extract: no_dns,
    },
    Field {
        name: "fd.sip.name",
        arg: Arg::None,
        desc: "server host name (no name resolution: no value)",
        extract: no_dns,
    },
    Field {
        name: "fd.lip.name",
        arg: Arg::None,
        desc: "local host name (no name resolution: no value)",
        extract: no_dns,
    },
    Field {
        name: "fd.rip.name",
        arg: Arg::None,
        desc: "remote host name (no name resolution: no value)",
        extract: no_dns,
    },
    Field {
        name: "fd.l4proto",
        arg: Arg::None,
        desc: "layer-4 protocol of a socket: tcp, udp, icmp, raw",
        extract: l4proto,
    },
    Field {
        name: "fd.sockfamily",
        arg: Arg::None,
        desc: "socket family: ip or unix",
        extract: sockfamily,
    },
    Field {
        name: "fd.connected",
        arg: Arg::None,
        desc: "whether the socket is connected",
        extract: connected,
    },
    Field {
        name: "fd.name_changed",
        arg: Arg::None,
        desc: "whether this event gave the descriptor its name",
        extract: name_changed,
    },
];

/// One end of a socket: address text and port, as the descriptor's name
/// holds them (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// Address as text (`10.0.0.1`, `::1`).
    pub ip: &'a str,
    /// Port.
    pub port: u16,
}

fn endpoint(s: &str) -> Option<Endpoint<'_>> {
    let (ip, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    ip.parse::<std::net::IpAddr>().ok()?;
    Some(Endpoint { ip, port })
}

/// The client and server ends of an IP socket descriptor: both for a
/// connection (`c:p->s:q`), the server alone for a bound or listening
/// socket (`s:q`).
pub fn endpoints(f: &Fd) -> Option<(Option<Endpoint<'_>>, Endpoint<'_>)> {
    if !matches!(f.ty, FdType::Ipv4 | FdType::Ipv6) {
        return None;
    }
    match f.name.split_once("->") {
        Some((c, s)) => Some((Some(endpoint(c)?), endpoint(s)?)),
        None => Some((None, endpoint(&f.name)?)),
    }
}

/// Which end of a socket a field reads.
#[derive(Clone, Copy)]
enum End {
    Client,
    Server,
    Local,
    Remote,
    Any,
}

fn pick<'a>(c: &'a Ctx<'_>, end: End) -> Option<Endpoint<'a>> {
    let f = entry(c)?;
    let (cl, sv) = endpoints(f)?;
    match end {
        End::Client => cl,
        End::Server | End::Any => Some(sv),
        End::Local | End::Remote => {
            let cl = cl?;
            // The local end is the one whose address is the machine's; the
            // client when neither or both are.
            let client_local = match (cl.ip.parse(), sv.ip.parse()) {
                (Ok(a), Ok(b)) => {
                    let tid = c.evt.tid();
                    c.state.is_local_addr(tid, a) || !c.state.is_local_addr(tid, b)
                }
                _ => true,
            };
            let local = matches!(end, End::Local);
            Some(if client_local == local { cl } else { sv })
        }
    }
}

/// `fd.ip` and `fd.net` in a filter: the server address, then the client's.
/// A socket with no address yet has both ends unspecified, which compares
/// equal to `0.0.0.0` and to `::` whatever the socket's family.
pub fn each_ip(c: &Ctx<'_>, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
    let f = entry(c)?;
    Some(match endpoints(f) {
        Some((cl, sv)) => test(sv.ip) || cl.is_some_and(|e| test(e.ip)),
        None => {
            unspecified(f)?;
            test("0.0.0.0") || test("::")
        }
    })
}

/// `fd.port` in a filter: the server port, then the client's; 0 for a
/// socket with no address yet.
pub fn each_port(c: &Ctx<'_>, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
    let f = entry(c)?;
    Some(match endpoints(f) {
        Some((cl, sv)) => {
            test(&sv.port.to_string()) || cl.is_some_and(|e| test(&e.port.to_string()))
        }
        None => {
            unspecified(f)?;
            test("0")
        }
    })
}

/// The unspecified address of an IP socket's family (no other descriptor).
fn unspecified(f: &Fd) -> Option<&'static str> {
    match f.ty {
        FdType::Ipv4 => Some("0.0.0.0"),
        FdType::Ipv6 => Some("::"),
        _ => None,
    }
}

fn ip_of(c: &Ctx<'_>, end: End, out: &mut String) -> bool {
    let Some(e) = pick(c, end) else { return false };
    out.push_str(e.ip);
    true
}

fn port_of(c: &Ctx<'_>, end: End, out: &mut String) -> bool {
    let Some(e) = pick(c, end) else { return false };
    super::push_int(out, e.port);
    true
}

fn cip(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    ip_of(c, End::Client, out)
}

fn sip(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    ip_of(c, End::Server, out)
}

fn lip(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    ip_of(c, End::Local, out)
}

fn rip(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    ip_of(c, End::Remote, out)
}

fn ip(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    ip_of(c, End::Any, out)
}

fn cport(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    port_of(c, End::Client, out)
}

fn sport(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    port_of(c, End::Server, out)
}

fn lport(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    port_of(c, End::Local, out)
}

fn rport(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    port_of(c, End::Remote, out)
}

fn port(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    port_of(c, End::Any, out)
}

fn no_dns(_: &Ctx<'_>, _: &str, _: &mut String) -> bool {
    false
}

fn l4proto(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    if !matches!(f.ty, FdType::Ipv4 | FdType::Ipv6) {
        return false;
    }
    out.push_str(match f.l4 {
        L4_TCP => "tcp",
        L4_UDP => "udp",
        4 => "icmp",
        5 => "raw",
        _ => "<unknown>",
    });
    true
}

fn sockfamily(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    out.push_str(match f.ty {
        FdType::Ipv4 | FdType::Ipv6 => "ip",
        FdType::Unix => "unix",
        _ => return false,
    });
    true
}

fn connected(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    out.push_str(if f.connected { "true" } else { "false" });
    true
}

fn name_changed(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(f) = entry(c) else { return false };
    let changed = !c.evt.is_enter() && f.named_ts == c.evt.ts();
    out.push_str(if changed { "true" } else { "false" });
    true
}

/// The path of a file or directory descriptor.
fn file_path(f: &Fd) -> Option<&str> {
    matches!(f.ty, FdType::File | FdType::Directory).then_some(f.name.as_str())
}

/// `fd.directory` borrowed from the state (the text extractor and filters'
/// text reader share it).
pub(super) fn directory_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    let f = c.fd_entry()?;
    let p = file_path(f)?;
    if f.ty == FdType::Directory {
        return Some(p);
    }
    // "/x" is in "/".
    last_slash(p).map(|i| &p[..i.max(1)])
}

fn directory(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, directory_value(c))
}

/// Where the last `/` of a path is (a byte search: `/` is ASCII, so it
/// never falls inside a UTF-8 sequence).
fn last_slash(p: &str) -> Option<usize> {
    p.bytes().rposition(|b| b == b'/')
}

/// `fd.filename` borrowed from the state.
pub(super) fn filename_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    let f = c.fd_entry()?;
    let p = file_path(f)?;
    if f.ty == FdType::Directory {
        return None;
    }
    Some(match last_slash(p) {
        Some(i) => &p[i + 1..],
        None => p,
    })
}

fn filename(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, filename_value(c))
}

fn entry<'a>(c: &'a Ctx<'_>) -> Option<&'a Fd> {
    c.fd_entry()
}

/// `fd.num` (the text extractor and filters' integer reader share it).
pub(super) fn num_value(c: &Ctx<'_>) -> Option<i64> {
    c.fd
}

fn num(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    let Some(fd) = num_value(c) else { return false };
    super::push_int(out, fd);
    true
}

/// `fd.name` borrowed from the event or the state. A name holding for this
/// event only (failed open or connect, or a descriptor the state does not
/// know) comes first.
pub(super) fn name_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    match c.fd_transient {
        Some(n) => Some(n),
        None => c.fd_entry().map(|f| f.name.as_str()),
    }
}

fn name(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, name_value(c))
}

/// `fd.type`.
pub(super) fn type_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    c.fd_entry().map(|f| f.ty.name())
}

fn ty(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, type_value(c))
}

/// `fd.typechar`.
pub(super) fn typechar_value<'a>(c: &Ctx<'a>) -> Option<&'a str> {
    c.fd_entry().map(|f| f.ty.typechar_str())
}

fn typechar(c: &Ctx<'_>, _: &str, out: &mut String) -> bool {
    super::push_some(out, typechar_value(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_ends_from_names() {
        let ep = |ip, port| Endpoint { ip, port };
        let cases = [
            (
                FdType::Ipv4,
                "10.0.0.1:40000->10.0.0.2:80",
                Some((Some(ep("10.0.0.1", 40000)), ep("10.0.0.2", 80))),
            ),
            (
                FdType::Ipv6,
                "2600:1f18::1:40251->2001:4860:4860::8888:53",
                Some((
                    Some(ep("2600:1f18::1", 40251)),
                    ep("2001:4860:4860::8888", 53),
                )),
            ),
            (
                FdType::Ipv4,
                "0.0.0.0:8080",
                Some((None, ep("0.0.0.0", 8080))),
            ),
            (FdType::Ipv6, ":::22", Some((None, ep("::", 22)))),
            (FdType::Ipv4, "", None),
            (FdType::Ipv4, "1.2.3.4:x->5.6.7.8:9", None),
            (FdType::File, "/etc/passwd", None),
            (FdType::Unix, "ffff->eeee /run/x.sock", None),
        ];
        for (ty, name, want) in cases {
            let f = Fd::new(ty, name);
            assert_eq!(endpoints(&f), want, "{name}");
        }
    }
}
