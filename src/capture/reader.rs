//! Streaming scap reader: raw or gzip files, metadata blocks into `Metadata`,
//! then events one at a time as zero-copy views into one reused buffer. The
//! source is read in large chunks into a sliding window and blocks are
//! parsed where they lie: one copy from the kernel, none per block.

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::block::{self, *};
use super::decode::{self, Fault};
use super::error::{Error, ErrorKind};
use super::meta::Metadata;
use crate::event::schema;
use crate::event::table::EVENT_MAX;
use crate::event::view::EventView;

/// Bytes kept before the unread part of the window when it slides: the
/// block header just read stays in front of its body, so an old 22-byte
/// event header can be widened to 26 bytes in place.
const KEEP: usize = 8;
/// Window size; a larger block grows it.
const WINDOW: usize = 256 << 10;

/// A scap file being read.
pub struct Reader<R: Read> {
    src: R,
    name: String,
    /// Offset of the next unread byte of the uncompressed stream.
    offset: u64,
    /// Read-ahead window: `win[lo..hi]` is read from `src` and not consumed.
    win: Vec<u8>,
    lo: usize,
    hi: usize,
    /// The source reported its end.
    eof: bool,
    /// The current block's body (without trailer) in `win`.
    body: (usize, usize),
    meta: Metadata,
    version: (u16, u16),
    sections: u32,
    skipped: u64,
    /// An event block read while loading metadata: (type, block offset).
    pending: Option<(u32, u64)>,
}

