//! Reader and writer tests on crafted bytes: each block type and layout
//! version, each error, and a write-then-read round trip.

use super::block::*;
use super::error::ErrorKind;
use super::meta::*;
use super::{Error, Reader, Writer};
use crate::event::table::id;
use crate::event::view::build;

fn blk(bt: u32, body: &[u8]) -> Vec<u8> {
    let total = total_len(body.len());
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(&bt.to_le_bytes());
    v.extend_from_slice(&(total as u32).to_le_bytes());
    v.extend_from_slice(body);
    v.resize(total - 4, 0);
    v.extend_from_slice(&(total as u32).to_le_bytes());
    v
}

fn shb_body(major: u16, minor: u16) -> Vec<u8> {
    let mut b = SHB_MAGIC.to_le_bytes().to_vec();
    b.extend_from_slice(&major.to_le_bytes());
    b.extend_from_slice(&minor.to_le_bytes());
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    b
}

fn shb() -> Vec<u8> {
    blk(SHB, &shb_body(1, 2))
}

fn ev_v2(cpu: u16, event: &[u8]) -> Vec<u8> {
    let mut b = cpu.to_le_bytes().to_vec();
    b.extend_from_slice(event);
    blk(EV_V2, &b)
}

/// An old-layout (22-byte header) event block.
fn ev_old(bt: u32, ty: u16, tid: u64, params: &[&[u8]]) -> Vec<u8> {
    let mut b = 1u16.to_le_bytes().to_vec();
    if bt == EVF {
        b.extend_from_slice(&1u32.to_le_bytes());
    }
    let len = 22 + params.len() * 2 + params.iter().map(|p| p.len()).sum::<usize>();
    b.extend_from_slice(&5u64.to_le_bytes());
    b.extend_from_slice(&tid.to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b.extend_from_slice(&ty.to_le_bytes());
    for p in params {
        b.extend_from_slice(&(p.len() as u16).to_le_bytes());
    }
    for p in params {
        b.extend_from_slice(p);
    }
    blk(bt, &b)
}

fn str16(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u16).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

/// A process list entry of layout `v` for thread `tid`.
fn pl_entry(v: u32, tid: u64) -> Vec<u8> {
    let mut b = Vec::new();
    for x in [tid, tid, 1] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    if v >= 6 {
        b.extend_from_slice(&7u64.to_le_bytes());
    }
    if v >= 8 {
        b.extend_from_slice(&8u64.to_le_bytes());
    }
    str16(&mut b, "cat");
    str16(&mut b, "/bin/cat");
    if v >= 7 {
        str16(&mut b, "/usr/bin/cat");
    }
    str16(&mut b, "a\0b\0");
    str16(&mut b, "/tmp");
    b.extend_from_slice(&1024u64.to_le_bytes());
    for x in [0u32, 1000, 1000] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    if v >= 2 {
        for x in [10u32, 20, 0] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes());
        if v >= 3 {
            str16(&mut b, "HOME=/\0");
        }
        if v >= 4 {
            b.extend_from_slice(&3i64.to_le_bytes());
            b.extend_from_slice(&3i64.to_le_bytes());
            str16(&mut b, "cpu=/\0");
            if v >= 5 {
                str16(&mut b, "/");
            }
        }
    }
    if v >= 9 {
        b.extend_from_slice(&1000i32.to_le_bytes());
        b.push(1);
        let len = (b.len() + 4) as u32;
        let mut e = len.to_le_bytes().to_vec();
        e.extend_from_slice(&b);
        return e;
    }
    b
}

/// Type, thread, cpu and parameter count of each event read.
type Seen = Vec<(u16, u64, u16, usize)>;

