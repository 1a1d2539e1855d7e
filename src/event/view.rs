//! Zero-copy views over scap event bytes: the 26-byte header, the parameter
//! length array (u16, or u32 for `EF_LARGE_PAYLOAD` events) and the parameter
//! values.

use std::fmt;

use super::schema::{self, EventInfo};

/// Size of the event header (`ppm_evt_hdr`).
pub const HEADER_LEN: usize = 26;
/// Most parameters a view decodes (the schema's largest event has 20).
pub const MAX_PARAMS: usize = 32;

/// Why event bytes do not form an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// Fewer bytes than the header.
    ShortHeader,
    /// The header length is below the header size or beyond the bytes given.
    BadLength,
    /// The parameter length array does not fit the event.
    LengthsOverflow,
    /// The parameter values do not fit the event.
    ValuesOverflow,
}

impl EventError {
    /// A short description.
    pub fn as_str(self) -> &'static str {
        match self {
            EventError::ShortHeader => "event shorter than its header",
            EventError::BadLength => "event length field out of range",
            EventError::LengthsOverflow => "parameter length array overruns the event",
            EventError::ValuesOverflow => "parameter values overrun the event",
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for EventError {}

/// A validated view of one event.
#[derive(Clone, Copy)]
pub struct EventView<'a> {
    raw: &'a [u8],
    /// Event type id (the header's, read once).
    ty: u16,
    cpu: u16,
    flags: u32,
    nparams: u8,
    /// Parameter lengths are u32 (else u16).
    large: bool,
    /// Offset of the first parameter's value.
    values_start: u32,
    /// Offsets of the values of parameters 1..=KEPT (parameter 0 starts at
    /// `values_start`), when the event is shorter than 64 KiB; later ones
    /// are summed from the length array on access.
    starts: [u16; KEPT],
}

/// Parameter offsets a view keeps.
const KEPT: usize = 8;

impl fmt::Debug for EventView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventView")
            .field("ts", &self.ts())
            .field("tid", &self.tid())
            .field("type", &self.event_type())
            .field("cpu", &self.cpu)
            .field("nparams", &self.nparams)
            .finish()
    }
}

// One bounds check per value (the slice of the value's width), not one
// per byte.
#[inline]
fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(a)
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// Length of parameter `i` from the length array of a validated event.
#[inline]
fn param_len(raw: &[u8], large: bool, i: usize) -> usize {
    if large {
        u32_at(raw, HEADER_LEN + i * 4) as usize
    } else {
        u16_at(raw, HEADER_LEN + i * 2) as usize
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl<'a> EventView<'a> {
    /// Validates `bytes` (one event; only the first `len` bytes of the header
    /// are used) and computes the parameter offsets. Decodes the smaller of
    /// the schema's and the header's parameter counts.
    pub fn new(bytes: &'a [u8], cpu: u16, flags: u32) -> Result<Self, EventError> {
        if bytes.len() < HEADER_LEN {
            return Err(EventError::ShortHeader);
        }
        let len = u32_at(bytes, 16) as usize;
        if len < HEADER_LEN || len > bytes.len() {
            return Err(EventError::BadLength);
        }
        let raw = &bytes[..len];
        let ty = u16_at(raw, 20);
        let hdr_nparams = u32_at(raw, 22) as usize;
        let info = schema::info(ty);
        let (table_n, large) = info.map_or((0, false), |i| (i.params.len(), i.large_payload()));
        let width = if large { 4 } else { 2 };
        let values_start = hdr_nparams
            .checked_mul(width)
            .and_then(|n| n.checked_add(HEADER_LEN))
            .filter(|&end| end <= len)
            .ok_or(EventError::LengthsOverflow)?;
        let n = table_n.min(hdr_nparams).min(MAX_PARAMS);
        // Every decoded value must lie inside the event; offsets are then
        // recomputed on access (a view stays small to pass around).
        let mut pos = values_start;
        let mut starts = [0u16; KEPT];
        let lens = &raw[HEADER_LEN..values_start];
        let mut lengths = lens.chunks_exact(width).take(n).map(|c| match c {
            [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
            _ => u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize,
        });
        for i in 0..n {
            // Each length is below 2^32 and `pos` at most `len`: no overflow.
            pos += lengths.next().unwrap_or(0);
            if pos > len {
                return Err(EventError::ValuesOverflow);
            }
            if let Some(s) = starts.get_mut(i) {
                // Truncation only for events of 64 KiB or more, which
                // do not use these.
                *s = pos as u16;
            }
        }
        Ok(EventView {
            raw,
            ty,
            cpu,
            flags,
            nparams: n as u8,
            large,
            values_start: values_start as u32,
            starts,
        })
    }

    /// The event's bytes (exactly its header length).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    /// Timestamp, nanoseconds since the epoch.
    pub fn ts(&self) -> u64 {
        u64_at(self.raw, 0)
    }
    /// Thread id.
    pub fn tid(&self) -> u64 {
        u64_at(self.raw, 8)
    }
    /// Total length including the header.
    pub fn len(&self) -> u32 {
        u32_at(self.raw, 16)
    }
    /// Whether the event has no parameter bytes.
    pub fn is_empty(&self) -> bool {
        self.raw.len() <= HEADER_LEN
    }
    /// Event type id.
    pub fn event_type(&self) -> u16 {
        self.ty
    }
    /// Parameter count as the header states it.
    pub fn header_nparams(&self) -> u32 {
        u32_at(self.raw, 22)
    }
    /// Number of parameters decoded (min of schema and header counts).
    pub fn nparams(&self) -> usize {
        self.nparams as usize
    }
    /// CPU the event was captured on.
    pub fn cpu(&self) -> u16 {
        self.cpu
    }
    /// Block flags (`1` state-only, `2` tracer), 0 when absent.
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// Schema entry, if the type is known.
    pub fn info(&self) -> Option<&'static EventInfo> {
        schema::info(self.event_type())
    }
    /// Event name (`evt.type`), `"unknown"` for unknown ids.
    pub fn name(&self) -> &'static str {
        self.info().map_or("unknown", |i| i.name)
    }
    /// Whether this is an enter event.
    pub fn is_enter(&self) -> bool {
        schema::is_enter(self.event_type())
    }
    /// The bytes of parameter `i`, if decoded.
    #[inline]
    pub fn param(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.nparams as usize {
            return None;
        }
        let start = if i == 0 {
            self.values_start as usize
        } else if i <= KEPT && self.raw.len() <= usize::from(u16::MAX) {
            usize::from(self.starts[i - 1])
        } else {
            (0..i).fold(self.values_start as usize, |at, k| {
                at + param_len(self.raw, self.large, k)
            })
        };
        self.raw
            .get(start..start + param_len(self.raw, self.large, i))
    }
    /// Index of the parameter named `name` in the schema, if decoded.
    #[inline]
    pub fn param_index(&self, name: &str) -> Option<usize> {
        schema::param_index(self.event_type(), name).filter(|&i| i < self.nparams as usize)
    }
    /// The bytes of the parameter named `name`.
    #[inline]
    pub fn param_by_name(&self, name: &str) -> Option<&'a [u8]> {
        self.param(self.param_index(name)?)
    }
}

