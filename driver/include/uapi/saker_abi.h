/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * saker_abi.h - the contract between saker.ko and the saker daemon.
 *
 * This header is the only place where the layout shared by the kernel module
 * and userspace is defined. Changing anything here bumps SAKER_ABI_VERSION,
 * which the daemon checks right after open (SAKER_IOC_GET_INFO).
 *
 * Device
 *   /dev/saker, one consumer at a time (a second open gets -EBUSY). Rings for
 *   every CPU index below saker_info.nr_cpus are allocated at open and freed at
 *   the last close/munmap. Capture starts disabled; SAKER_IOC_ENABLE starts it.
 *   At open both events of every syscall and SAKER_SRC_PROCEXIT are of
 *   interest (until SAKER_IOC_SET_INTEREST) and the snaplen is 80 bytes.
 *
 * Mappings (per CPU, offsets from SAKER_MMAP_OFFSET(cpu, kind))
 *   SAKER_MMAP_CONSUMER: one page, PROT_READ|PROT_WRITE. Starts with
 *       struct saker_ring_consumer. Only userspace writes it.
 *   SAKER_MMAP_PRODUCER: one page followed by the data area mapped twice back
 *       to back (length PAGE_SIZE + 2 * ring_bytes), PROT_READ only
 *       (VM_MAYWRITE is cleared). The page starts with struct
 *       saker_ring_producer. Only the kernel writes it.
 *   Because the data area is mapped twice, a record that crosses the end of
 *   the ring is contiguous in both the kernel's and the consumer's view.
 *
 * Records
 *   Positions (head, tail) are free-running __u64 byte counts; the offset in
 *   the data area is pos & (ring_bytes - 1), ring_bytes a power of two.
 *   A record is one scap event: struct saker_evt_hdr (26 bytes, packed), then
 *   nparams parameter lengths (__u16 each, __u32 for EF_LARGE_PAYLOAD events),
 *   then the parameter values. hdr.len counts all of that. Records start at
 *   8-byte aligned positions: the next record starts at
 *   pos + SAKER_RECORD_SIZE(hdr.len). The padding bytes are unspecified.
 *
 * Ordering
 *   Producer (one per CPU, preemption disabled while it writes):
 *     tail = smp_load_acquire(&cons->tail)     pairs with the consumer's
 *                                               release store of tail
 *     if head - tail + size > ring_bytes: count a drop, write nothing
 *     write the record at data[head & mask]
 *     smp_store_release(&prod->head, head + size)
 *   Consumer:
 *     head = load-acquire(prod->head)           pairs with the producer's
 *                                               release store of head
 *     read records in [tail, head)
 *     store-release(cons->tail, new tail)       the producer may now reuse
 *                                               the bytes just read
 *   The counters in struct saker_ring_producer are written only by the
 *   producer with WRITE_ONCE; readers use relaxed loads and may see them lag.
 *   Timestamps are CLOCK_REALTIME nanoseconds; records of one CPU are in
 *   timestamp order, and the consumer merges CPUs by timestamp.
 */
#ifndef _UAPI_SAKER_ABI_H
#define _UAPI_SAKER_ABI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#include "saker_events.h"

#define SAKER_ABI_VERSION 3

#define SAKER_DEVICE_NAME "saker"

/* Default bytes of data per CPU ring (module parameter ring_bytes). */
#define SAKER_DEFAULT_RING_BYTES (8U << 20)

/* Record alignment in the data area. */
#define SAKER_RECORD_ALIGN 8
#define SAKER_RECORD_SIZE(len) \
	(((len) + SAKER_RECORD_ALIGN - 1) & ~(__u64)(SAKER_RECORD_ALIGN - 1))

/* mmap offsets: kind in bits 32..39, cpu in bits 40..55. */
#define SAKER_MMAP_CONSUMER 0
#define SAKER_MMAP_PRODUCER 1
#define SAKER_MMAP_OFFSET(cpu, kind) \
	(((__u64)(cpu) << 40) | ((__u64)(kind) << 32))

/* Bitmaps of native syscall numbers for the interest set. */
#define SAKER_SYSCALL_MAX 512
#define SAKER_SYSCALL_WORDS (SAKER_SYSCALL_MAX / 64)

/* Non-syscall sources in struct saker_interest.sources. */
#define SAKER_SRC_PROCEXIT (1ULL << 0)	/* sched_process_exit -> PROCEXIT_1_E */

/*
 * struct saker_interest.flags.
 *
 * SAKER_INTEREST_LATE_ENTER: the enter events of interest are written when
 * the syscall returns, just before its exit event (if that is of interest
 * too), from the arguments as they are then; their timestamp is the return
 * time, so a call's latency reads 0. Only the enter events of exit and
 * exit_group (which do not return) and of rt_sigreturn (whose return
 * restores the registers) are still taken at entry. (Whatever the flags,
 * the module's sys_enter probe is attached only while some enter event is
 * taken at entry: with this flag, a set without those three calls has no
 * probe run as syscalls enter.) The enter event of a successful execve or
 * execveat is written when the new program is in place (sched_process_exec,
 * before the exit event), from the file the kernel executed: a name
 * relative to a descriptor (/dev/fd/N/NAME, or /dev/fd/N with AT_EMPTY_PATH)
 * gives an execveat enter event with dirfd N, any other name an execve enter
 * event. (In either mode, the exit event of a successful execveat is
 * execve's: the kernel reports the call as execve once a 64-bit program is
 * loaded.) A clone family call writes its enter event in the parent only.
 */