/// One error case: name, bytes, expected kind, expected offset.
type ErrorCase = (&'static str, Vec<u8>, fn(&ErrorKind) -> bool, u64);

fn read(bytes: &[u8]) -> Result<(Metadata, Seen), Error> {
    let mut r = Reader::new("t.scap", bytes)?;
    let mut evs = Vec::new();
    while let Some(e) = r.next_event()? {
        evs.push((e.event_type(), e.tid(), e.cpu(), e.nparams()));
    }
    Ok((r.metadata().clone(), evs))
}

#[test]
fn process_list_versions() {
    let codes = [
        PL_V1, PL_V2, PL_V3, PL_V4, PL_V5, PL_V6, PL_V7, PL_V8, PL_V9,
    ];
    for (i, bt) in codes.iter().enumerate() {
        let v = i as u32 + 1;
        let mut f = shb();
        let mut body = pl_entry(v, 10);
        body.extend_from_slice(&pl_entry(v, 11));
        f.extend_from_slice(&blk(*bt, &body));
        let (meta, _) = read(&f).unwrap_or_else(|e| panic!("PL v{v}: {e}"));
        assert_eq!(meta.threads.len(), 2, "PL v{v}");
        let t = &meta.threads[1];
        assert_eq!(
            (t.tid, t.comm.as_str(), t.exe.as_str()),
            (11, "cat", "/bin/cat")
        );
        assert_eq!(t.args, ["a", "b"], "PL v{v}");
        assert_eq!(t.cwd, "/tmp");
        assert_eq!(t.vmsize_kb, if v >= 2 { 10 } else { 0 });
        assert_eq!(t.env.len(), usize::from(v >= 3));
        assert_eq!(t.vpid, if v >= 4 { 3 } else { -1 });
        assert_eq!(t.root, if v >= 5 { "/" } else { "" });
        assert_eq!(t.exepath, if v >= 7 { "/usr/bin/cat" } else { "" });
        assert_eq!(t.loginuid, if v >= 9 { 1000 } else { -1 });
        assert_eq!(t.exe_writable, v >= 9);
    }
}

#[test]
fn old_metadata_layouts() {
    let mut f = shb();
    // MI
    let mut mi = 4u32.to_le_bytes().to_vec();
    mi.extend_from_slice(&[0; 16]);
    let mut host = [0u8; 128];
    host[..4].copy_from_slice(b"host");
    mi.extend_from_slice(&host);
    mi.extend_from_slice(&[0; 32]);
    f.extend_from_slice(&blk(MI, &mi));
    // IL v1: an IPv4 entry without link speed, an IPv6 one with it.
    let mut il = Vec::new();
    il.extend_from_slice(&3u16.to_le_bytes());
    il.extend_from_slice(&2u16.to_le_bytes());
    il.extend_from_slice(&[127, 0, 0, 1, 255, 0, 0, 0, 0, 0, 0, 0]);
    il.extend_from_slice(b"lo");
    il.extend_from_slice(&2u16.to_le_bytes());
    il.extend_from_slice(&3u16.to_le_bytes());
    il.extend_from_slice(&[0; 48]);
    il.extend_from_slice(&100u64.to_le_bytes());
    il.extend_from_slice(b"eth");
    f.extend_from_slice(&blk(IL, &il));
    // UL v1: a user and a group.
    let mut ul = vec![0u8];
    ul.extend_from_slice(&0u32.to_le_bytes());
    ul.extend_from_slice(&0u32.to_le_bytes());
    str16(&mut ul, "root");
    str16(&mut ul, "/root");
    str16(&mut ul, "/bin/sh");
    ul.push(1);
    ul.extend_from_slice(&5u32.to_le_bytes());
    str16(&mut ul, "tty");
    f.extend_from_slice(&blk(UL, &ul));
    f.extend_from_slice(&blk(PL_V1, &pl_entry(1, 10)));
    // FDL v1: a file (v2 type without device) and a unix socket.
    let mut fdl = 10u64.to_le_bytes().to_vec();
    fdl.extend_from_slice(&3i64.to_le_bytes());
    fdl.extend_from_slice(&9u64.to_le_bytes());
    fdl.push(16);
    fdl.extend_from_slice(&1u32.to_le_bytes());
    str16(&mut fdl, "/etc/passwd");
    fdl.extend_from_slice(&4i64.to_le_bytes());
    fdl.extend_from_slice(&9u64.to_le_bytes());
    fdl.push(8);
    fdl.extend_from_slice(&[0; 16]);
    str16(&mut fdl, "/s");
    f.extend_from_slice(&blk(FDL, &fdl));
    // An unknown metadata block is skipped.
    f.extend_from_slice(&blk(0x7777, &[1, 2, 3]));
    let (meta, evs) = read(&f).unwrap();
    assert!(evs.is_empty());
    assert_eq!(
        (meta.machine.num_cpus, meta.machine.hostname.as_str()),
        (4, "host")
    );
    assert_eq!(meta.interfaces.len(), 2);
    assert!(
        matches!(&meta.interfaces[0], Interface::V4 { name, linkspeed: 0, .. } if name == "lo")
    );
    assert!(
        matches!(&meta.interfaces[1], Interface::V6 { name, linkspeed: 100, .. } if name == "eth")
    );
    assert_eq!(meta.users[0].shell, "/bin/sh");
    assert_eq!(meta.groups[0].name, "tty");
    let fds = &meta.fds[0].1;
    assert!(matches!(&fds[0].kind, FdKind::File { name, dev: 0, .. } if name == "/etc/passwd"));
    assert!(matches!(&fds[1].kind, FdKind::UnixSocket { name, .. } if name == "/s"));
}

#[test]
fn event_block_layouts() {
    let close = build(1, 7, id::SYSCALL_CLOSE_E, &[&3i64.to_le_bytes()]);
    let mut f = shb();
    f.extend_from_slice(&ev_v2(2, &close));
    // EVF_V2 carries flags; LARGE variants have the same layout.
    let mut evf = 3u16.to_le_bytes().to_vec();
    evf.extend_from_slice(&1u32.to_le_bytes());
    evf.extend_from_slice(&close);
    f.extend_from_slice(&blk(EVF_V2, &evf));
    let mut large = 4u16.to_le_bytes().to_vec();
    large.extend_from_slice(&close);
    f.extend_from_slice(&blk(EV_V2_LARGE, &large));
    // Old 22-byte headers: nparams is recomputed from the lengths.
    f.extend_from_slice(&ev_old(
        EV,
        id::SYSCALL_OPEN_X,
        8,
        &[&[0; 8], b"/x\0", &[0; 4]],
    ));
    f.extend_from_slice(&ev_old(EVF, id::SYSCALL_CLOSE_X, 9, &[&[0; 8]]));
    f.extend_from_slice(&ev_old(EV, id::SYSCALL_OPEN_E, 9, &[]));
    // Types beyond the schema are skipped.
    f.extend_from_slice(&ev_v2(0, &build(1, 7, 354, &[])));
    // A second section follows the first.
    f.extend_from_slice(&shb());
    f.extend_from_slice(&blk(PL_V9, &pl_entry(9, 12)));
    f.extend_from_slice(&ev_v2(5, &close));
    let mut r = Reader::new("t.scap", &f[..]).unwrap();
    let mut got = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        got.push((e.event_type(), e.tid(), e.cpu(), e.nparams(), e.flags()));
    }
    assert_eq!(
        got,
        [
            (id::SYSCALL_CLOSE_E, 7, 2, 1, 0),
            (id::SYSCALL_CLOSE_E, 7, 3, 1, 1),
            (id::SYSCALL_CLOSE_E, 7, 4, 1, 0),
            (id::SYSCALL_OPEN_X, 8, 1, 3, 0),
            (id::SYSCALL_CLOSE_X, 9, 1, 1, 1),
            (id::SYSCALL_OPEN_E, 9, 1, 0, 0),
            (id::SYSCALL_CLOSE_E, 7, 5, 1, 0),
        ]
    );
    assert_eq!((r.skipped(), r.sections()), (1, 2));
    assert_eq!(r.metadata().threads.len(), 1);
}

