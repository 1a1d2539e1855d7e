//! The few system calls saker makes directly: opening the capture device, its
//! ioctls, mmap/munmap, and a handful of libc queries (`sysconf`,
//! `getifaddrs`). Everything else in the crate reaches the kernel through the
//! safe types here; the ring code talks to a [`Device`] so tests can swap in a
//! fake backed by ordinary memory.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::ptr::NonNull;

use crate::abi;

/// Protection of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prot {
    /// `PROT_READ`
    Read,
    /// `PROT_READ | PROT_WRITE`
    ReadWrite,
}

impl Prot {
    fn bits(self) -> libc::c_int {
        match self {
            Prot::Read => libc::PROT_READ,
            Prot::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
        }
    }
}

/// A shared memory mapping, unmapped on drop.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Mmap is a plain owned region of address space; nothing in it is
// tied to the thread that created it.
unsafe impl Send for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` at `offset`, shared, with protection `prot`.
    pub fn map_fd(fd: RawFd, offset: u64, len: usize, prot: Prot) -> io::Result<Mmap> {
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mmap offset too large"))?;
        // SAFETY: a fresh mapping chosen by the kernel (no MAP_FIXED) cannot
        // alias any Rust object; the result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot.bits(),
                libc::MAP_SHARED,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        NonNull::new(p.cast::<u8>())
            .map(|ptr| Mmap { ptr, len })
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))
    }

    /// Start of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never, for a successful map).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maps `first_len` bytes of `fd` at offset 0 followed directly by
    /// `data_len` bytes of `fd` at `first_len`, mapped twice back to back:
    /// the layout the module gives a producer mapping. Used by test fakes.
    #[cfg(test)]
    pub(crate) fn map_double(
        fd: RawFd,
        first_len: usize,
        data_len: usize,
        prot: Prot,
    ) -> io::Result<Mmap> {
        let total = first_len + 2 * data_len;
        // SAFETY: reserves fresh address space chosen by the kernel.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = Mmap {
            ptr: NonNull::new(base.cast::<u8>()).ok_or_else(|| io::Error::other("null"))?,
            len: total,
        };
        let pieces = [(0, 0, first_len), (first_len, first_len, data_len)];
        let pieces = pieces
            .into_iter()
            .chain([(first_len + data_len, first_len, data_len)]);
        for (at, off, len) in pieces {
            // SAFETY: MAP_FIXED replaces pages inside the reservation owned by
            // `map`, which nothing else references yet.
            let p = unsafe {
                libc::mmap(
                    map.as_ptr().add(at).cast(),
                    len,
                    prot.bits(),
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    fd,
                    off as libc::off_t,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(map)
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: ptr/len describe a mapping this value owns; every borrow of
        // its memory is tied to the lifetime of this value.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// An anonymous memory file (`memfd_create`), for test fakes of the device.
#[cfg(test)]
pub(crate) fn memfd(name: &str, len: u64) -> io::Result<File> {
    use std::ffi::CString;
    use std::os::fd::FromRawFd;
    let cname = CString::new(name).map_err(|_| io::Error::other("nul in name"))?;
    // SAFETY: cname is a valid C string; the returned fd is checked.
    let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a freshly created descriptor nobody else owns.
    let file = unsafe { File::from_raw_fd(fd) };
    file.set_len(len)?;
    Ok(file)
}

/// The operations the ring code needs from the capture device. [`SakerDevice`]
/// is the real `/dev/saker`; tests implement it over ordinary memory.
pub trait Device {
    /// `SAKER_IOC_GET_INFO`
    fn get_info(&self) -> io::Result<abi::saker_info>;
    /// `SAKER_IOC_ENABLE`
    fn enable(&self) -> io::Result<()>;
    /// `SAKER_IOC_DISABLE`
    fn disable(&self) -> io::Result<()>;
    /// `SAKER_IOC_SET_INTEREST`
    fn set_interest(&self, interest: &abi::saker_interest) -> io::Result<()>;
    /// `SAKER_IOC_SET_SNAPLEN`
    fn set_snaplen(&self, snaplen: u32) -> io::Result<()>;
    /// `SAKER_IOC_GET_STATS`: fills `out` (one entry per CPU) and returns the
    /// number of CPUs the module reports.
    fn get_stats(&self, out: &mut [abi::saker_cpu_stats]) -> io::Result<u32>;
    /// `SAKER_IOC_GET_SYSCALL_MAP`
    fn get_syscall_map(&self) -> io::Result<Box<abi::saker_syscall_map>>;
    /// Maps `len` bytes at the device offset `offset`.
    fn map(&self, offset: u64, len: usize, prot: Prot) -> io::Result<Mmap>;
}

/// The capture device, `/dev/saker`.
#[derive(Debug)]
pub struct SakerDevice {
    file: File,
    req: abi::IoctlRequests,
}

impl SakerDevice {
    /// Default path of the device node.
    pub const PATH: &'static str = "/dev/saker";

    /// Opens the device read-write.
    pub fn open(path: &Path) -> io::Result<SakerDevice> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        Ok(SakerDevice {
            file,
            req: abi::ioctl_requests(),
        })
    }

    fn ioctl(&self, req: u64, arg: *mut libc::c_void) -> io::Result<libc::c_int> {
        // SAFETY: every caller passes a request whose _IOC size matches the
        // object `arg` points to (or a plain value for _IOW of an integer),
        // and that object outlives the call.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), req as libc::Ioctl, arg) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }
}

impl Device for SakerDevice {
    fn get_info(&self) -> io::Result<abi::saker_info> {
        let mut info = abi::saker_info::default();
        self.ioctl(
            self.req.get_info,
            (&mut info as *mut abi::saker_info).cast(),
        )?;
        Ok(info)
    }

    fn enable(&self) -> io::Result<()> {
        self.ioctl(self.req.enable, std::ptr::null_mut()).map(drop)
    }

    fn disable(&self) -> io::Result<()> {
        self.ioctl(self.req.disable, std::ptr::null_mut()).map(drop)
    }

    fn set_interest(&self, interest: &abi::saker_interest) -> io::Result<()> {
        let mut copy = *interest;
        self.ioctl(
            self.req.set_interest,
            (&mut copy as *mut abi::saker_interest).cast(),
        )
        .map(drop)
    }

    fn set_snaplen(&self, snaplen: u32) -> io::Result<()> {
        let mut v = snaplen;
        self.ioctl(self.req.set_snaplen, (&mut v as *mut u32).cast())
            .map(drop)
    }

    fn get_stats(&self, out: &mut [abi::saker_cpu_stats]) -> io::Result<u32> {
        let mut req = abi::saker_stats_req {
            stats: out.as_mut_ptr() as u64,
            ncpus: u32::try_from(out.len()).unwrap_or(u32::MAX),
            pad: 0,
        };
        self.ioctl(
            self.req.get_stats,
            (&mut req as *mut abi::saker_stats_req).cast(),
        )?;
        Ok(req.ncpus)
    }

    fn get_syscall_map(&self) -> io::Result<Box<abi::saker_syscall_map>> {
        let mut map = Box::<abi::saker_syscall_map>::default();
        self.ioctl(
            self.req.get_syscall_map,
            (&mut *map as *mut abi::saker_syscall_map).cast(),
        )?;
        Ok(map)
    }

    fn map(&self, offset: u64, len: usize, prot: Prot) -> io::Result<Mmap> {
        Mmap::map_fd(self.file.as_raw_fd(), offset, len, prot)
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(v).unwrap_or(4096)
}

/// Number of online CPUs (`_SC_NPROCESSORS_ONLN`).
pub fn online_cpus() -> u32 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(v).unwrap_or(1).max(1)
}

/// The address family of an interface address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfAddr {
    /// IPv4: address, netmask, broadcast, each in network byte order.
    V4 {
        /// Address.
        addr: [u8; 4],
        /// Netmask.
        netmask: [u8; 4],
        /// Broadcast (zero if none).
        bcast: [u8; 4],
    },
    /// IPv6: address and netmask.
    V6 {
        /// Address.
        addr: [u8; 16],
        /// Netmask.
        netmask: [u8; 16],
    },
}

/// One interface address from `getifaddrs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddr {
    /// Interface name.
    pub name: String,
    /// Address.
    pub addr: IfAddr,
}

