//! Block type codes and fixed sizes of the scap (pcapng-like) block format.

/// Section header block.
pub const SHB: u32 = 0x0A0D_0D0A;
/// Byte-order magic of the section header.
pub const SHB_MAGIC: u32 = 0x1A2B_3C4D;
/// Machine info.
pub const MI: u32 = 0x201;
/// Machine info, old code.
pub const MI_OLD: u32 = 0x8002_ABCD;
/// Process list, layout v1.
pub const PL_V1: u32 = 0x202;
/// Process list v1, old code.
pub const PL_V1_OLD: u32 = 0x8000_ABCD;
/// Process list v2.
pub const PL_V2: u32 = 0x207;
/// Process list v2, old code.
pub const PL_V2_OLD: u32 = 0x8013_ABCD;
/// Process list v3.
pub const PL_V3: u32 = 0x209;
/// Process list v3, old code.
pub const PL_V3_OLD: u32 = 0x8014_ABCD;
/// Process list v4.
pub const PL_V4: u32 = 0x210;
/// Process list v5.
pub const PL_V5: u32 = 0x211;
/// Process list v6.
pub const PL_V6: u32 = 0x212;
/// Process list v7.
pub const PL_V7: u32 = 0x213;
/// Process list v8.
pub const PL_V8: u32 = 0x214;
/// Process list v9.
pub const PL_V9: u32 = 0x215;
/// File descriptor list.
pub const FDL: u32 = 0x203;
/// File descriptor list, old code.
pub const FDL_OLD: u32 = 0x8001_ABCD;
/// File descriptor list v2.
pub const FDL_V2: u32 = 0x218;
/// Event (22-byte header, no nparams).
pub const EV: u32 = 0x204;
/// Event, old code.
pub const EV_OLD: u32 = 0x8010_ABCD;
/// Event v2.
pub const EV_V2: u32 = 0x216;
/// Event v2, large.
pub const EV_V2_LARGE: u32 = 0x221;
/// Interface list.
pub const IL: u32 = 0x205;
/// Interface list, old code.
pub const IL_OLD: u32 = 0x8011_ABCD;
/// Interface list v2.
pub const IL_V2: u32 = 0x219;
/// User list.
pub const UL: u32 = 0x206;
/// User list, old code.
pub const UL_OLD: u32 = 0x8012_ABCD;
/// User list v2.
pub const UL_V2: u32 = 0x220;
/// Event with flags (22-byte header).
pub const EVF: u32 = 0x208;
/// Event with flags v2.
pub const EVF_V2: u32 = 0x217;
/// Event with flags v2, large.
pub const EVF_V2_LARGE: u32 = 0x222;

/// Block header: type and total length.
pub const HEADER_LEN: usize = 8;
/// Block trailer: total length repeated.
pub const TRAILER_LEN: usize = 4;
/// Size of the scap event header (`ppm_evt_hdr`).
pub const EVENT_HEADER_LEN: usize = 26;
/// Size of the old event header, without nparams.
pub const OLD_EVENT_HEADER_LEN: usize = 22;
/// Largest block the reader accepts (event blocks carry at most a few MiB).
pub const MAX_BLOCK_LEN: u32 = 256 << 20;

/// Total length of a block with a body of `body` bytes, padded to 4.
pub fn total_len(body: usize) -> usize {
    (HEADER_LEN + body + TRAILER_LEN + 3) & !3
}

/// How an event block lays out its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventBlock {
    /// The block carries a u32 flags word after the cpu id.
    pub has_flags: bool,
    /// The event header lacks nparams (old 22-byte header).
    pub old_header: bool,
}

/// The event layout of a block type, if it is an event block.
pub fn event_block(block_type: u32) -> Option<EventBlock> {
    let (has_flags, old_header) = match block_type {
        EV | EV_OLD => (false, true),
        EVF => (true, true),
        EV_V2 | EV_V2_LARGE => (false, false),
        EVF_V2 | EVF_V2_LARGE => (true, false),
        _ => return None,
    };
    Some(EventBlock {
        has_flags,
        old_header,
    })
}
