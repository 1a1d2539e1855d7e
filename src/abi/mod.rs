//! The kernel/daemon ABI: bindings generated from driver/include/uapi/saker_abi.h
//! by bindgen (with its layout tests), plus the ioctl request numbers exported by
//! the C shim, and size assertions for the structures the daemon maps.

#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    missing_docs,
    clippy::all
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/saker_abi.rs"));
}

pub use generated::*;

mod shim {
    extern "C" {
        pub static saker_ioc_get_info: core::ffi::c_ulong;
        pub static saker_ioc_enable: core::ffi::c_ulong;
        pub static saker_ioc_disable: core::ffi::c_ulong;
        pub static saker_ioc_set_interest: core::ffi::c_ulong;
        pub static saker_ioc_set_snaplen: core::ffi::c_ulong;
        pub static saker_ioc_get_stats: core::ffi::c_ulong;
        pub static saker_ioc_get_syscall_map: core::ffi::c_ulong;
    }
}

/// The ioctl request numbers of the ABI.
#[derive(Debug, Clone, Copy)]
pub struct IoctlRequests {
    /// `SAKER_IOC_GET_INFO`
    pub get_info: u64,
    /// `SAKER_IOC_ENABLE`
    pub enable: u64,
    /// `SAKER_IOC_DISABLE`
    pub disable: u64,
    /// `SAKER_IOC_SET_INTEREST`
    pub set_interest: u64,
    /// `SAKER_IOC_SET_SNAPLEN`
    pub set_snaplen: u64,
    /// `SAKER_IOC_GET_STATS`
    pub get_stats: u64,
    /// `SAKER_IOC_GET_SYSCALL_MAP`
    pub get_syscall_map: u64,
}

/// The ioctl request numbers, read from the C shim.
// `c_ulong` is u64 on x86_64 but u32 on 32-bit targets: the casts are needed there.
#[allow(clippy::unnecessary_cast)]
pub fn ioctl_requests() -> IoctlRequests {
    // SAFETY: the shim defines these as initialised, immutable C constants;
    // reading them has no side effects and no data races.
    unsafe {
        IoctlRequests {
            get_info: shim::saker_ioc_get_info as u64,
            enable: shim::saker_ioc_enable as u64,
            disable: shim::saker_ioc_disable as u64,
            set_interest: shim::saker_ioc_set_interest as u64,
            set_snaplen: shim::saker_ioc_set_snaplen as u64,
            get_stats: shim::saker_ioc_get_stats as u64,
            get_syscall_map: shim::saker_ioc_get_syscall_map as u64,
        }
    }
}

/// Size of the scap event header.
pub const EVT_HDR_LEN: usize = 26;

const _: () = assert!(core::mem::size_of::<saker_evt_hdr>() == EVT_HDR_LEN);
const _: () = assert!(core::mem::size_of::<saker_ring_producer>() == 48);
const _: () = assert!(core::mem::size_of::<saker_ring_consumer>() == 8);
const _: () = assert!(core::mem::size_of::<saker_info>() == 32);
const _: () = assert!(core::mem::size_of::<saker_interest>() == 144);
const _: () = assert!(core::mem::size_of::<saker_cpu_stats>() == 40);
const _: () = assert!(core::mem::size_of::<saker_stats_req>() == 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_encode_magic_and_size() {
        let r = ioctl_requests();
        // _IOC layout on x86_64: dir(2) size(14) type(8) nr(8).
        for (req, nr) in [
            (r.get_info, 0),
            (r.enable, 1),
            (r.disable, 2),
            (r.set_interest, 3),
        ] {
            assert_eq!((req >> 8) & 0xff, SAKER_IOC_MAGIC as u64);
            assert_eq!(req & 0xff, nr);
        }
        assert_eq!(
            (r.get_info >> 16) & 0x3fff,
            core::mem::size_of::<saker_info>() as u64
        );
        assert_eq!(
            (r.get_syscall_map >> 16) & 0x3fff,
            core::mem::size_of::<saker_syscall_map>() as u64
        );
    }

    #[test]
    fn record_size_rounds_to_alignment() {
        assert_eq!(SAKER_RECORD_ALIGN, 8);
        assert_eq!(SAKER_DEFAULT_RING_BYTES.count_ones(), 1);
    }
}
