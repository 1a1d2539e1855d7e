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

/// Parameter names looked up on nearly every event (state tracking and the
/// open fields), whose index per event id is computed at compile time.
const COMMON_NAMES: [&str; 5] = ["fd", "res", "name", "flags", "dirfd"];

/// No parameter of that name.
const NO_INDEX: u8 = u8::MAX;

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// For each of [`COMMON_NAMES`], the index of that parameter in each event
/// id's schema entry.
static COMMON_INDEX: [[u8; super::table::EVENT_MAX as usize]; COMMON_NAMES.len()] = {
    let mut t = [[NO_INDEX; super::table::EVENT_MAX as usize]; COMMON_NAMES.len()];
    let mut n = 0;
    while n < COMMON_NAMES.len() {
        let mut ev = 0;
        while ev < super::table::EVENTS.len() {
            let params = super::table::EVENTS[ev].params;
            let mut p = params.len();
            // The first parameter of the name, as a search from the start finds.
            while p > 0 {
                p -= 1;
                if same_name(params[p].name, COMMON_NAMES[n]) {
                    t[n][ev] = p as u8;
                }
            }
            ev += 1;
        }
        n += 1;
    }
    t
};

/// Index of the parameter `name` in event `id`'s schema entry: from a table
/// built at compile time for the names nearly every event looks up, else by
/// comparing names. Inlined: where `name` is a literal, the search of
/// [`COMMON_NAMES`] is decided by the compiler.
#[inline]
pub fn param_index(id: u16, name: &str) -> Option<usize> {
    let Some(row) = COMMON_NAMES.iter().position(|n| *n == name) else {
        return param_index_by_name(id, name);
    };
    match COMMON_INDEX[row].get(id as usize) {
        Some(&i) if i != NO_INDEX => Some(i as usize),
        _ => None,
    }
}

/// [`param_index`] for the other names: a search of the schema entry.
#[inline(never)]
fn param_index_by_name(id: u16, name: &str) -> Option<usize> {
    info(id)?.params.iter().position(|p| p.name == name)
}

/// Schema entry of an event id, if the id is known.
pub fn info(id: u16) -> Option<&'static EventInfo> {
    super::table::EVENTS.get(id as usize)
}

/// Whether an event id is an enter event (even ids) or exit (odd).
pub fn is_enter(id: u16) -> bool {
    id % 2 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::table::EVENTS;

    #[test]
    fn param_index_agrees_with_a_search_by_name() {
        let mut names: Vec<&str> = EVENTS
            .iter()
            .flat_map(|e| e.params.iter().map(|p| p.name))
            .collect();
        names.extend(["nosuch", ""]);
        names.sort();
        names.dedup();
        for id in 0..EVENTS.len() as u16 + 2 {
            for name in &names {
                let want = info(id).and_then(|i| i.params.iter().position(|p| p.name == *name));
                assert_eq!(param_index(id, name), want, "event {id} param {name}");
            }
        }
        // The table covers the common names where they exist.
        let openat = crate::event::table::id::SYSCALL_OPENAT_2_X;
        let got: Vec<_> = COMMON_NAMES
            .iter()
            .map(|n| param_index(openat, n))
            .collect();
        assert_eq!(got, [Some(0), None, Some(2), Some(3), Some(1)]);
    }
}
