//! A fake capture device for tests: each CPU's ring lives in memfds, mapped
//! exactly as the module maps them, and a producer written after the ABI's
//! ordering contract plays the kernel's part.

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};

use super::record_size;
use crate::abi;
use crate::sys::{self, Device, Mmap, Prot};

/// The kernel's side of one CPU's ring.
pub(crate) struct FakeCpu {
    cons_file: File,
    prod_file: File,
    /// The consumer page, as the kernel sees it.
    cons: Mmap,
    /// Producer page and double-mapped data, writable (the kernel's view).
    prod: Mmap,
    page: usize,
    ring: u64,
}

impl FakeCpu {
    fn new(page: usize, ring: u64) -> io::Result<FakeCpu> {
        let cons_file = sys::memfd("cons", page as u64)?;
        let prod_file = sys::memfd("prod", page as u64 + ring)?;
        let cons = Mmap::map_fd(cons_file.as_raw_fd(), 0, page, Prot::ReadWrite)?;
        let prod = Mmap::map_double(prod_file.as_raw_fd(), page, ring as usize, Prot::ReadWrite)?;
        Ok(FakeCpu {
            cons_file,
            prod_file,
            cons,
            prod,
            page,
            ring,
        })
    }

    fn prod_u64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: off is a field offset of saker_ring_producer inside the
        // page-aligned producer page, alive as long as self.
        unsafe { &*self.prod.as_ptr().add(off).cast::<AtomicU64>() }
    }

    /// The consumer's tail, as the kernel reads it.
    pub(crate) fn tail(&self) -> u64 {
        // SAFETY: the consumer page starts with the u64 tail.
        let t = unsafe { &*self.cons.as_ptr().cast::<AtomicU64>() };
        t.load(Ordering::Acquire)
    }

    /// The producer position.
    pub(crate) fn head(&self) -> u64 {
        self.prod_u64(0).load(Ordering::Relaxed)
    }

    /// Sets both positions (a ring that has already run for a while).
    pub(crate) fn set_positions(&self, pos: u64) {
        self.prod_u64(0).store(pos, Ordering::Release);
        // SAFETY: the consumer page starts with the u64 tail.
        let t = unsafe { &*self.cons.as_ptr().cast::<AtomicU64>() };
        t.store(pos, Ordering::Release);
    }

    fn bump(&self, off: usize) {
        let c = self.prod_u64(off);
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Stores a record as the module does; counts a full-ring drop and
    /// returns false if it does not fit.
    pub(crate) fn push(&self, rec: &[u8]) -> bool {
        let tail = self.tail();
        let head = self.head();
        let size = record_size(rec.len() as u64);
        if head - tail + size > self.ring {
            self.bump(16);
            return false;
        }
        self.write_at(head, rec);
        self.prod_u64(0).store(head + size, Ordering::Release);
        self.bump(8);
        true
    }

    /// Writes `bytes` at the head and advances it by `advance`, whatever
    /// they hold: for corrupt-ring tests.
    pub(crate) fn push_raw(&self, bytes: &[u8], advance: u64) {
        let head = self.head();
        self.write_at(head, bytes);
        self.prod_u64(0).store(head + advance, Ordering::Release);
    }

    /// Counts a drop of another cause (offset of its counter).
    pub(crate) fn count_drop(&self, counter_off: usize) {
        self.bump(counter_off);
    }

    fn write_at(&self, pos: u64, bytes: &[u8]) {
        assert!(bytes.len() as u64 <= self.ring);
        let start = self.page + (pos & (self.ring - 1)) as usize;
        // SAFETY: start + len stays within page + 2 * ring, the mapping's
        // length; the double mapping makes the range contiguous.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.prod.as_ptr().add(start),
                bytes.len(),
            )
        };
    }
}

/// A device with `nr_cpus` fake rings.
pub(crate) struct FakeDevice {
    pub(crate) info: abi::saker_info,
    pub(crate) cpus: Vec<FakeCpu>,
    pub(crate) enabled: Cell<bool>,
    pub(crate) interest: Cell<Option<abi::saker_interest>>,
    pub(crate) snaplen: Cell<u32>,
    pub(crate) map: Box<abi::saker_syscall_map>,
}

