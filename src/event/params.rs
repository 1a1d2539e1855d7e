//! Typed decoding of parameter bytes by their `ParamType`.

use super::schema::ParamType;

/// `PPM_AF_UNIX`.
pub const AF_UNIX: u8 = 1;
/// `PPM_AF_INET`.
pub const AF_INET: u8 = 2;
/// `PPM_AF_INET6`.
pub const AF_INET6: u8 = 10;

/// A socket address (`PT_SOCKADDR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockAddr<'a> {
    /// IPv4 address (network order bytes) and port.
    Inet([u8; 4], u16),
    /// IPv6 address and port.
    Inet6([u8; 16], u16),
    /// Unix socket path (without the NUL).
    Unix(&'a [u8]),
    /// Another family, by its `PPM_AF_*` code.
    Other(u8),
}

/// A connection tuple (`PT_SOCKTUPLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockTuple<'a> {
    /// IPv4 source and destination.
    Inet {
        /// Source address.
        sip: [u8; 4],
        /// Source port.
        sport: u16,
        /// Destination address.
        dip: [u8; 4],
        /// Destination port.
        dport: u16,
    },
    /// IPv6 source and destination.
    Inet6 {
        /// Source address.
        sip: [u8; 16],
        /// Source port.
        sport: u16,
        /// Destination address.
        dip: [u8; 16],
        /// Destination port.
        dport: u16,
    },
    /// Unix socket endpoints and path.
    Unix {
        /// Source endpoint.
        source: u64,
        /// Destination endpoint.
        dest: u64,
        /// Path (without the NUL).
        path: &'a [u8],
    },
    /// Another family.
    Other(u8),
}