impl Reader<Box<dyn Read + Send>> {
    /// Opens a capture file, raw or gzip-compressed, and reads its metadata.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |e| Error::new(ErrorKind::Io(e), name.clone(), 0);
        let mut file = File::open(path).map_err(io)?;
        let mut magic = [0u8; 2];
        let n = read_full(&mut file, &mut magic).map_err(io)?;
        // The file may be a pipe: the magic read goes back in front.
        let head = std::io::Cursor::new(magic[..n].to_vec()).chain(file);
        let src: Box<dyn Read + Send> = if n == 2 && magic == [0x1f, 0x8b] {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 16, head)))
        } else {
            Box::new(head)
        };
        Reader::new(name, src)
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Reader<R> {
    /// Starts reading `src` (named `name` in errors): reads the section header
    /// and the metadata blocks up to the first event.
    pub fn new(name: impl Into<String>, src: R) -> Result<Self, Error> {
        let mut r = Reader {
            src,
            name: name.into(),
            offset: 0,
            win: Vec::new(),
            lo: 0,
            hi: 0,
            eof: false,
            body: (0, 0),
            meta: Metadata::default(),
            version: (0, 0),
            sections: 0,
            skipped: 0,
            pending: None,
        };
        match r.raw_block_header()? {
            Some((SHB, len)) if len < 28 || len % 4 != 0 || len > MAX_BLOCK_LEN => {
                return Err(r.err(ErrorKind::BadBlockLength(len), 0))
            }
            Some((SHB, len)) => r.section_header(len)?,
            Some(_) => return Err(r.err(ErrorKind::NotScap, 0)),
            None => return Err(r.err(ErrorKind::Truncated("section header block"), 0)),
        }
        r.metadata_blocks()?;
        Ok(r)
    }

    /// The metadata read so far (all sections).
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// Capture format version (major, minor) of the current section.
    pub fn version(&self) -> (u16, u16) {
        self.version
    }

    /// Number of sections seen (concatenated captures have several).
    pub fn sections(&self) -> u32 {
        self.sections
    }

    /// Events skipped because their type is beyond the schema.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Name used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn err(&self, kind: ErrorKind, offset: u64) -> Error {
        Error::new(kind, self.name.clone(), offset)
    }

    /// Reads and checks a block header; `None` at a clean end of stream.
    fn block_header(&mut self) -> Result<Option<(u32, u32)>, Error> {
        let Some((bt, len)) = self.raw_block_header()? else {
            return Ok(None);
        };
        if len < 12 || len % 4 != 0 || len > MAX_BLOCK_LEN {
            return Err(self.err(ErrorKind::BadBlockLength(len), self.offset - 8));
        }
        Ok(Some((bt, len)))
    }

    /// Reads a block header without checking its length.
    fn raw_block_header(&mut self) -> Result<Option<(u32, u32)>, Error> {
        let at = self.offset;
        let n = self.fill(8).map_err(|e| self.err(ErrorKind::Io(e), at))?;
        if n < 8 {
            self.offset += n as u64;
            self.lo += n;
            if n == 0 {
                return Ok(None);
            }
            return Err(self.err(ErrorKind::Truncated("block header"), at));
        }
        let h = &self.win[self.lo..self.lo + 8];
        let bt = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        self.lo += 8;
        self.offset += 8;
        Ok(Some((bt, len)))
    }

    /// Reads the rest of a block (body, padding, trailer) into the buffer
    /// after the headroom; returns the trailer.
    fn block_body(&mut self, len: u32, what: &'static str) -> Result<u32, Error> {
        let at = self.offset - 8;
        let want = len as usize - 8;
        let got = self
            .fill(want)
            .map_err(|e| self.err(ErrorKind::Io(e), at))?;
        self.offset += got as u64;
        let start = self.lo;
        self.lo += got;
        if got < want {
            return Err(self.err(ErrorKind::Truncated(what), at));
        }
        let t = &self.win[self.lo - 4..self.lo];
        let trailer = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        self.body = (start, self.lo - 4);
        Ok(trailer)
    }

    /// Makes `need` unread bytes available in the window, reading from the
    /// source as needed; returns how many are (fewer only at the end of the
    /// stream).
    fn fill(&mut self, need: usize) -> std::io::Result<usize> {
        if self.hi - self.lo >= need || self.eof {
            return Ok(need.min(self.hi - self.lo));
        }
        if self.lo + need > self.win.len() {
            // Slide what is unread (and the bytes kept before it) to the
            // front, growing the window for a block larger than it.
            let from = self.lo.saturating_sub(KEEP);
            self.win.copy_within(from..self.hi, 0);
            self.lo -= from;
            self.hi -= from;
            let size = WINDOW.max(self.lo + need);
            if self.win.len() < size {
                self.win.resize(size, 0);
            }
        }
        while self.hi - self.lo < need {
            match self.src.read(&mut self.win[self.hi..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => self.hi += k,
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(need.min(self.hi - self.lo))
    }

    fn body(&self) -> &[u8] {
        &self.win[self.body.0..self.body.1]
    }

    fn section_header(&mut self, len: u32) -> Result<(), Error> {
        let at = self.offset - 8;
        self.block_body(len, "section header block")?;
        let b = self.body();
        if b.len() < 16 {
            return Err(self.err(ErrorKind::Truncated("section header block"), at));
        }
        let magic = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let major = u16::from_le_bytes([b[4], b[5]]);
        let minor = u16::from_le_bytes([b[6], b[7]]);
        if magic != SHB_MAGIC {
            return Err(self.err(ErrorKind::BadMagic(magic), at + 8));
        }
        if major > 1 {
            return Err(self.err(ErrorKind::UnsupportedVersion(major, minor), at + 12));
        }
        // Options (pcapng comments) after the fixed fields are skipped by length.
        self.version = (major, minor);
        self.sections += 1;
        Ok(())
    }

    /// Reads metadata blocks until the first event block (left pending) or
    /// the end of the stream.
    fn metadata_blocks(&mut self) -> Result<(), Error> {
        while let Some((bt, len)) = self.block_header()? {
            let at = self.offset - 8;
            if block::event_block(bt).is_some() {
                self.block_body(len, "event block")?;
                self.pending = Some((bt, at));
                return Ok(());
            }
            if bt == SHB {
                self.section_header(len)?;
                continue;
            }
            self.read_metadata_block(bt, len, at)?;
        }
        Ok(())
    }

    /// Reads the metadata block of type `bt` and length `len` at `at`
    /// (header read) and merges it into the metadata.
    fn read_metadata_block(&mut self, bt: u32, len: u32, at: u64) -> Result<(), Error> {
        let trailer = self.block_body(len, "metadata block")?;
        if trailer != len {
            return Err(self.err(
                ErrorKind::TrailerMismatch {
                    header: len,
                    trailer,
                },
                at + len as u64 - 4,
            ));
        }
        self.metadata_block(bt)
            .map_err(|(what, pos)| self.err(ErrorKind::BadMetadata(what), at + 8 + pos as u64))
    }

    fn metadata_block(&mut self, bt: u32) -> Result<(), Fault> {
        let body = &self.win[self.body.0..self.body.1];
        match bt {
            MI | MI_OLD => self.meta.machine = decode::machine(body)?,
            IL | IL_OLD | IL_V2 => self.meta.interfaces = decode::interfaces(body, bt == IL_V2)?,
            UL | UL_OLD | UL_V2 => {
                let (u, g) = decode::users(body, bt == UL_V2)?;
                self.meta.users = u;
                self.meta.groups = g;
            }
            FDL | FDL_OLD | FDL_V2 => {
                let (tid, fds) = decode::fds(body, bt == FDL_V2)?;
                if !self.meta.threads.iter().any(|t| t.tid == tid) {
                    return Err(("fd list block (thread not in the process list)", 0));
                }
                self.meta.fds.push((tid, fds));
            }
            _ => {
                if let Some(v) = decode::pl_version(bt) {
                    let threads = decode::threads(body, v)?;
                    self.meta.threads.extend(threads);
                }
                // Unknown metadata blocks are skipped.
            }
        }
        Ok(())
    }

    /// The next event, or `None` at the end of the stream. Events whose type
    /// is beyond the schema are skipped (and counted).
    #[allow(clippy::should_implement_trait)]
    pub fn next_event(&mut self) -> Result<Option<EventView<'_>>, Error> {
        let (start, cpu, flags, at) = loop {
            let (bt, at) = match self.pending.take() {
                Some(p) => p,
                None => match self.whole_event_block() {
                    // The common case: a whole event block in the window.
                    Some((bt, len)) => {
                        let at = self.offset;
                        self.body = (self.lo + 8, self.lo + len - 4);
                        self.lo += len;
                        self.offset += len as u64;
                        (bt, at)
                    }
                    None => match self.block_header()? {
                        None => return Ok(None),
                        Some((SHB, len)) => {
                            self.section_header(len)?;
                            self.metadata_blocks()?;
                            continue;
                        }
                        Some((bt, len)) => {
                            let at = self.offset - 8;
                            if block::event_block(bt).is_none() {
                                // Metadata after events: read and merge it.
                                self.read_metadata_block(bt, len, at)?;
                                continue;
                            }
                            self.block_body(len, "event block")?;
                            (bt, at)
                        }
                    },
                },
            };
            if let Some(found) = self.event_in_buffer(bt, at)? {
                break found;
            }
        };
        EventView::new(&self.win[start..self.body.1], cpu, flags)
            .map(Some)
            .map_err(|e| self.err(ErrorKind::BadEvent(e.as_str()), at + 8))
    }

    /// The type and length of the next block when it is an event block of
    /// valid length lying whole in the window.
    fn whole_event_block(&self) -> Option<(u32, usize)> {
        let h = self.win.get(self.lo..self.lo + 8)?;
        let bt = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let ok = len >= 12
            && len % 4 == 0
            && len <= MAX_BLOCK_LEN
            && len as usize <= self.hi - self.lo
            && block::event_block(bt).is_some();
        ok.then_some((bt, len as usize))
    }

    /// Locates (and for old headers, widens in place) the event of the block
    /// in the buffer. `None` if the event is skipped.
    fn event_in_buffer(
        &mut self,
        bt: u32,
        at: u64,
    ) -> Result<Option<(usize, u16, u32, u64)>, Error> {
        let layout =
            block::event_block(bt).ok_or_else(|| self.err(ErrorKind::UnexpectedBlock(bt), at))?;
        let prefix = if layout.has_flags { 6 } else { 2 };
        let hdr = if layout.old_header {
            OLD_EVENT_HEADER_LEN
        } else {
            EVENT_HEADER_LEN
        };
        let b = self.body();
        if b.len() < prefix + hdr {
            return Err(self.err(ErrorKind::Truncated("event block"), at));
        }
        let cpu = u16::from_le_bytes([b[0], b[1]]);
        let flags = if layout.has_flags {
            u32::from_le_bytes([b[2], b[3], b[4], b[5]])
        } else {
            0
        };
        let e = &b[prefix..];
        let len = u32::from_le_bytes([e[16], e[17], e[18], e[19]]) as usize;
        let ty = u16::from_le_bytes([e[20], e[21]]);
        if len < hdr || len > e.len() {
            return Err(self.err(ErrorKind::Truncated("event block"), at + 8 + prefix as u64));
        }
        if ty >= EVENT_MAX {
            self.skipped += 1;
            return Ok(None);
        }
        let start = self.body.0 + prefix;
        if !layout.old_header {
            return Ok(Some((start, cpu, flags, at)));
        }
        let nparams = old_nparams(ty, &e[..len]).ok_or_else(|| {
            self.err(
                ErrorKind::BadEvent("parameter lengths do not add up"),
                at + 8,
            )
        })?;
        // Move ts/tid/len/type 4 bytes down into the headroom, then store the
        // widened length and nparams.
        let new = start - 4;
        self.win
            .copy_within(start..start + OLD_EVENT_HEADER_LEN, new);
        self.win[new + 16..new + 20].copy_from_slice(&(len as u32 + 4).to_le_bytes());
        self.win[new + 22..new + 26].copy_from_slice(&nparams.to_le_bytes());
        Ok(Some((new, cpu, flags, at)))
    }
}

/// Parameter count of an old-header event: the number of lengths that,
/// with their values, exactly fill the event.
fn old_nparams(ty: u16, e: &[u8]) -> Option<u32> {
    let large = schema::info(ty).is_some_and(|i| i.large_payload());
    let w = if large { 4 } else { 2 };
    let mut tot = OLD_EVENT_HEADER_LEN;
    let mut k = 0usize;
    while tot < e.len() {
        let at = OLD_EVENT_HEADER_LEN + k * w;
        let l = if large {
            u32::from_le_bytes(e.get(at..at + 4)?.try_into().ok()?) as usize
        } else {
            u16::from_le_bytes(e.get(at..at + 2)?.try_into().ok()?) as usize
        };
        tot = tot.checked_add(w + l)?;
        k += 1;
    }
    (tot == e.len()).then_some(k as u32)
}
