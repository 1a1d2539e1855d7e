//! The mappings of one CPU's ring: the consumer page (read-write, holds the
//! tail) and the producer page followed by the data area mapped twice
//! (read-only, holds the head and the drop counters). Unmapped on drop.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Error, ErrorKind, Result};
use crate::abi;
use crate::sys::{Device, Mmap, Prot};

/// Byte offsets of the fields of `struct saker_ring_producer`.
mod prod {
    pub const HEAD: usize = 0;
    pub const N_EVTS: usize = 8;
    pub const N_DROPS_FULL: usize = 16;
    pub const N_DROPS_FAULT: usize = 24;
    pub const N_DROPS_REENTRY: usize = 32;
    pub const N_DROPS_TOOLARGE: usize = 40;
}

const _: () = assert!(std::mem::offset_of!(abi::saker_ring_producer, head) == prod::HEAD);
const _: () = assert!(std::mem::offset_of!(abi::saker_ring_producer, n_evts) == prod::N_EVTS);
const _: () =
    assert!(std::mem::offset_of!(abi::saker_ring_producer, n_drops_full) == prod::N_DROPS_FULL);
const _: () =
    assert!(std::mem::offset_of!(abi::saker_ring_producer, n_drops_fault) == prod::N_DROPS_FAULT);
const _: () = assert!(
    std::mem::offset_of!(abi::saker_ring_producer, n_drops_reentry) == prod::N_DROPS_REENTRY
);
const _: () = assert!(
    std::mem::offset_of!(abi::saker_ring_producer, n_drops_toolarge) == prod::N_DROPS_TOOLARGE
);
const _: () = assert!(std::mem::offset_of!(abi::saker_ring_consumer, tail) == 0);

/// Events stored and dropped on one CPU, by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Events stored in the ring.
    pub events: u64,
    /// Dropped: the ring was full.
    pub drops_full: u64,
    /// Stored, but with a parameter left empty or cut short: a read of user
    /// memory faulted (counted in `events` too; not a drop despite the name).
    pub drops_fault: u64,
    /// Dropped: the probe re-entered on this CPU.
    pub drops_reentry: u64,
    /// Dropped: record larger than allowed.
    pub drops_toolarge: u64,
}

impl CpuCounters {
    /// Events lost, whatever the cause (`drops_fault` counts stored events).
    pub fn drops(&self) -> u64 {
        self.drops_full + self.drops_reentry + self.drops_toolarge
    }
}

impl From<abi::saker_cpu_stats> for CpuCounters {
    fn from(s: abi::saker_cpu_stats) -> CpuCounters {
        CpuCounters {
            events: s.n_evts,
            drops_full: s.n_drops_full,
            drops_fault: s.n_drops_fault,
            drops_reentry: s.n_drops_reentry,
            drops_toolarge: s.n_drops_toolarge,
        }
    }
}

/// One CPU's ring, mapped.
#[derive(Debug)]
pub struct RingMap {
    cpu: u32,
    consumer: Mmap,
    producer: Mmap,
    page: usize,
    ring_bytes: u64,
}

impl RingMap {
    /// Maps the rings of `cpu` as `info` describes them. `info` must have
    /// been checked (page size at least 4096, ring_bytes a power of two).
    pub fn new<D: Device>(dev: &D, cpu: u32, info: &abi::saker_info) -> Result<RingMap> {
        let page = info.page_size as usize;
        let ring_bytes = info.ring_bytes;
        let data = usize::try_from(ring_bytes)
            .ok()
            .filter(|d| d.checked_mul(2).and_then(|x| x.checked_add(page)).is_some())
            .ok_or_else(|| Error::new(ErrorKind::BadInfo(format!("ring_bytes {ring_bytes}"))))?;
        let off = |kind: u32| ((cpu as u64) << 40) | ((kind as u64) << 32);
        let consumer = dev
            .map(off(abi::SAKER_MMAP_CONSUMER), page, Prot::ReadWrite)
            .map_err(|e| Error::io("mapping the consumer page", e).with_cpu(cpu))?;
        let producer = dev
            .map(off(abi::SAKER_MMAP_PRODUCER), page + 2 * data, Prot::Read)
            .map_err(|e| Error::io("mapping the producer page and data", e).with_cpu(cpu))?;
        Ok(RingMap {
            cpu,
            consumer,
            producer,
            page,
            ring_bytes,
        })
    }

    /// The CPU index.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// Data bytes of the ring.
    pub fn ring_bytes(&self) -> u64 {
        self.ring_bytes
    }

    fn producer_u64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: the producer mapping is page-aligned and at least one page
        // long, `off` is a field offset of saker_ring_producer (8-aligned,
        // below 48), and the reference lives no longer than the mapping.
        unsafe { &*self.producer.as_ptr().add(off).cast::<AtomicU64>() }
    }

    fn tail_cell(&self) -> &AtomicU64 {
        // SAFETY: the consumer mapping is page-aligned, one page long, and
        // starts with saker_ring_consumer.tail; it lives as long as self.
        unsafe { &*self.consumer.as_ptr().cast::<AtomicU64>() }
    }

    /// The producer position. Pairs with the producer's
    /// `smp_store_release(&prod->head, head + size)`: every record below the
    /// returned head is fully written and visible.
    pub fn load_head(&self) -> u64 {
        self.producer_u64(prod::HEAD).load(Ordering::Acquire)
    }

    /// The consumer position as last stored (only this process writes it).
    pub fn load_tail(&self) -> u64 {
        self.tail_cell().load(Ordering::Relaxed)
    }

    /// Publishes the consumer position. Pairs with the producer's
    /// `smp_load_acquire(&cons->tail)`: once it sees `tail`, it may reuse the
    /// bytes below it, so every read of them must come before this store.
    pub fn store_tail(&self, tail: u64) {
        self.tail_cell().store(tail, Ordering::Release);
    }

    /// The counters of the producer page. Relaxed loads: the producer writes
    /// them with `WRITE_ONCE` and they may lag.
    pub fn counters(&self) -> CpuCounters {
        let r = |off| self.producer_u64(off).load(Ordering::Relaxed);
        CpuCounters {
            events: r(prod::N_EVTS),
            drops_full: r(prod::N_DROPS_FULL),
            drops_fault: r(prod::N_DROPS_FAULT),
            drops_reentry: r(prod::N_DROPS_REENTRY),
            drops_toolarge: r(prod::N_DROPS_TOOLARGE),
        }
    }

    /// `len` bytes of the data area starting at free-running position `pos`.
    /// Returns `None` if `len` exceeds the ring (the double mapping makes any
    /// `len <= ring_bytes` contiguous).
    ///
    /// The caller must own `[pos, pos + len)`: published by the producer
    /// (below a head it loaded) and not yet released with [`store_tail`].
    ///
    /// [`store_tail`]: RingMap::store_tail
    pub(crate) fn data(&self, pos: u64, len: usize) -> Option<&[u8]> {
        if len as u64 > self.ring_bytes {
            return None;
        }
        let start = self.page + (pos & (self.ring_bytes - 1)) as usize;
        // start + len <= page + 2 * ring_bytes, the mapping's length.
        debug_assert!(start + len <= self.producer.len());
        // SAFETY: the range lies inside the producer mapping (offset below
        // page + ring_bytes, len at most ring_bytes). The producer does not
        // write bytes between tail and head (ABI ordering contract), and the
        // slice's lifetime is tied to &self, which the readers hold no longer
        // than until they store a tail past these bytes.
        Some(unsafe { std::slice::from_raw_parts(self.producer.as_ptr().add(start), len) })
    }
}
