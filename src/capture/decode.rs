//! Decoding of the metadata blocks (MI, IL, UL, PL, FDL) into `Metadata`.
//!
//! Each function takes a block body (without header and trailer; padding
//! included) and returns what it holds or a static description of the fault,
//! which the reader turns into a positioned error.

use super::block::*;
use super::meta::*;

/// A fault in a metadata block body: what and where (offset into the body).
pub type Fault = (&'static str, usize);

const MAX_PATH: usize = 1024;
const MAX_ARGS: usize = 4096;
const MAX_CRED: usize = 256;

/// A little-endian cursor over a block body.
pub(crate) struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8], what: &'static str) -> Self {
        Cursor { b, pos: 0, what }
    }
    fn fault(&self) -> Fault {
        (self.what, self.pos)
    }
    pub(crate) fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        if self.remaining() < n {
            return Err(self.fault());
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, Fault> {
        Ok(self.arr::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, Fault> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, Fault> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, Fault> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn str16(&mut self, max: usize) -> Result<String, Fault> {
        let n = self.u16()? as usize;
        if n > max {
            return Err(self.fault());
        }
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }
    fn list16(&mut self, max: usize) -> Result<Vec<String>, Fault> {
        let n = self.u16()? as usize;
        if n > max {
            return Err(self.fault());
        }
        Ok(split_nul(self.bytes(n)?))
    }
    fn seek(&mut self, pos: usize) -> Result<(), Fault> {
        if pos > self.b.len() || pos < self.pos {
            return Err(self.fault());
        }
        self.pos = pos;
        Ok(())
    }
}

/// Splits NUL-separated strings, dropping one trailing empty piece.
pub fn split_nul(b: &[u8]) -> Vec<String> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Machine info: reads exactly the 180 bytes sysdig reads.
pub fn machine(body: &[u8]) -> Result<MachineInfo, Fault> {
    let mut c = Cursor::new(body, "machine info block");
    let num_cpus = c.u32()?;
    let memory_size_bytes = c.u64()?;
    let max_pid = c.u64()?;
    let hostname = cstr(c.bytes(128)?);
    c.bytes(32)?;
    Ok(MachineInfo {
        num_cpus,
        memory_size_bytes,
        max_pid,
        hostname,
    })
}

/// Interface list, v1 (no entry lengths, optional link speed) or v2.
pub fn interfaces(body: &[u8], v2: bool) -> Result<Vec<Interface>, Fault> {
    let mut c = Cursor::new(body, "interface list block");
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        let entry_end = if v2 {
            let n = c.u32()? as usize;
            Some(c.pos + n)
        } else {
            None
        };
        let ty = c.u16()?;
        let namelen = c.u16()? as usize;
        if namelen >= MAX_PATH {
            return Err(c.fault());
        }
        let iface = match ty {
            1 | 3 => {
                let addr = u32::from_le_bytes(c.arr()?);
                let netmask = u32::from_le_bytes(c.arr()?);
                let bcast = u32::from_le_bytes(c.arr()?);
                let linkspeed = if ty == 1 { c.u64()? } else { 0 };
                let name = String::from_utf8_lossy(c.bytes(namelen)?).into_owned();
                Interface::V4 {
                    name,
                    addr,
                    netmask,
                    bcast,
                    linkspeed,
                }
            }
            2 | 4 => {
                let addr = c.arr()?;
                let netmask = c.arr()?;
                let bcast = c.arr()?;
                let linkspeed = if ty == 2 { c.u64()? } else { 0 };
                let name = String::from_utf8_lossy(c.bytes(namelen)?).into_owned();
                Interface::V6 {
                    name,
                    addr,
                    netmask,
                    bcast,
                    linkspeed,
                }
            }
            _ => return Err(("interface list block (unknown interface type)", c.pos)),
        };
        out.push(iface);
        if let Some(end) = entry_end {
            c.seek(end)?;
        }
    }
    Ok(out)
}

/// User list, v1 or v2 (entry length including itself).
pub fn users(body: &[u8], v2: bool) -> Result<(Vec<User>, Vec<Group>), Fault> {
    let mut c = Cursor::new(body, "user list block");
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if v2 { c.u32()? as usize } else { 0 };
        let ty = c.u8()?;
        if ty == 0 {
            let uid = c.u32()?;
            let gid = c.u32()?;
            let name = c.str16(MAX_CRED - 1)?;
            let homedir = c.str16(MAX_CRED - 1)?;
            let shell = c.str16(MAX_CRED - 1)?;
            users.push(User {
                uid,
                gid,
                name,
                homedir,
                shell,
            });
        } else {
            let gid = c.u32()?;
            let name = c.str16(MAX_CRED - 1)?;
            groups.push(Group { gid, name });
        }
        if sub_len != 0 {
            c.seek(start + sub_len)?;
        }
    }
    Ok((users, groups))
}

