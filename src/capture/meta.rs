//! Capture metadata: what a capture file records before its events (machine,
//! network interfaces, users and groups, the process table and open files).
//!
//! The reader fills these from the metadata blocks; the writer writes them; the
//! live source builds them from /proc at the start of a capture.

/// The machine the capture was taken on (MI block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineInfo {
    /// Number of CPUs.
    pub num_cpus: u32,
    /// Physical memory in bytes.
    pub memory_size_bytes: u64,
    /// Highest pid (`/proc/sys/kernel/pid_max`).
    pub max_pid: u64,
    /// Host name.
    pub hostname: String,
}

/// One network interface address (IL block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interface {
    /// An IPv4 address; addresses in network byte order as stored.
    V4 {
        /// Interface name.
        name: String,
        /// Address.
        addr: u32,
        /// Netmask.
        netmask: u32,
        /// Broadcast address.
        bcast: u32,
        /// Link speed.
        linkspeed: u64,
    },
    /// An IPv6 address.
    V6 {
        /// Interface name.
        name: String,
        /// Address.
        addr: [u8; 16],
        /// Netmask.
        netmask: [u8; 16],
        /// Broadcast address.
        bcast: [u8; 16],
        /// Link speed.
        linkspeed: u64,
    },
}

/// A user (UL block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Login name.
    pub name: String,
    /// Home directory.
    pub homedir: String,
    /// Login shell.
    pub shell: String,
}

/// A group (UL block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Group id.
    pub gid: u32,
    /// Group name.
    pub name: String,
}

/// A thread of the process table (PL block; fields of the newest layout, PL_V9;
/// older layouts leave the fields they lack at their defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Thread id.
    pub tid: u64,
    /// Process id (thread group leader).
    pub pid: u64,
    /// Parent process id.
    pub ptid: u64,
    /// Session id.
    pub sid: u64,
    /// Process group id.
    pub vpgid: u64,
    /// Command name (`comm`).
    pub comm: String,
    /// argv\[0\] as the process sees it.
    pub exe: String,
    /// Full path of the executable.
    pub exepath: String,
    /// Arguments after argv\[0\].
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: String,
    /// Open file limit.
    pub fdlimit: u64,
    /// Thread flags (`PPM_CL_*`).
    pub flags: u32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Virtual memory size, KiB.
    pub vmsize_kb: u32,
    /// Resident set size, KiB.
    pub vmrss_kb: u32,
    /// Swapped memory, KiB.
    pub vmswap_kb: u32,
    /// Major page faults.
    pub pfmajor: u64,
    /// Minor page faults.
    pub pfminor: u64,
    /// Environment, `NAME=value` each.
    pub env: Vec<String>,
    /// Thread id in its pid namespace.
    pub vtid: i64,
    /// Process id in its pid namespace.
    pub vpid: i64,
    /// Cgroups, `controller=path` each.
    pub cgroups: Vec<String>,
    /// Root directory.
    pub root: String,
    /// Login uid (-1 if unset).
    pub loginuid: i32,
    /// Whether the executable is writable by the thread's user.
    pub exe_writable: bool,
}

/// What an open file descriptor refers to (FDL block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdKind {
    /// A regular file (`FILE_V2`), with its `PPM_O_*` open flags and device.
    File {
        /// Path.
        name: String,
        /// Open flags (`PPM_O_*`).
        open_flags: u32,
        /// Device number.
        dev: u32,
    },
    /// A connected IPv4 socket; addresses in network byte order as stored.
    Ipv4Socket {
        /// Source address.
        sip: u32,
        /// Destination address.
        dip: u32,
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Layer-4 protocol (`SCAP_L4_*`).
        l4proto: u8,
    },
    /// A listening IPv4 socket.
    Ipv4ServerSocket {
        /// Address.
        ip: u32,
        /// Port.
        port: u16,
        /// Layer-4 protocol.
        l4proto: u8,
    },
    /// A connected IPv6 socket.
    Ipv6Socket {
        /// Source address.
        sip: [u8; 16],
        /// Destination address.
        dip: [u8; 16],
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Layer-4 protocol.
        l4proto: u8,
    },
    /// A listening IPv6 socket.
    Ipv6ServerSocket {
        /// Address.
        ip: [u8; 16],
        /// Port.
        port: u16,
        /// Layer-4 protocol.
        l4proto: u8,
    },
    /// A unix socket.
    UnixSocket {
        /// Source endpoint.
        source: u64,
        /// Destination endpoint.
        dest: u64,
        /// Path.
        name: String,
    },
    /// Any other kind that only carries a name: the scap fd type code
    /// (FILE 1, DIRECTORY 2, FIFO 7, EVENT 9, UNSUPPORTED 10, SIGNALFD 11,
    /// EVENTPOLL 12, INOTIFY 13, TIMERFD 14, NETLINK 15) and the name.
    Named {
        /// scap fd type code.
        fd_type: u8,
        /// Name.
        name: String,
    },
}

/// One open file descriptor of a thread (FDL block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdInfo {
    /// Descriptor number.
    pub fd: i64,
    /// Inode number.
    pub ino: u64,
    /// What it refers to.
    pub kind: FdKind,
}

/// Everything a capture records before its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Machine info.
    pub machine: MachineInfo,
    /// Interface addresses.
    pub interfaces: Vec<Interface>,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Process table.
    pub threads: Vec<ThreadInfo>,
    /// Open files per thread id.
    pub fds: Vec<(u64, Vec<FdInfo>)>,
}