fn sockaddr_bytes(sa: *const libc::sockaddr, family: libc::c_int) -> Option<Vec<u8>> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: getifaddrs returns valid sockaddr pointers (or null, checked);
    // sa_family is readable for every family.
    let fam = unsafe { (*sa).sa_family } as libc::c_int;
    if fam != family {
        return None;
    }
    if family == libc::AF_INET {
        // SAFETY: the family says this is a sockaddr_in.
        let sin = unsafe { &*(sa as *const libc::sockaddr_in) };
        Some(sin.sin_addr.s_addr.to_ne_bytes().to_vec())
    } else {
        // SAFETY: the family says this is a sockaddr_in6.
        let sin6 = unsafe { &*(sa as *const libc::sockaddr_in6) };
        Some(sin6.sin6_addr.s6_addr.to_vec())
    }
}

/// The IPv4 and IPv6 addresses of all interfaces (`getifaddrs`).
pub fn interface_addrs() -> io::Result<Vec<InterfaceAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur is a node of the list getifaddrs returned, alive until
        // freeifaddrs below.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr is non-null (checked above) and valid.
        let fam = unsafe { (*ifa.ifa_addr).sa_family } as libc::c_int;
        let addr = match fam {
            libc::AF_INET => {
                let get = |sa| {
                    sockaddr_bytes(sa, libc::AF_INET)
                        .and_then(|v| <[u8; 4]>::try_from(v).ok())
                        .unwrap_or([0; 4])
                };
                IfAddr::V4 {
                    addr: get(ifa.ifa_addr),
                    netmask: get(ifa.ifa_netmask),
                    bcast: if ifa.ifa_flags & libc::IFF_BROADCAST as libc::c_uint != 0 {
                        get(ifa.ifa_ifu)
                    } else {
                        [0; 4]
                    },
                }
            }
            libc::AF_INET6 => {
                let get = |sa| {
                    sockaddr_bytes(sa, libc::AF_INET6)
                        .and_then(|v| <[u8; 16]>::try_from(v).ok())
                        .unwrap_or([0; 16])
                };
                IfAddr::V6 {
                    addr: get(ifa.ifa_addr),
                    netmask: get(ifa.ifa_netmask),
                }
            }
            _ => continue,
        };
        out.push(InterfaceAddr { name, addr });
    }
    // SAFETY: head came from getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn double_mapping_aliases_the_data() {
        let page = page_size();
        let data = 4 * page;
        let f = memfd("t", (page + data) as u64).unwrap();
        let m = Mmap::map_double(f.as_raw_fd(), page, data, Prot::ReadWrite).unwrap();
        assert_eq!(m.len(), page + 2 * data);
        // SAFETY: offsets are inside the mapping.
        unsafe {
            *m.as_ptr().add(page + 5) = 0xab;
            assert_eq!(*m.as_ptr().add(page + data + 5), 0xab);
            *m.as_ptr().add(page + 2 * data - 1) = 0xcd;
            assert_eq!(*m.as_ptr().add(page + data - 1), 0xcd);
        }
    }

    #[test]
    fn opening_a_missing_device_is_not_found() {
        let e = SakerDevice::open(Path::new("/nonexistent/saker")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn loopback_is_listed() {
        let addrs = interface_addrs().unwrap();
        // Every Linux network namespace has `lo`; it may lack addresses in a
        // minimal sandbox, so check only what is there.
        for a in &addrs {
            assert!(!a.name.is_empty());
            if let IfAddr::V4 { addr, .. } = a.addr {
                if a.name == "lo" {
                    assert_eq!(addr[0], 127);
                }
            }
        }
        assert!(page_size() >= 4096);
        assert!(online_cpus() >= 1);
    }
}