/// Process list of layout `version` (1..=9).
pub fn threads(body: &[u8], version: u32) -> Result<Vec<ThreadInfo>, Fault> {
    let mut c = Cursor::new(body, "process list block");
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if version >= 9 { c.u32()? as usize } else { 0 };
        let mut t = ThreadInfo {
            vtid: -1,
            vpid: -1,
            loginuid: -1,
            ..Default::default()
        };
        t.tid = c.u64()?;
        t.pid = c.u64()?;
        t.ptid = c.u64()?;
        t.sid = if version >= 6 { c.u64()? } else { u64::MAX };
        t.vpgid = if version >= 8 { c.u64()? } else { u64::MAX };
        t.comm = c.str16(MAX_PATH)?;
        t.exe = c.str16(MAX_PATH)?;
        if version >= 7 {
            t.exepath = c.str16(MAX_PATH)?;
        }
        t.args = c.list16(MAX_ARGS)?;
        t.cwd = c.str16(MAX_PATH)?;
        t.fdlimit = c.u64()?;
        t.flags = c.u32()?;
        t.uid = c.u32()?;
        t.gid = c.u32()?;
        if version >= 2 {
            t.vmsize_kb = c.u32()?;
            t.vmrss_kb = c.u32()?;
            t.vmswap_kb = c.u32()?;
            t.pfmajor = c.u64()?;
            t.pfminor = c.u64()?;
            if version >= 3 {
                t.env = c.list16(MAX_ARGS)?;
            }
            if version >= 4 {
                t.vtid = c.u64()? as i64;
                t.vpid = c.u64()? as i64;
                t.cgroups = c.list16(MAX_ARGS)?;
                if version >= 5 {
                    t.root = c.str16(MAX_PATH)?;
                }
            }
        }
        if sub_len != 0 {
            let end = start + sub_len;
            if c.pos + 4 <= end {
                t.loginuid = c.u32()? as i32;
            }
            if c.pos < end {
                t.exe_writable = c.u8()? != 0;
            }
            c.seek(end)?;
        }
        out.push(t);
    }
    Ok(out)
}

/// File descriptor list of one thread, v1 or v2 (entry length including
/// itself). Returns the thread id and its descriptors.
pub fn fds(body: &[u8], v2: bool) -> Result<(u64, Vec<FdInfo>), Fault> {
    let mut c = Cursor::new(body, "fd list block");
    let tid = c.u64()?;
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if v2 { c.u32()? as usize } else { 0 };
        let fd = c.u64()? as i64;
        let ino = c.u64()?;
        let ty = c.u8()?;
        let kind = match ty {
            3 => FdKind::Ipv4Socket {
                sip: u32::from_le_bytes(c.arr()?),
                dip: u32::from_le_bytes(c.arr()?),
                sport: c.u16()?,
                dport: c.u16()?,
                l4proto: c.u8()?,
            },
            5 => FdKind::Ipv4ServerSocket {
                ip: u32::from_le_bytes(c.arr()?),
                port: c.u16()?,
                l4proto: c.u8()?,
            },
            4 => FdKind::Ipv6Socket {
                sip: c.arr()?,
                dip: c.arr()?,
                sport: c.u16()?,
                dport: c.u16()?,
                l4proto: c.u8()?,
            },
            6 => FdKind::Ipv6ServerSocket {
                ip: c.arr()?,
                port: c.u16()?,
                l4proto: c.u8()?,
            },
            8 => FdKind::UnixSocket {
                source: c.u64()?,
                dest: c.u64()?,
                name: c.str16(MAX_PATH)?,
            },
            16 => {
                let open_flags = c.u32()?;
                let name = c.str16(MAX_PATH)?;
                // The device was added later; only entries with a length
                // that leaves room for it carry it.
                let dev = if sub_len != 0 && c.pos + 4 <= start + sub_len {
                    c.u32()?
                } else {
                    0
                };
                FdKind::File {
                    open_flags,
                    name,
                    dev,
                }
            }
            1 | 2 | 7 | 9..=15 => FdKind::Named {
                fd_type: ty,
                name: c.str16(MAX_PATH)?,
            },
            _ if sub_len != 0 => {
                // A kind this reader does not know: skip it by its length.
                c.seek(start + sub_len)?;
                continue;
            }
            _ => return Err(("fd list block (unknown fd type)", c.pos)),
        };
        if sub_len != 0 {
            c.seek(start + sub_len)?;
        }
        out.push(FdInfo { fd, ino, kind });
    }
    Ok((tid, out))
}

/// The process list layout version of a block type, if it is one.
pub fn pl_version(block_type: u32) -> Option<u32> {
    Some(match block_type {
        PL_V1 | PL_V1_OLD => 1,
        PL_V2 | PL_V2_OLD => 2,
        PL_V3 | PL_V3_OLD => 3,
        PL_V4 => 4,
        PL_V5 => 5,
        PL_V6 => 6,
        PL_V7 => 7,
        PL_V8 => 8,
        PL_V9 => 9,
        _ => return None,
    })
}