/// A source that hands out at most `step` bytes per read.
struct Dribble<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn blocks_across_window_slides_and_larger_than_the_window() {
    // Enough events that the read-ahead window slides many times, old
    // headers widened wherever they fall, and a skipped metadata block
    // larger than the window in the middle.
    let mut f = shb();
    let mut want = Vec::new();
    for i in 0..40_000u64 {
        if i == 20_000 {
            f.extend_from_slice(&blk(0x7777, &vec![0xab; 700 << 10]));
        }
        if i % 3 == 0 {
            f.extend_from_slice(&ev_old(EV, id::SYSCALL_CLOSE_X, i, &[&[0; 8]]));
            want.push((id::SYSCALL_CLOSE_X, i, 1, 1));
        } else {
            let name = format!("/tmp/{}\0", "x".repeat(i as usize % 300));
            let e = build(1, i, id::SYSCALL_OPEN_E, &[name.as_bytes()]);
            f.extend_from_slice(&ev_v2((i % 7) as u16, &e));
            want.push((id::SYSCALL_OPEN_E, i, (i % 7) as u16, 1));
        }
    }
    assert!(f.len() > 4 << 20);
    assert_eq!(read(&f).unwrap().1, want);
    for step in [1, 4093, 1 << 20] {
        let src = Dribble { bytes: &f, step };
        let mut r = Reader::new("t.scap", src).unwrap();
        let mut got = Vec::new();
        while let Some(e) = r.next_event().unwrap() {
            got.push((e.event_type(), e.tid(), e.cpu(), e.nparams()));
        }
        assert_eq!(got, want, "{step} bytes per read");
    }
    // Cut inside the large block: a truncation error at its offset.
    let at = f
        .windows(4)
        .position(|w| w == 0x7777u32.to_le_bytes())
        .unwrap();
    let err = read(&f[..at + 300_000]).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Truncated(_)), "{err}");
    assert_eq!(err.offset, at as u64);
}

