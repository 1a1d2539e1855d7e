//! Reading one CPU's ring: snapshot the producer's head, validate and hand out
//! records as slices of the mapping (no copy), and give the bytes back to the
//! producer by storing the tail once they are consumed.

use super::mapping::RingMap;
use super::{record_size, Error, ErrorKind, Result};
use crate::abi::EVT_HDR_LEN;
use crate::event::schema;

/// The fields of a record header the reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Front {
    ts: u64,
    len: u32,
}

/// A reader of one CPU's ring. Owns the mapping; records it hands out borrow
/// the reader, so the tail can only move past them once they are dropped.
#[derive(Debug)]
pub struct CpuReader {
    map: RingMap,
    /// Next record to read.
    pos: u64,
    /// Producer position loaded at the last refill.
    head: u64,
    /// Tail last stored to the consumer page.
    released: u64,
    /// Header of the record at `pos`, once validated.
    front: Option<Front>,
}

impl CpuReader {
    /// A reader starting at the tail currently stored in the consumer page.
    pub fn new(map: RingMap) -> CpuReader {
        let tail = map.load_tail();
        CpuReader {
            map,
            pos: tail,
            head: tail,
            released: tail,
            front: None,
        }
    }

    /// The mapping.
    pub fn map(&self) -> &RingMap {
        &self.map
    }

    /// The CPU index.
    pub fn cpu(&self) -> u32 {
        self.map.cpu()
    }

    /// Bytes published by the producer and not yet read, as of the last
    /// refill.
    pub fn pending(&self) -> u64 {
        self.head - self.pos
    }

    /// Bytes that will be pending once the record at the front (validated by
    /// [`peek_ts`](CpuReader::peek_ts)) is read; `pending()` if none is.
    pub fn pending_after_front(&self) -> u64 {
        match self.front {
            Some(f) => self.pending().saturating_sub(record_size(f.len as u64)),
            None => self.pending(),
        }
    }

    /// Gives every record read so far back to the producer, then loads the
    /// producer position again. Returns the bytes now waiting to be read.
    pub fn refill(&mut self) -> Result<u64> {
        self.release();
        let head = self.map.load_head();
        let ring = self.map.ring_bytes();
        if head < self.pos || head - self.pos > ring {
            return Err(Error::at(
                ErrorKind::Corrupt(format!(
                    "producer head {head} is not within {ring} bytes after the tail"
                )),
                self.cpu(),
                self.pos,
            ));
        }
        self.head = head;
        Ok(head - self.pos)
    }

    /// Stores the tail up to the last record read (nothing if unchanged).
    pub fn release(&mut self) {
        if self.released != self.pos {
            self.map.store_tail(self.pos);
            self.released = self.pos;
        }
    }

    /// Stores the tail if at least `threshold` bytes were read since the
    /// last store, so a long batch does not hold the whole ring.
    pub fn release_if(&mut self, threshold: u64) {
        if self.pos - self.released >= threshold {
            self.release();
        }
    }

    fn corrupt(&self, msg: String) -> Error {
        Error::at(ErrorKind::Corrupt(msg), self.cpu(), self.pos)
    }

    /// Validates the header at `pos` and caches it.
    fn load_front(&mut self) -> Result<Option<Front>> {
        if let Some(f) = self.front {
            return Ok(Some(f));
        }
        let avail = self.head - self.pos;
        if avail == 0 {
            return Ok(None);
        }
        if avail < EVT_HDR_LEN as u64 {
            return Err(self.corrupt(format!("{avail} bytes left, less than a header")));
        }
        let hdr = self
            .map
            .data(self.pos, EVT_HDR_LEN)
            .ok_or_else(|| self.corrupt("ring smaller than a header".into()))?;
        let ts = u64::from_le_bytes(hdr[0..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(hdr[16..20].try_into().unwrap_or_default());
        let ty = u16::from_le_bytes(hdr[20..22].try_into().unwrap_or_default());
        let nparams = u32::from_le_bytes(hdr[22..26].try_into().unwrap_or_default());
        if (len as usize) < EVT_HDR_LEN {
            return Err(self.corrupt(format!("record length {len} below the header size")));
        }
        if record_size(len as u64) > avail {
            return Err(self.corrupt(format!(
                "record length {len} beyond the {avail} bytes published"
            )));
        }
        let width = match schema::info(ty) {
            Some(i) if i.large_payload() => 4,
            _ => 2,
        };
        if EVT_HDR_LEN as u64 + nparams as u64 * width > len as u64 {
            return Err(self.corrupt(format!(
                "{nparams} parameter lengths do not fit in a record of {len} bytes"
            )));
        }
        let f = Front { ts, len };
        self.front = Some(f);
        Ok(Some(f))
    }

    /// Timestamp of the next record, or `None` if none is pending.
    pub fn peek_ts(&mut self) -> Result<Option<u64>> {
        Ok(self.load_front()?.map(|f| f.ts))
    }

    /// The next record (header, lengths, values; without padding), or `None`
    /// if none is pending until the next refill.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>> {
        let Some(f) = self.load_front()? else {
            return Ok(None);
        };
        let start = self.pos;
        self.pos += record_size(f.len as u64);
        self.front = None;
        let cpu = self.cpu();
        self.map
            .data(start, f.len as usize)
            .map(Some)
            .ok_or_else(|| {
                Error::at(
                    ErrorKind::Corrupt(format!("record length {} exceeds the ring", f.len)),
                    cpu,
                    start,
                )
            })
    }
}

impl Drop for CpuReader {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{event, event_of_len, FakeDevice};
    use super::super::Session;
    use super::*;