/// A decoded parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Signed integers, errnos, fds, pids.
    Int(i64),
    /// Unsigned integers, flags, modes, ids.
    Uint(u64),
    /// A string (`CHARBUF`, `FSPATH`, ...), without its trailing NUL.
    Str(&'a [u8]),
    /// Raw bytes (`BYTEBUF`, `CHARBUFARRAY`, ...).
    Bytes(&'a [u8]),
    /// A socket address.
    SockAddr(SockAddr<'a>),
    /// A connection tuple.
    SockTuple(SockTuple<'a>),
    /// A dynamic parameter: sub-type index and its bytes.
    Dyn(u8, &'a [u8]),
    /// An empty parameter (length 0).
    Empty,
}

/// Little-endian unsigned integer of 1, 2, 4 or 8 bytes.
pub fn uint(b: &[u8]) -> Option<u64> {
    Some(match b.len() {
        1 => b[0] as u64,
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
        8 => u64::from_le_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// Little-endian signed integer of 1, 2, 4 or 8 bytes, sign-extended.
pub fn int(b: &[u8]) -> Option<i64> {
    Some(match b.len() {
        1 => b[0] as i8 as i64,
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
        8 => i64::from_le_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A string parameter without its trailing NUL (and anything after a NUL).
pub fn str_bytes(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

fn arr<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at + N)?.try_into().ok()
}

fn port(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(arr(b, at)?))
}

/// Decodes a socket address.
pub fn sockaddr(b: &[u8]) -> Option<SockAddr<'_>> {
    let fam = *b.first()?;
    Some(match fam {
        AF_INET => SockAddr::Inet(arr(b, 1)?, port(b, 5)?),
        AF_INET6 => SockAddr::Inet6(arr(b, 1)?, port(b, 17)?),
        AF_UNIX => SockAddr::Unix(str_bytes(&b[1..])),
        f => SockAddr::Other(f),
    })
}

/// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
pub fn v4_mapped(a: &[u8; 16]) -> Option<[u8; 4]> {
    (a[..10].iter().all(|&c| c == 0) && a[10] == 0xff && a[11] == 0xff)
        .then(|| [a[12], a[13], a[14], a[15]])
}

/// Decodes a connection tuple. An IPv6 tuple whose endpoints are both
/// IPv4-mapped is decoded as IPv4, as sysdig shows it.
pub fn socktuple(b: &[u8]) -> Option<SockTuple<'_>> {
    match socktuple_raw(b)? {
        SockTuple::Inet6 {
            sip,
            sport,
            dip,
            dport,
        } => match (v4_mapped(&sip), v4_mapped(&dip)) {
            (Some(s), Some(d)) => Some(SockTuple::Inet {
                sip: s,
                sport,
                dip: d,
                dport,
            }),
            _ => Some(SockTuple::Inet6 {
                sip,
                sport,
                dip,
                dport,
            }),
        },
        t => Some(t),
    }
}

/// Decodes a connection tuple as stored.
pub fn socktuple_raw(b: &[u8]) -> Option<SockTuple<'_>> {
    let fam = *b.first()?;
    Some(match fam {
        AF_INET => SockTuple::Inet {
            sip: arr(b, 1)?,
            sport: port(b, 5)?,
            dip: arr(b, 7)?,
            dport: port(b, 11)?,
        },
        AF_INET6 => SockTuple::Inet6 {
            sip: arr(b, 1)?,
            sport: port(b, 17)?,
            dip: arr(b, 19)?,
            dport: port(b, 35)?,
        },
        AF_UNIX => SockTuple::Unix {
            source: u64::from_le_bytes(arr(b, 1)?),
            dest: u64::from_le_bytes(arr(b, 9)?),
            path: str_bytes(b.get(17..)?),
        },
        f => SockTuple::Other(f),
    })
}

/// Decodes parameter bytes of type `ty`; `None` if they do not fit the type.
pub fn decode(ty: ParamType, b: &[u8]) -> Option<Value<'_>> {
    use ParamType as P;
    if b.is_empty() {
        return Some(Value::Empty);
    }
    Some(match ty {
        P::Int16 | P::Int32 | P::Int64 | P::Errno | P::Fd | P::Pid => Value::Int(int(b)?),
        P::Uint8
        | P::Uint16
        | P::Uint32
        | P::Uint64
        | P::Flags8
        | P::Flags16
        | P::Flags32
        | P::Mode
        | P::Uid
        | P::Gid
        | P::Sigset
        | P::Sigtype
        | P::Syscallid
        | P::Reltime => Value::Uint(uint(b)?),
        P::Charbuf | P::Fspath | P::Fsrelpath => Value::Str(str_bytes(b)),
        P::Bytebuf | P::Charbufarray | P::CharbufPairArray | P::Fdlist => Value::Bytes(b),
        P::Sockaddr => Value::SockAddr(sockaddr(b)?),
        P::Socktuple => Value::SockTuple(socktuple(b)?),
        P::Dyn => Value::Dyn(b[0], &b[1..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_by_width() {
        let cases: &[(&[u8], Option<i64>, Option<u64>)] = &[
            (&[0xff], Some(-1), Some(255)),
            (&[0xfe, 0xff], Some(-2), Some(0xfffe)),
            (&[1, 0, 0, 0], Some(1), Some(1)),
            (&[0xff; 8], Some(-1), Some(u64::MAX)),
            (&[1, 2, 3], None, None),
        ];
        for (b, i, u) in cases {
            assert_eq!(int(b), *i);
            assert_eq!(uint(b), *u);
        }
    }

    #[test]
    fn socket_addresses() {
        let mut v4 = vec![AF_INET, 127, 0, 0, 1];
        v4.extend_from_slice(&80u16.to_le_bytes());
        assert_eq!(sockaddr(&v4), Some(SockAddr::Inet([127, 0, 0, 1], 80)));
        assert_eq!(sockaddr(b"\x01/tmp/s\0"), Some(SockAddr::Unix(b"/tmp/s")));
        assert_eq!(sockaddr(&[AF_INET, 1]), None);
        let mut t = vec![AF_INET, 10, 0, 0, 1, 1, 0, 10, 0, 0, 2, 2, 0];
        assert_eq!(
            socktuple(&t),
            Some(SockTuple::Inet {
                sip: [10, 0, 0, 1],
                sport: 1,
                dip: [10, 0, 0, 2],
                dport: 2
            })
        );
        t.truncate(12);
        assert_eq!(socktuple(&t), None);
    }

    #[test]
    fn decode_by_type() {
        assert_eq!(
            decode(ParamType::Fd, &(-100i64).to_le_bytes()),
            Some(Value::Int(-100))
        );
        assert_eq!(
            decode(ParamType::Fspath, b"/etc\0"),
            Some(Value::Str(b"/etc"))
        );
        assert_eq!(decode(ParamType::Uint32, b""), Some(Value::Empty));
        assert_eq!(decode(ParamType::Dyn, &[1, 5]), Some(Value::Dyn(1, &[5])));
    }
}
