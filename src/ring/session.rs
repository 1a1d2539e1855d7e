//! A capture session on the device: checks the ABI, maps every CPU's ring,
//! and drives the module (interest set, snaplen, enable/disable, statistics).

use std::io;
use std::path::Path;
use std::time::Duration;

use super::interest::Interest;
use super::mapping::{CpuCounters, RingMap};
use super::merge::Merger;
use super::reader::CpuReader;
use super::{Error, ErrorKind, Result};
use crate::abi;
use crate::sys::{Device, SakerDevice};

/// Most CPUs the daemon will map (the ABI encodes the CPU in 16 bits).
const MAX_CPUS: u32 = 1 << 16;

/// The device, its info and the mapped rings.
#[derive(Debug)]
pub struct Session<D: Device> {
    merger: Merger,
    info: abi::saker_info,
    dev: D,
}

/// Opens the device node at `path`, turning "not there" and "busy" into
/// errors that say what to do.
pub fn open_device(path: &Path) -> Result<SakerDevice> {
    SakerDevice::open(path).map_err(|e| {
        let path = path.to_path_buf();
        match e.kind() {
            io::ErrorKind::NotFound => Error::new(ErrorKind::DeviceMissing { path }),
            _ if e.raw_os_error() == Some(libc::EBUSY) => {
                Error::new(ErrorKind::DeviceBusy { path })
            }
            _ => Error::io("opening the capture device", e),
        }
    })
}

/// Checks what GET_INFO returned.
fn check_info(info: &abi::saker_info) -> Result<()> {
    if info.abi_version != abi::SAKER_ABI_VERSION {
        return Err(Error::new(ErrorKind::AbiVersion {
            found: info.abi_version,
            expected: abi::SAKER_ABI_VERSION,
        }));
    }
    let bad = |m: String| Err(Error::new(ErrorKind::BadInfo(m)));
    if info.nr_cpus == 0 || info.nr_cpus > MAX_CPUS {
        return bad(format!("nr_cpus {}", info.nr_cpus));
    }
    if !info.ring_bytes.is_power_of_two() || info.ring_bytes < 4096 {
        return bad(format!(
            "ring_bytes {} is not a power of two",
            info.ring_bytes
        ));
    }
    if !info.page_size.is_power_of_two() || info.page_size < 4096 {
        return bad(format!("page_size {}", info.page_size));
    }
    Ok(())
}

impl<D: Device> Session<D> {
    /// Checks the ABI version and maps the rings of every CPU.
    pub fn new(dev: D) -> Result<Session<D>> {
        let info = dev
            .get_info()
            .map_err(|e| Error::io("reading device info (GET_INFO)", e))?;
        check_info(&info)?;
        let mut readers = Vec::with_capacity(info.nr_cpus as usize);
        for cpu in 0..info.nr_cpus {
            readers.push(CpuReader::new(RingMap::new(&dev, cpu, &info)?));
        }
        Ok(Session {
            merger: Merger::new(readers),
            info,
            dev,
        })
    }

    /// What the module reported at open.
    pub fn info(&self) -> &abi::saker_info {
        &self.info
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.dev
    }

    /// The merged reader of all rings.
    pub fn merger(&mut self) -> &mut Merger {
        &mut self.merger
    }

    /// What each native syscall number produces.
    pub fn syscall_map(&self) -> Result<Box<abi::saker_syscall_map>> {
        self.dev
            .get_syscall_map()
            .map_err(|e| Error::io("reading the syscall map (GET_SYSCALL_MAP)", e))
    }

    /// Tells the module which syscalls and sources to capture.
    pub fn set_interest(&self, interest: &Interest) -> Result<()> {
        self.dev
            .set_interest(interest.as_abi())
            .map_err(|e| Error::io("setting the interest set (SET_INTEREST)", e))
    }

    /// Sets how many bytes of I/O buffers are captured.
    pub fn set_snaplen(&self, snaplen: u32) -> Result<()> {
        self.dev
            .set_snaplen(snaplen)
            .map_err(|e| Error::io("setting the snaplen (SET_SNAPLEN)", e))
    }

    /// Starts capture.
    pub fn enable(&self) -> Result<()> {
        self.dev
            .enable()
            .map_err(|e| Error::io("enabling capture", e))
    }

    /// Stops capture; records already in the rings stay readable.
    pub fn disable(&self) -> Result<()> {
        self.dev
            .disable()
            .map_err(|e| Error::io("disabling capture", e))
    }