impl FakeDevice {
    /// A device of `nr_cpus` rings of `ring` bytes each.
    pub(crate) fn new(nr_cpus: u32, ring: u64) -> FakeDevice {
        let page = sys::page_size();
        let cpus = (0..nr_cpus)
            .map(|_| FakeCpu::new(page, ring).expect("memfd rings"))
            .collect();
        FakeDevice {
            info: abi::saker_info {
                abi_version: abi::SAKER_ABI_VERSION,
                nr_cpus,
                ring_bytes: ring,
                page_size: page as u32,
                snaplen: 80,
                cpus_online: (1 << nr_cpus) - 1,
            },
            cpus,
            enabled: Cell::new(false),
            interest: Cell::new(None),
            snaplen: Cell::new(80),
            map: Box::default(),
        }
    }
}

impl std::fmt::Debug for FakeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeDevice({} cpus)", self.cpus.len())
    }
}

impl Device for FakeDevice {
    fn get_info(&self) -> io::Result<abi::saker_info> {
        Ok(self.info)
    }
    fn enable(&self) -> io::Result<()> {
        self.enabled.set(true);
        Ok(())
    }
    fn disable(&self) -> io::Result<()> {
        self.enabled.set(false);
        Ok(())
    }
    fn set_interest(&self, interest: &abi::saker_interest) -> io::Result<()> {
        self.interest.set(Some(*interest));
        Ok(())
    }
    fn set_snaplen(&self, snaplen: u32) -> io::Result<()> {
        self.snaplen.set(snaplen);
        Ok(())
    }
    fn get_stats(&self, out: &mut [abi::saker_cpu_stats]) -> io::Result<u32> {
        for (o, c) in out.iter_mut().zip(&self.cpus) {
            let r = |off| c.prod_u64(off).load(Ordering::Relaxed);
            *o = abi::saker_cpu_stats {
                n_evts: r(8),
                n_drops_full: r(16),
                n_drops_fault: r(24),
                n_drops_reentry: r(32),
                n_drops_toolarge: r(40),
            };
        }
        Ok(self.cpus.len() as u32)
    }
    fn get_syscall_map(&self) -> io::Result<Box<abi::saker_syscall_map>> {
        Ok(self.map.clone())
    }
    fn map(&self, offset: u64, len: usize, prot: Prot) -> io::Result<Mmap> {
        let cpu = (offset >> 40) as usize;
        let kind = ((offset >> 32) & 0xff) as u32;
        let inval = || io::Error::from_raw_os_error(libc::EINVAL);
        let c = self.cpus.get(cpu).ok_or_else(inval)?;
        if offset & 0xffff_ffff != 0 {
            return Err(inval());
        }
        match kind {
            abi::SAKER_MMAP_CONSUMER if len == c.page => {
                Mmap::map_fd(c.cons_file.as_raw_fd(), 0, len, prot)
            }
            abi::SAKER_MMAP_PRODUCER if len == c.page + 2 * c.ring as usize => {
                if prot != Prot::Read {
                    return Err(io::Error::from_raw_os_error(libc::EPERM));
                }
                Mmap::map_double(c.prod_file.as_raw_fd(), c.page, c.ring as usize, prot)
            }
            _ => Err(inval()),
        }
    }
}

/// A scap event of type `ty` with u16 parameter lengths.
pub(crate) fn event(ts: u64, tid: u64, ty: u16, params: &[&[u8]]) -> Vec<u8> {
    let len = 26 + 2 * params.len() + params.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&tid.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&(params.len() as u32).to_le_bytes());
    for p in params {
        v.extend_from_slice(&(p.len() as u16).to_le_bytes());
    }
    for p in params {
        v.extend_from_slice(p);
    }
    v
}

/// An event of `len` bytes (at least 28) with one parameter filled with
/// `fill`.
pub(crate) fn event_of_len(ts: u64, len: usize, fill: u8) -> Vec<u8> {
    event(ts, 7, 8, &[&vec![fill; len - 28]])
}