#[test]
fn section_header_options_are_skipped() {
    let mut body = shb_body(1, 0);
    body.extend_from_slice(&[
        1, 0, 5, 0, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0, 0, 0, 0,
    ]);
    let mut f = blk(SHB, &body);
    f.extend_from_slice(&ev_v2(0, &build(1, 7, id::SYSCALL_CLOSE_E, &[&[0; 8]])));
    assert_eq!(read(&f).unwrap().1.len(), 1);
}

#[test]
fn errors_name_file_offset_and_cause() {
    let good_ev = ev_v2(0, &build(1, 7, id::SYSCALL_CLOSE_E, &[&[0; 8]]));
    let mut bad_len_ev = good_ev.clone();
    // Parameter length beyond the event.
    bad_len_ev[10 + 26] = 0xff;
    let mut trailer = blk(MI, &[0; 180]);
    let n = trailer.len();
    trailer[n - 1] = 9;
    let cat = |parts: &[&[u8]]| parts.concat();
    let cases: Vec<ErrorCase> = vec![
        ("empty", vec![], |k| matches!(k, ErrorKind::Truncated(_)), 0),
        (
            "not scap",
            blk(MI, &[0; 180]),
            |k| matches!(k, ErrorKind::NotScap),
            0,
        ),
        (
            "magic",
            blk(SHB, &[0; 16]),
            |k| matches!(k, ErrorKind::BadMagic(0)),
            8,
        ),
        (
            "version",
            blk(SHB, &shb_body(2, 0)),
            |k| matches!(k, ErrorKind::UnsupportedVersion(2, 0)),
            12,
        ),
        (
            "short header",
            cat(&[&shb(), &[1, 2, 0, 0]]),
            |k| matches!(k, ErrorKind::Truncated("block header")),
            28,
        ),
        (
            "block length",
            cat(&[&shb(), &blk(MI, &[])[..4], &[5, 0, 0, 0]]),
            |k| matches!(k, ErrorKind::BadBlockLength(5)),
            28,
        ),
        (
            "truncated body",
            cat(&[&shb(), &good_ev[..20]]),
            |k| matches!(k, ErrorKind::Truncated("event block")),
            28,
        ),
        (
            "trailer",
            cat(&[&shb(), &trailer]),
            |k| matches!(k, ErrorKind::TrailerMismatch { .. }),
            28 + 188,
        ),
        (
            "metadata",
            cat(&[&shb(), &blk(MI, &[0; 20])]),
            |k| matches!(k, ErrorKind::BadMetadata(_)),
            28 + 8 + 20,
        ),
        (
            "fd list thread",
            cat(&[&shb(), &blk(FDL_V2, &9u64.to_le_bytes())]),
            |k| matches!(k, ErrorKind::BadMetadata(_)),
            36,
        ),
        (
            "event lengths",
            cat(&[&shb(), &bad_len_ev]),
            |k| matches!(k, ErrorKind::BadEvent(_)),
            36,
        ),
        (
            "old event",
            cat(&[&shb(), &{
                let mut b = ev_old(EV, id::SYSCALL_CLOSE_X, 1, &[&[0; 8]]);
                b[10 + 22] = 3;
                b
            }]),
            |k| matches!(k, ErrorKind::BadEvent(_)),
            36,
        ),
    ];
    for (what, bytes, kind, offset) in cases {
        let err = read(&bytes).expect_err(what);
        assert!(kind(&err.kind), "{what}: {err}");
        assert_eq!(err.offset, offset, "{what}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("t.scap: offset {offset}: ")),
            "{err}"
        );
    }
}