    /// Per-CPU counters from the module (GET_STATS), in CPU order.
    pub fn stats(&self) -> Result<Vec<CpuCounters>> {
        let mut buf = vec![abi::saker_cpu_stats::default(); self.info.nr_cpus as usize];
        let n = self
            .dev
            .get_stats(&mut buf)
            .map_err(|e| Error::io("reading statistics (GET_STATS)", e))?;
        buf.truncate(n as usize);
        Ok(buf.into_iter().map(CpuCounters::from).collect())
    }
}

/// Paces the polls of the rings. A poll that found at least a batch of bytes
/// waiting is followed by the next at once; one that found less is followed
/// by a sleep, longer each time (doubling from `min` up to `max`), so a
/// trickle of events is read in batches instead of one wakeup each. Each
/// wakeup costs the traced machine a context switch and a few syscalls of the
/// consumer's own, so this keeps the consumer's share of the CPU small; `max`
/// stays far below the time a ring takes to fill at any plausible rate
/// (8 MiB at 400 MB/s is 20 ms).
#[derive(Debug, Clone)]
pub struct Backoff {
    cur: Duration,
    min: Duration,
    max: Duration,
    batch: u64,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(20),
            64 << 10,
        )
    }
}

impl Backoff {
    /// A pacer sleeping from `min` doubling up to `max` while fewer than
    /// `batch` bytes are waiting at a poll.
    pub fn new(min: Duration, max: Duration, batch: u64) -> Backoff {
        Backoff {
            cur: min,
            min,
            max,
            batch,
        }
    }

    /// How long the next sleep lasts.
    pub fn current(&self) -> Duration {
        self.cur
    }

    /// Whether a poll that found `waiting` bytes is followed by a sleep.
    pub fn would_sleep(&self, waiting: u64) -> bool {
        waiting < self.batch
    }

    /// Called after each poll with the bytes it found waiting: sleeps unless
    /// a batch was waiting.
    pub fn pace(&mut self, waiting: u64) {
        if !self.would_sleep(waiting) {
            self.cur = self.min;
            return;
        }
        std::thread::sleep(self.cur);
        self.cur = (self.cur * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeDevice;
    use super::*;

    #[test]
    fn info_is_checked_before_mapping() {
        type Tweak = fn(&mut abi::saker_info);
        let cases: &[(Tweak, &str)] = &[
            (|i| i.abi_version = 2, "ABI version 2"),
            (|i| i.nr_cpus = 0, "nr_cpus 0"),
            (|i| i.ring_bytes = 12288, "ring_bytes 12288"),
            (|i| i.page_size = 100, "page_size 100"),
        ];
        for (tweak, msg) in cases {
            let mut dev = FakeDevice::new(1, 4096);
            tweak(&mut dev.info);
            let e = Session::new(dev).unwrap_err();
            assert!(e.to_string().contains(msg), "{e} !~ {msg}");
        }
    }

    #[test]
    fn controls_reach_the_device() {
        let s = Session::new(FakeDevice::new(2, 8192)).unwrap();
        assert_eq!(s.info().nr_cpus, 2);
        s.set_snaplen(256).unwrap();
        assert_eq!(s.device().snaplen.get(), 256);
        let mut i = Interest::default();
        i.add_syscall(59);
        s.set_interest(&i).unwrap();
        let got = s.device().interest.get().unwrap();
        assert_eq!((got.enter[0], got.exit[0]), (1 << 59, 1 << 59));
        assert_eq!(got.flags, 0);
        s.set_interest(&i.late_enter()).unwrap();
        let got = s.device().interest.get().unwrap();
        assert_eq!(got.flags, abi::SAKER_INTEREST_LATE_ENTER as u64);
        s.enable().unwrap();
        assert!(s.device().enabled.get());
        s.disable().unwrap();
        assert!(!s.device().enabled.get());
        assert_eq!(s.stats().unwrap().len(), 2);
    }

    #[test]
    fn a_missing_device_says_how_to_load_the_module() {
        let e = open_device(Path::new("/nonexistent/saker")).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::DeviceMissing { .. }));
        assert!(e.to_string().contains("insmod driver/saker.ko"));
    }

    #[test]
    fn pacing_sleeps_longer_while_less_than_a_batch_waits() {
        let mut b = Backoff::new(Duration::from_micros(1), Duration::from_micros(4), 100);
        let mut seen = Vec::new();
        for waiting in [0, 10, 99, 99] {
            seen.push(b.current().as_micros());
            assert!(b.would_sleep(waiting));
            b.pace(waiting);
        }
        assert_eq!(seen, [1, 2, 4, 4]);
        assert!(!b.would_sleep(100));
        b.pace(100);
        assert_eq!(b.current().as_micros(), 1);
    }
}