#define SAKER_INTEREST_LATE_ENTER (1ULL << 0)

/*
 * The scap event header (ppm_evt_hdr), packed, 26 bytes.
 */
struct saker_evt_hdr {
	__u64 ts;	/* CLOCK_REALTIME, ns */
	__u64 tid;	/* thread id (kernel pid) */
	__u32 len;	/* header + length array + values */
	__u16 type;	/* enum saker_event_type */
	__u32 nparams;
} __attribute__((packed));

/* First bytes of the consumer page (read-write for userspace). */
struct saker_ring_consumer {
	__u64 tail;	/* consumer position */
};

/*
 * First bytes of the producer page (read-only for userspace).
 *
 * n_drops_fault, despite its name, counts stored events: every event of this
 * CPU (also counted in n_evts) in which at least one read of user memory
 * through a pointer taken from the syscall's arguments or the process's
 * memory (path, buffer, iovec, msghdr, sockaddr, argv/environment, ...)
 * faulted: a bad pointer, or memory that is not resident (probes never take
 * page faults). The parameters that read feeds are stored empty, or with
 * what was read before the fault (iovec gathering); the other parameters are
 * complete. An event is counted once however many of its reads faulted, and
 * NULL pointers, which are never read, do not count.
 */
struct saker_ring_producer {
	__u64 head;		/* producer position */
	__u64 n_evts;		/* events stored */
	__u64 n_drops_full;	/* not stored: ring full */
	__u64 n_drops_fault;	/* stored, a user memory read faulted (above) */
	__u64 n_drops_reentry;	/* not stored: probe re-entered on this CPU */
	__u64 n_drops_toolarge;	/* not stored: record larger than allowed */
};

/* SAKER_IOC_GET_INFO */
struct saker_info {
	__u32 abi_version;	/* SAKER_ABI_VERSION */
	__u32 nr_cpus;		/* rings exist for cpu 0 .. nr_cpus - 1 */
	__u64 ring_bytes;	/* data bytes per ring, power of two */
	__u32 page_size;
	__u32 snaplen;		/* bytes captured of I/O buffers */
	__u64 cpus_online;	/* bitmap of online CPUs below 64 (informative) */
};

/*
 * SAKER_IOC_SET_INTEREST. The two events of a syscall are chosen apart: a
 * consumer that reads all it needs from the exit event (open, openat) or
 * from the enter event (close) asks for that one alone.
 */
struct saker_interest {
	__u64 enter[SAKER_SYSCALL_WORDS];	/* bit n: syscall n's enter event */
	__u64 exit[SAKER_SYSCALL_WORDS];	/* bit n: syscall n's exit event */
	__u64 sources;				/* SAKER_SRC_* */
	__u64 flags;				/* SAKER_INTEREST_* */
};

/* Per-CPU statistics, SAKER_IOC_GET_STATS fills one per CPU. */
struct saker_cpu_stats {
	__u64 n_evts;
	__u64 n_drops_full;
	__u64 n_drops_fault;	/* stored events, see struct saker_ring_producer */
	__u64 n_drops_reentry;
	__u64 n_drops_toolarge;
};

/* SAKER_IOC_GET_STATS */
struct saker_stats_req {
	__u64 stats;	/* user pointer to struct saker_cpu_stats[ncpus] */
	__u32 ncpus;	/* entries available at stats; set to nr_cpus */
	__u32 pad;
};

/*
 * SAKER_IOC_GET_SYSCALL_MAP: what each native syscall number produces.
 * Events of syscalls without a dedicated pair are GENERIC_E/GENERIC_X
 * carrying ppm_sc (the scap syscall code).
 */
struct saker_syscall_map {
	__u16 enter_event[SAKER_SYSCALL_MAX];
	__u16 exit_event[SAKER_SYSCALL_MAX];
	__u16 ppm_sc[SAKER_SYSCALL_MAX];
};

#define SAKER_IOC_MAGIC 0xb5
#define SAKER_IOC_GET_INFO	 _IOR(SAKER_IOC_MAGIC, 0, struct saker_info)
#define SAKER_IOC_ENABLE	 _IO(SAKER_IOC_MAGIC, 1)
#define SAKER_IOC_DISABLE	 _IO(SAKER_IOC_MAGIC, 2)
#define SAKER_IOC_SET_INTEREST	 _IOW(SAKER_IOC_MAGIC, 3, struct saker_interest)
#define SAKER_IOC_SET_SNAPLEN	 _IOW(SAKER_IOC_MAGIC, 4, __u32)
#define SAKER_IOC_GET_STATS	 _IOWR(SAKER_IOC_MAGIC, 5, struct saker_stats_req)
#define SAKER_IOC_GET_SYSCALL_MAP _IOR(SAKER_IOC_MAGIC, 6, struct saker_syscall_map)

#endif /* _UAPI_SAKER_ABI_H */
