//! Writing scap captures readable by sysdig: section header 1.2, machine
//! info, interface, user and process lists, fd lists, then events.

use std::io::{BufWriter, Write};

use super::block::*;
use super::error::{Error, ErrorKind};
use super::meta::*;
use crate::event::view::HEADER_LEN as EVENT_HEADER;

/// Longest path string sysdig accepts in metadata.
const MAX_PATH: usize = 1024;
/// Longest argument, environment or cgroup list sysdig accepts.
const MAX_ARGS: usize = 4096;
/// Longest user, group, home or shell name sysdig accepts (exclusive).
const MAX_CRED: usize = 255;
/// Largest event block a reader without large-block support takes.
const SMALL_BLOCK_MAX: usize = 65536;

/// A capture being written.
pub struct Writer<W: Write> {
    out: BufWriter<W>,
    offset: u64,
    body: Vec<u8>,
}

fn put_str(b: &mut Vec<u8>, s: &str, max: usize) {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    b.extend_from_slice(&(n as u16).to_le_bytes());
    b.extend_from_slice(&s.as_bytes()[..n]);
}

fn put_list(b: &mut Vec<u8>, items: &[String], max: usize) {
    let mut joined = Vec::new();
    for it in items {
        joined.extend_from_slice(it.as_bytes());
        joined.push(0);
    }
    joined.truncate(max);
    b.extend_from_slice(&(joined.len() as u16).to_le_bytes());
    b.extend_from_slice(&joined);
}