/// Builds event bytes from a type, header fields and parameter values, with
/// u16 or u32 lengths as the schema requires. Used by tests and writers of
/// synthetic events.
pub fn build(ts: u64, tid: u64, ty: u16, params: &[&[u8]]) -> Vec<u8> {
    let large = schema::info(ty).is_some_and(|i| i.large_payload());
    let width = if large { 4 } else { 2 };
    let len = HEADER_LEN + params.len() * width + params.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&tid.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&(params.len() as u32).to_le_bytes());
    for p in params {
        if large {
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
    }
    for p in params {
        v.extend_from_slice(p);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::table::id;

    #[test]
    fn decodes_header_and_params() {
        let b = build(7, 42, id::SYSCALL_CLOSE_E, &[&5i64.to_le_bytes()]);
        let v = EventView::new(&b, 3, 0).unwrap();
        assert_eq!((v.ts(), v.tid(), v.cpu(), v.name()), (7, 42, 3, "close"));
        assert_eq!(v.param(0), Some(&5i64.to_le_bytes()[..]));
        assert_eq!(v.param_by_name("fd"), v.param(0));
        assert_eq!(v.param(1), None);
    }

    #[test]
    fn large_payload_uses_u32_lengths() {
        let json = b"{\"a\":1}\0";
        let b = build(1, 1, id::CONTAINER_JSON_2_E, &[json]);
        assert_eq!(b.len(), HEADER_LEN + 4 + json.len());
        let v = EventView::new(&b, 0, 0).unwrap();
        assert_eq!(v.param(0), Some(&json[..]));
    }

    #[test]
    fn every_parameter_of_long_and_short_events() {
        // execve exit has 20 parameters: the first ones come from kept
        // offsets, the rest are summed; an event over 64 KiB sums them all.
        for big in [0usize, 40_000] {
            let vals: Vec<Vec<u8>> = (0..20u8)
                .map(|i| match i {
                    2 | 3 => vec![i; big.max(3)],
                    _ => vec![i; usize::from(i % 5)],
                })
                .collect();
            let refs: Vec<&[u8]> = vals.iter().map(Vec::as_slice).collect();
            let b = build(1, 1, id::SYSCALL_EXECVE_19_X, &refs);
            assert_eq!(b.len() > 65_535, big > 0);
            let v = EventView::new(&b, 0, 0).unwrap();
            assert_eq!(v.nparams(), 20);
            for (i, want) in refs.iter().enumerate() {
                assert_eq!(v.param(i), Some(*want), "param {i}, {} bytes", b.len());
            }
            assert_eq!(v.param(20), None);
        }
    }

    #[test]
    fn decodes_min_of_table_and_header_counts() {
        // close_e has one param in the schema; a header with two decodes one.
        let b = build(1, 1, id::SYSCALL_CLOSE_E, &[&[1; 8], &[2; 3]]);
        let v = EventView::new(&b, 0, 0).unwrap();
        assert_eq!(v.nparams(), 1);
        // open_x has five; a header with two decodes two.
        let b = build(1, 1, id::SYSCALL_OPEN_X, &[&[1; 8], b"/x\0"]);
        assert_eq!(EventView::new(&b, 0, 0).unwrap().nparams(), 2);
    }

    #[test]
    fn rejects_malformed() {
        let good = build(1, 1, id::SYSCALL_CLOSE_E, &[&[1; 8]]);
        let cases: Vec<(Vec<u8>, EventError)> = vec![
            (good[..10].to_vec(), EventError::ShortHeader),
            (good[..30].to_vec(), EventError::BadLength),
            (
                {
                    let mut b = good.clone();
                    b[22..26].copy_from_slice(&1000u32.to_le_bytes());
                    b
                },
                EventError::LengthsOverflow,
            ),
            (
                {
                    let mut b = good.clone();
                    b[26..28].copy_from_slice(&9u16.to_le_bytes());
                    b
                },
                EventError::ValuesOverflow,
            ),
            (
                {
                    let mut b = good.clone();
                    b[16..20].copy_from_slice(&3u32.to_le_bytes());
                    b
                },
                EventError::BadLength,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(EventView::new(&bytes, 0, 0).unwrap_err(), want);
        }
    }
}