#[test]
fn write_then_read_round_trip() {
    let meta = Metadata {
        machine: MachineInfo {
            num_cpus: 2,
            memory_size_bytes: 1 << 30,
            max_pid: 4_194_304,
            hostname: "box".into(),
        },
        interfaces: vec![
            Interface::V4 {
                name: "lo".into(),
                addr: 0x0100_007f,
                netmask: 0xff,
                bcast: 0,
                linkspeed: 0,
            },
            Interface::V6 {
                name: "eth0".into(),
                addr: [1; 16],
                netmask: [2; 16],
                bcast: [0; 16],
                linkspeed: 1000,
            },
        ],
        users: vec![User {
            uid: 0,
            gid: 0,
            name: "root".into(),
            homedir: "/root".into(),
            shell: "/bin/sh".into(),
        }],
        groups: vec![Group {
            gid: 0,
            name: "root".into(),
        }],
        threads: vec![ThreadInfo {
            tid: 42,
            pid: 42,
            ptid: 1,
            comm: "sh".into(),
            exe: "/bin/sh".into(),
            args: vec!["-c".into(), "true".into()],
            cwd: "/".into(),
            env: vec!["A=1".into()],
            cgroups: vec!["cpu=/".into()],
            vtid: 42,
            vpid: 42,
            loginuid: -1,
            ..Default::default()
        }],
        fds: vec![(
            42,
            vec![
                FdInfo {
                    fd: 0,
                    ino: 1,
                    kind: FdKind::File {
                        name: "/dev/null".into(),
                        open_flags: 1,
                        dev: 3,
                    },
                },
                FdInfo {
                    fd: 3,
                    ino: 2,
                    kind: FdKind::Ipv4Socket {
                        sip: 1,
                        dip: 2,
                        sport: 3,
                        dport: 4,
                        l4proto: 2,
                    },
                },
                FdInfo {
                    fd: 4,
                    ino: 2,
                    kind: FdKind::Ipv6ServerSocket {
                        ip: [9; 16],
                        port: 80,
                        l4proto: 2,
                    },
                },
                FdInfo {
                    fd: 5,
                    ino: 0,
                    kind: FdKind::Named {
                        fd_type: 7,
                        name: "pipe:[1]".into(),
                    },
                },
            ],
        )],
    };
    let events = [
        build(1, 42, id::SYSCALL_CLOSE_E, &[&3i64.to_le_bytes()]),
        build(2, 42, id::CONTAINER_JSON_2_E, &[&vec![b'x'; 70_000]]),
    ];
    let mut w = Writer::new(Vec::new(), &meta).unwrap();
    for (i, e) in events.iter().enumerate() {
        w.write_event(i as u16, e).unwrap();
    }
    assert!(w.write_event(0, &[0; 10]).is_err());
    let bytes = w.finish().unwrap();
    let mut r = Reader::new("w", &bytes[..]).unwrap();
    assert_eq!(r.metadata(), &meta);
    let mut got = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        got.push((e.cpu(), e.raw().to_vec()));
    }
    assert_eq!(got, [(0, events[0].clone()), (1, events[1].clone())]);
    // The large event went into a large block.
    let second = 28 + 192;
    assert!(bytes
        .windows(4)
        .skip(second)
        .any(|w| w == EV_V2_LARGE.to_le_bytes()));
}

#[test]
fn no_input_panics() {
    // Every prefix and a byte flip at every position of a valid capture
    // gives events or an error, never a panic.
    let mut w = Writer::new(Vec::new(), &Metadata::default()).unwrap();
    w.write_event(
        0,
        &build(1, 7, id::SYSCALL_OPEN_X, &[&[0; 8], b"/a\0", &[0; 4]]),
    )
    .unwrap();
    let good = w.finish().unwrap();
    for n in 0..good.len() {
        let _ = read(&good[..n]);
        let mut b = good.clone();
        b[n] ^= 0xa5;
        let _ = read(&b);
    }
}