    const RING: u64 = 4096;

    fn session(cpus: u32) -> Session<FakeDevice> {
        Session::new(FakeDevice::new(cpus, RING)).unwrap()
    }

    fn reader(s: &mut Session<FakeDevice>) -> &mut CpuReader {
        s.merger().reader_mut(0)
    }

    fn read_all(r: &mut CpuReader) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec.to_vec());
        }
        out
    }

    #[test]
    fn records_wrap_across_the_double_mapping() {
        // Start near the end so records cross the ring boundary.
        let dev = FakeDevice::new(1, RING);
        dev.cpus[0].set_positions(RING * 3 - 1000);
        let mut s = Session::new(dev).unwrap();
        let recs: Vec<Vec<u8>> = (0..3).map(|i| event_of_len(i, 1000, i as u8 + 1)).collect();
        for r in &recs {
            assert!(s.device().cpus[0].push(r));
        }
        let r = reader(&mut s);
        assert_eq!(r.refill().unwrap(), 3000);
        assert_eq!(read_all(r), recs);
        // Ring position of the second record: 3 * RING - 1000 + 1000 wraps.
        assert_eq!(r.refill().unwrap(), 0);
        assert_eq!(s.device().cpus[0].tail(), RING * 3 + 2000);
    }

    #[test]
    fn records_are_padded_to_eight_bytes() {
        let mut s = session(1);
        let lens = [29usize, 33, 28, 40];
        let recs: Vec<Vec<u8>> = lens.iter().map(|&l| event_of_len(1, l, 0xee)).collect();
        for r in &recs {
            assert!(s.device().cpus[0].push(r));
        }
        assert_eq!(s.device().cpus[0].head(), 32 + 40 + 32 + 40);
        let r = reader(&mut s);
        r.refill().unwrap();
        let got = read_all(r);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), lens);
        assert_eq!(got, recs);
    }

    #[test]
    fn partial_batches_wait_for_the_next_refill() {
        let mut s = session(1);
        let a = event(1, 1, 2, &[b"/a\0"]);
        let b = event(2, 1, 2, &[b"/b\0"]);
        let c = event(3, 1, 2, &[b"/c\0"]);
        s.device().cpus[0].push(&a);
        s.device().cpus[0].push(&b);
        reader(&mut s).refill().unwrap();
        assert_eq!(reader(&mut s).next_record().unwrap().unwrap(), &a[..]);
        s.device().cpus[0].push(&c);
        assert_eq!(reader(&mut s).next_record().unwrap().unwrap(), &b[..]);
        // c was published after the refill: not seen until the next one.
        assert!(reader(&mut s).next_record().unwrap().is_none());
        assert_eq!(reader(&mut s).refill().unwrap(), 32);
        assert_eq!(reader(&mut s).next_record().unwrap().unwrap(), &c[..]);
    }

    #[test]
    fn tail_is_released_only_after_the_batch() {
        let mut s = session(1);
        let rec = event_of_len(1, 1024, 1);
        for _ in 0..4 {
            assert!(s.device().cpus[0].push(&rec));
        }
        // Full: the producer drops and counts it.
        assert!(!s.device().cpus[0].push(&rec));
        reader(&mut s).refill().unwrap();
        reader(&mut s).next_record().unwrap().unwrap();
        reader(&mut s).next_record().unwrap().unwrap();
        // Read but not released: still full for the producer.
        assert_eq!(s.device().cpus[0].tail(), 0);
        assert!(!s.device().cpus[0].push(&rec));
        reader(&mut s).release();
        assert_eq!(s.device().cpus[0].tail(), 2048);
        assert!(s.device().cpus[0].push(&rec));
        let c = s.merger().ring_counters()[0];
        assert_eq!((c.events, c.drops_full), (5, 2));
    }

    #[test]
    fn corrupt_records_are_errors_not_reads() {
        let hdr = |len: u32, nparams: u32| {
            let mut v = event(1, 1, 2, &[]);
            v[16..20].copy_from_slice(&len.to_le_bytes());
            v[22..26].copy_from_slice(&nparams.to_le_bytes());
            v
        };
        let cases: &[(Vec<u8>, u64, &str)] = &[
            (hdr(12, 0), 32, "below the header size"),
            (hdr(500, 0), 32, "beyond the 32 bytes"),
            (hdr(30, 4), 32, "parameter lengths do not fit"),
            (hdr(26, 0), 16, "less than a header"),
            (hdr(26, 0), RING + 8, "not within"),
        ];
        for (bytes, advance, msg) in cases {
            let mut s = session(1);
            s.device().cpus[0].push(&event(0, 1, 4, &[b"12345678"]));
            s.device().cpus[0].push_raw(bytes, *advance);
            let r = reader(&mut s);
            let e = r.refill().and_then(|_| {
                r.next_record()?;
                r.next_record().map(|_| ())
            });
            let e = e.unwrap_err();
            assert!(e.to_string().contains(msg), "{e} !~ {msg}");
            assert_eq!(e.cpu(), Some(0));
            assert!(matches!(e.kind(), ErrorKind::Corrupt(_)));
        }
    }
}
