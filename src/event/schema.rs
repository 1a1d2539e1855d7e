//! Types describing the event schema: categories, flags and parameter types.
//!
//! The table itself (`table.rs`) is generated; this file owns its vocabulary.

/// The event creates a file descriptor.
pub const EF_CREATES_FD: u32 = 1 << 0;
/// The event destroys a file descriptor.
pub const EF_DESTROYS_FD: u32 = 1 << 1;
/// The event operates on a file descriptor.
pub const EF_USES_FD: u32 = 1 << 2;
/// The event reads from a file descriptor.
pub const EF_READS_FROM_FD: u32 = 1 << 3;
/// The event writes to a file descriptor.
pub const EF_WRITES_TO_FD: u32 = 1 << 4;
/// The event changes process or file descriptor state.
pub const EF_MODIFIES_STATE: u32 = 1 << 5;
/// The event id is unused.
pub const EF_UNUSED: u32 = 1 << 6;
/// The event blocks waiting.
pub const EF_WAITS: u32 = 1 << 7;
/// The event does not reset the parser's per-thread last-event state.
pub const EF_SKIPPARSERESET: u32 = 1 << 8;
/// An older layout superseded by a later event id.
pub const EF_OLD_VERSION: u32 = 1 << 9;
/// Dropped in simple consumer mode.
pub const EF_DROP_SIMPLE_CONS: u32 = 1 << 10;
/// Parameter lengths are u32 instead of u16.
pub const EF_LARGE_PAYLOAD: u32 = 1 << 11;

/// Event category (`evt.category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Category {
    File,
    Internal,
    IoOther,
    IoRead,
    IoWrite,
    Ipc,
    Memory,
    Net,
    Other,
    Process,
    Scheduler,
    Signal,
    Sleep,
    System,
    Time,
    User,
    Wait,
}

/// How a parameter's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ParamType {
    Bytebuf,
    Charbuf,
    Charbufarray,
    CharbufPairArray,
    Dyn,
    Errno,
    Fd,
    Fdlist,
    Flags16,
    Flags32,
    Flags8,
    Fspath,
    Fsrelpath,
    Gid,
    Int16,
    Int32,
    Int64,
    Mode,
    Pid,
    Reltime,
    Sigset,
    Sigtype,
    Sockaddr,
    Socktuple,
    Syscallid,
    Uid,
    Uint16,
    Uint32,
    Uint64,
    Uint8,
}

/// One parameter of an event.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// Parameter name (`evt.arg.NAME`).
    pub name: &'static str,
    /// Encoding.
    pub ty: ParamType,
}

/// One event id's schema entry.
#[derive(Debug, Clone, Copy)]
pub struct EventInfo {
    /// Event name (`evt.type`), shared by the enter and exit ids.
    pub name: &'static str,
    /// Category.
    pub category: Category,
    /// `EF_*` flags.
    pub flags: u32,
    /// Parameters in order.
    pub params: &'static [ParamInfo],
}

impl EventInfo {
    /// Whether parameter lengths are stored as u32.
    pub fn large_payload(&self) -> bool {
        self.flags & EF_LARGE_PAYLOAD != 0
    }
}

/// Schema entry of an event id, if the id is known.
pub fn info(id: u16) -> Option<&'static EventInfo> {
    super::table::EVENTS.get(id as usize)
}

/// Whether an event id is an enter event (even ids) or exit (odd).
pub fn is_enter(id: u16) -> bool {
    id % 2 == 0
}