/// Appends an entry whose leading u32 length includes itself.
fn entry_with_len(b: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = b.len();
    b.extend_from_slice(&[0; 4]);
    fill(b);
    let len = (b.len() - start) as u32;
    b[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

fn machine(b: &mut Vec<u8>, m: &MachineInfo) {
    b.extend_from_slice(&m.num_cpus.to_le_bytes());
    b.extend_from_slice(&m.memory_size_bytes.to_le_bytes());
    b.extend_from_slice(&m.max_pid.to_le_bytes());
    let mut host = [0u8; 128];
    let n = m.hostname.len().min(127);
    host[..n].copy_from_slice(&m.hostname.as_bytes()[..n]);
    b.extend_from_slice(&host);
    b.extend_from_slice(&[0; 32]);
}

fn interface(b: &mut Vec<u8>, i: &Interface) {
    let start = b.len();
    b.extend_from_slice(&[0; 4]);
    let name = match i {
        Interface::V4 {
            name,
            addr,
            netmask,
            bcast,
            linkspeed,
        } => {
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&(name.len().min(MAX_PATH - 1) as u16).to_le_bytes());
            for v in [addr, netmask, bcast] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(&linkspeed.to_le_bytes());
            name
        }
        Interface::V6 {
            name,
            addr,
            netmask,
            bcast,
            linkspeed,
        } => {
            b.extend_from_slice(&2u16.to_le_bytes());
            b.extend_from_slice(&(name.len().min(MAX_PATH - 1) as u16).to_le_bytes());
            for v in [addr, netmask, bcast] {
                b.extend_from_slice(v);
            }
            b.extend_from_slice(&linkspeed.to_le_bytes());
            name
        }
    };
    b.extend_from_slice(&name.as_bytes()[..name.len().min(MAX_PATH - 1)]);
    // The interface entry length excludes itself.
    let len = (b.len() - start - 4) as u32;
    b[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

fn thread(b: &mut Vec<u8>, t: &ThreadInfo) {
    entry_with_len(b, |b| {
        for v in [t.tid, t.pid, t.ptid, t.sid, t.vpgid] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        put_str(b, &t.comm, MAX_PATH);
        put_str(b, &t.exe, MAX_PATH);
        put_str(b, &t.exepath, MAX_PATH);
        put_list(b, &t.args, MAX_ARGS);
        put_str(b, &t.cwd, MAX_PATH);
        b.extend_from_slice(&t.fdlimit.to_le_bytes());
        for v in [t.flags, t.uid, t.gid, t.vmsize_kb, t.vmrss_kb, t.vmswap_kb] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&t.pfmajor.to_le_bytes());
        b.extend_from_slice(&t.pfminor.to_le_bytes());
        put_list(b, &t.env, MAX_ARGS);
        b.extend_from_slice(&t.vtid.to_le_bytes());
        b.extend_from_slice(&t.vpid.to_le_bytes());
        put_list(b, &t.cgroups, MAX_ARGS);
        put_str(b, &t.root, MAX_PATH);
        b.extend_from_slice(&t.loginuid.to_le_bytes());
        b.push(t.exe_writable as u8);
    });
}

fn fd(b: &mut Vec<u8>, f: &FdInfo) {
    entry_with_len(b, |b| {
        b.extend_from_slice(&f.fd.to_le_bytes());
        b.extend_from_slice(&f.ino.to_le_bytes());
        match &f.kind {
            FdKind::File {
                name,
                open_flags,
                dev,
            } => {
                b.push(16);
                b.extend_from_slice(&open_flags.to_le_bytes());
                put_str(b, name, MAX_PATH);
                b.extend_from_slice(&dev.to_le_bytes());
            }
            FdKind::Ipv4Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                b.push(3);
                b.extend_from_slice(&sip.to_le_bytes());
                b.extend_from_slice(&dip.to_le_bytes());
                b.extend_from_slice(&sport.to_le_bytes());
                b.extend_from_slice(&dport.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv4ServerSocket { ip, port, l4proto } => {
                b.push(5);
                b.extend_from_slice(&ip.to_le_bytes());
                b.extend_from_slice(&port.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv6Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                b.push(4);
                b.extend_from_slice(sip);
                b.extend_from_slice(dip);
                b.extend_from_slice(&sport.to_le_bytes());
                b.extend_from_slice(&dport.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::Ipv6ServerSocket { ip, port, l4proto } => {
                b.push(6);
                b.extend_from_slice(ip);
                b.extend_from_slice(&port.to_le_bytes());
                b.push(*l4proto);
            }
            FdKind::UnixSocket { source, dest, name } => {
                b.push(8);
                b.extend_from_slice(&source.to_le_bytes());
                b.extend_from_slice(&dest.to_le_bytes());
                put_str(b, name, MAX_PATH);
            }
            FdKind::Named { fd_type, name } => {
                b.push(*fd_type);
                put_str(b, name, MAX_PATH);
            }
        }
    });
}

impl<W: Write> Writer<W> {
    /// Starts a capture on `out` and writes its metadata: section header,
    /// MI, IL_V2, UL_V2, PL_V9 and one FDL_V2 per thread with descriptors
    /// (threads missing from the process list get none, as readers need it).
    pub fn new(out: W, meta: &Metadata) -> Result<Self, Error> {
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 16, out),
            offset: 0,
            body: Vec::with_capacity(1 << 12),
        };
        w.body.extend_from_slice(&SHB_MAGIC.to_le_bytes());
        w.body.extend_from_slice(&1u16.to_le_bytes());
        w.body.extend_from_slice(&2u16.to_le_bytes());
        w.body.extend_from_slice(&u64::MAX.to_le_bytes());
        w.block(SHB)?;
        machine(&mut w.body, &meta.machine);
        w.block(MI)?;
        for i in &meta.interfaces {
            interface(&mut w.body, i);
        }
        w.block(IL_V2)?;
        for u in &meta.users {
            entry_with_len(&mut w.body, |b| {
                b.push(0);
                b.extend_from_slice(&u.uid.to_le_bytes());
                b.extend_from_slice(&u.gid.to_le_bytes());
                put_str(b, &u.name, MAX_CRED);
                put_str(b, &u.homedir, MAX_CRED);
                put_str(b, &u.shell, MAX_CRED);
            });
        }
        for g in &meta.groups {
            entry_with_len(&mut w.body, |b| {
                b.push(1);
                b.extend_from_slice(&g.gid.to_le_bytes());
                put_str(b, &g.name, MAX_CRED);
            });
        }
        w.block(UL_V2)?;
        for t in &meta.threads {
            thread(&mut w.body, t);
        }
        w.block(PL_V9)?;
        for (tid, fds) in &meta.fds {
            if fds.is_empty() || !meta.threads.iter().any(|t| t.tid == *tid) {
                continue;
            }
            w.body.extend_from_slice(&tid.to_le_bytes());
            for f in fds {
                fd(&mut w.body, f);
            }
            w.block(FDL_V2)?;
        }
        Ok(w)
    }

    fn err(&self, kind: ErrorKind) -> Error {
        Error::new(kind, "capture output", self.offset)
    }

    /// Writes the block held in `self.body` and clears it.
    fn block(&mut self, bt: u32) -> Result<(), Error> {
        let total = total_len(self.body.len());
        let pad = total - HEADER_LEN - TRAILER_LEN - self.body.len();
        let len = (total as u32).to_le_bytes();
        let res = (|| {
            self.out.write_all(&bt.to_le_bytes())?;
            self.out.write_all(&len)?;
            self.out.write_all(&self.body)?;
            self.out.write_all(&[0u8; 3][..pad])?;
            self.out.write_all(&len)
        })();
        res.map_err(|e| self.err(ErrorKind::Io(e)))?;
        self.offset += total as u64;
        self.body.clear();
        Ok(())
    }

    /// Writes one event (its full scap bytes: header, lengths, values)
    /// captured on `cpu`.
    pub fn write_event(&mut self, cpu: u16, event: &[u8]) -> Result<(), Error> {
        if event.len() < EVENT_HEADER {
            return Err(self.err(ErrorKind::Invalid("event shorter than its header")));
        }
        let len = u32::from_le_bytes([event[16], event[17], event[18], event[19]]) as usize;
        if len < EVENT_HEADER || len > event.len() {
            return Err(self.err(ErrorKind::Invalid("event length field out of range")));
        }
        self.body.extend_from_slice(&cpu.to_le_bytes());
        self.body.extend_from_slice(&event[..len]);
        let bt = if total_len(self.body.len()) > SMALL_BLOCK_MAX {
            EV_V2_LARGE
        } else {
            EV_V2
        };
        self.block(bt)
    }

    /// Flushes the capture and returns the output.
    pub fn finish(self) -> Result<W, Error> {
        let offset = self.offset;
        self.out
            .into_inner()
            .map_err(|e| Error::new(ErrorKind::Io(e.into_error()), "capture output", offset))
    }
}
