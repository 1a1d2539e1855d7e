/* SPDX-License-Identifier: GPL-2.0 */
/*
 * saker.h - declarations shared by the files of saker.ko.
 */
#ifndef _SAKER_H
#define _SAKER_H

#include <linux/types.h>
#include <linux/bitmap.h>
#include <linux/mm_types.h>
#include <asm/barrier.h>
#include <asm/msr.h>
#include <asm/unaligned.h>

#include "include/uapi/saker_abi.h"

/* Most parameters any event of the schema has. */
#define SK_MAX_PARAMS 20

/* Largest record the module writes (u16 parameter lengths anyway). */
#define SK_MAX_RECORD (64U << 10)

/* Caps of variable-size parameters. */
#define SK_MAX_PATH 4096U
#define SK_MAX_ARGS 4096U
#define SK_DEFAULT_SNAPLEN 80U
#define SK_MAX_SNAPLEN 65000U

/* Parameter types of the scap schema (names as in the schema, SK_ prefix). */
enum sk_ptype {
	SK_PT_NONE = 0,
	SK_PT_INT8, SK_PT_INT16, SK_PT_INT32, SK_PT_INT64,
	SK_PT_UINT8, SK_PT_UINT16, SK_PT_UINT32, SK_PT_UINT64,
	SK_PT_CHARBUF, SK_PT_BYTEBUF, SK_PT_ERRNO, SK_PT_SOCKADDR,
	SK_PT_SOCKTUPLE, SK_PT_FD, SK_PT_PID, SK_PT_FDLIST, SK_PT_FSPATH,
	SK_PT_SYSCALLID, SK_PT_SIGTYPE, SK_PT_RELTIME, SK_PT_ABSTIME,
	SK_PT_PORT, SK_PT_L4PROTO, SK_PT_SOCKFAMILY, SK_PT_BOOL, SK_PT_IPV4ADDR,
	SK_PT_DYN, SK_PT_FLAGS8, SK_PT_FLAGS16, SK_PT_FLAGS32, SK_PT_UID,
	SK_PT_GID, SK_PT_DOUBLE, SK_PT_SIGSET, SK_PT_CHARBUFARRAY,
	SK_PT_CHARBUF_PAIR_ARRAY, SK_PT_IPV4NET, SK_PT_IPV6ADDR, SK_PT_IPV6NET,
	SK_PT_IPADDR, SK_PT_IPNET, SK_PT_MODE, SK_PT_FSRELPATH,
};

/* Parameter count and types of one event id. */
struct sk_event_info {
	u8 nparams;
	u8 large;	/* EF_LARGE_PAYLOAD: u32 lengths (never emitted) */
	u8 types[SK_MAX_PARAMS];
};

extern const struct sk_event_info sk_schema[SAKER_EVT_MAX];

/* What a native syscall produces. */
struct sk_syscall_entry {
	u16 enter_event;
	u16 exit_event;
	u16 ppm_sc;
};

extern const struct sk_syscall_entry sk_syscalls[SAKER_SYSCALL_MAX];

struct sk_ring;

/* A record being written into a ring, between reserve and commit. */
struct sk_record {
	struct sk_ring *ring;
	u8 *base;		/* start of the record in the data area */
	u32 cap;		/* bytes writable at base */
	u32 len;		/* bytes written: header + lengths + values */
	u16 type;
	u16 nparams;
	u16 idx;		/* next parameter */
	bool overflow;
	bool fault;		/* a read of user memory faulted */
	const struct sk_event_info *info;
};

/* Inputs of one syscall event. */
struct sk_call {
	unsigned long args[8];	/* 6 arguments, then zeros: indexes are & 7 */
	long nr;
	long ret;
	bool is_exit;
	u32 snaplen;
	const struct sk_syscall_entry *sc;
};

/*
 * The event clock of one CPU: CLOCK_REALTIME at a TSC value, extrapolated
 * with the TSC for up to span cycles (see sk_clock_sync in ring.c).
 */
struct sk_clock {
	u64 tsc;	/* TSC at the last sync */
	u64 ns;		/* CLOCK_REALTIME at the last sync */
	u64 floor;	/* no timestamp below this until the next sync */
	u64 mult;	/* ns per cycle, 32.32 fixed point */
	u64 span;	/* cycles extrapolated; 0: read the timekeeper */
};

/* One CPU's ring. */
struct sk_ring {
	struct page **pages;		/* consumer, producer, data pages */
	unsigned int nr_pages;
	struct saker_ring_consumer *cons;
	struct saker_ring_producer *prod;
	u8 *data;			/* data pages mapped twice */
	u64 mask;
	bool busy;			/* re-entry guard, this CPU only */
	struct sk_clock clk;		/* owned by whoever holds busy */
	/* The event being written, owned by whoever holds busy. */
	struct sk_record rec;
	struct sk_call call;
};

/* One open of /dev/saker: the rings and the capture settings. */
struct sk_session {
	struct sk_ring **rings;		/* nr_rings entries */
	unsigned int nr_rings;
	u64 ring_bytes;
	bool enabled;
	bool probes_on;
	u32 snaplen;
	u64 sources;
	/*
	 * Syscalls whose enter (exit) event is captured while enabled: the
	 * interest set as configured (SET_INTEREST) ...
	 */
	unsigned long want_enter[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	unsigned long want_exit[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	u64 flags;			/* SAKER_INTEREST_*, as configured */
	/*
	 * ... and as the probes read it, empty while capture is disabled, so
	 * that the probes test one bit per syscall and no flag (updated under
	 * sk_ioctl_lock, see sk_publish_interest): the enter events taken at
	 * entry, the enter events written at exit (SAKER_INTEREST_LATE_ENTER),
	 * the exit events, and the syscalls whose return the exit probe looks
	 * at (the late enter events' and the exit events').
	 */
	unsigned long enter[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	unsigned long late[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	unsigned long exit[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	unsigned long at_exit[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	bool enter_on;			/* the sys_enter probe is attached */
};

/* ring.c */
struct sk_ring *sk_ring_alloc(int cpu, u64 ring_bytes);
void sk_ring_free(struct sk_ring *ring);
int sk_ring_mmap(struct sk_session *s, struct vm_area_struct *vma);

void sk_record_drop(struct sk_record *r);
u64 sk_clock_sync(struct sk_ring *ring);
void sk_record_fill_rest(struct sk_record *r);

static inline void sk_count(u64 *counter)
{
	WRITE_ONCE(*counter, *counter + 1);
}

/*
 * The timestamp of an event: CLOCK_REALTIME in ns, as ktime_get_real_fast_ns()
 * gives it, read through the TSC between syncs. The caller holds the ring's
 * re-entry guard.
 */
static __always_inline u64 sk_clock(struct sk_ring *ring)
{
	struct sk_clock *k = &ring->clk;
	u64 d = rdtsc_ordered() - k->tsc;

	if (likely(d < k->span))
		return max(k->ns + ((d * k->mult) >> 32), k->floor);
	return sk_clock_sync(ring);
}

/* This CPU's ring with the re-entry guard taken, or NULL. */
static __always_inline struct sk_ring *sk_ring_get(struct sk_session *s)
{
	unsigned int cpu = smp_processor_id();
	struct sk_ring *ring;

	if (unlikely(cpu >= s->nr_rings))
		return NULL;
	ring = s->rings[cpu];
	if (unlikely(!ring))
		return NULL;
	if (unlikely(ring->busy)) {
		sk_count(&ring->prod->n_drops_reentry);
		return NULL;
	}
	ring->busy = true;
	barrier();
	return ring;
}

static __always_inline void sk_ring_put(struct sk_ring *ring)
{
	barrier();
	ring->busy = false;
}

/*
 * Free bytes at this ring's head, the head going to *head; none when the
 * consumer wrote a tail that makes more bytes used than the ring holds.
 */
static __always_inline u64 sk_ring_room(struct sk_ring *ring, u64 *head)
{
	/* Pairs with the consumer's store-release of tail. */
	u64 used = (*head = ring->prod->head) -
		   smp_load_acquire(&ring->cons->tail);

	return used > ring->mask + 1 ? 0 : ring->mask + 1 - used;
}

/*
 * Start a record of the given type at this ring's head. The caller runs with
 * preemption disabled on the ring's CPU and holds the re-entry guard.
 * Returns 0, or -ENOSPC after counting a full-ring drop.
 */
static __always_inline int sk_record_begin(struct sk_ring *ring,
					   struct sk_record *r, u16 type)
{
	u64 head, space = sk_ring_room(ring, &head);

	r->info = &sk_schema[type];
	r->nparams = r->info->nparams;
	r->len = sizeof(struct saker_evt_hdr) + r->nparams * sizeof(u16);
	if (unlikely(r->len > space)) {
		sk_count(&ring->prod->n_drops_full);
		return -ENOSPC;
	}
	r->ring = ring;
	r->base = ring->data + (head & ring->mask);
	r->cap = min_t(u64, space, SK_MAX_RECORD);
	r->type = type;
	r->idx = 0;
	r->overflow = false;
	r->fault = false;
	return 0;
}

/*
 * Write the header and publish the record, with the given timestamp and
 * thread id; drops it if it did not fit.
 */
static __always_inline void sk_record_commit(struct sk_record *r, u64 ts,
					     u64 tid)
{
	struct saker_ring_producer *prod = r->ring->prod;
	struct saker_evt_hdr *hdr = (struct saker_evt_hdr *)r->base;
	u64 size;

	if (unlikely(r->idx < r->nparams))
		sk_record_fill_rest(r);
	if (unlikely(r->overflow)) {
		sk_record_drop(r);
		return;
	}
	size = SAKER_RECORD_SIZE((u64)r->len);
	if (unlikely(size > r->cap)) {
		/* The record fits but its padding does not: ring full. */
		sk_count(&prod->n_drops_full);
		return;
	}
	/* base is 8-byte aligned: ts and tid are aligned, the rest is not */
	hdr->ts = ts;
	hdr->tid = tid;
	put_unaligned(r->len, &hdr->len);
	put_unaligned(r->type, &hdr->type);
	put_unaligned((u32)r->nparams, &hdr->nparams);
	if (unlikely(r->fault))
		sk_count(&prod->n_drops_fault);
	sk_count(&prod->n_evts);
	/* Pairs with the consumer's load-acquire of head. */
	smp_store_release(&prod->head, prod->head + size);
}

/* fill.c: parameter writers; each writes the next parameter. */
void sk_put(struct sk_record *r, const void *val, u32 len);
void sk_put_num(struct sk_record *r, u64 v);	/* width from the schema */
void sk_put_empty(struct sk_record *r);
void sk_put_str(struct sk_record *r, const char *s);
void sk_put_user_str(struct sk_record *r, unsigned long uptr);
long sk_strncpy_user(struct sk_record *r, u8 *dst, unsigned long src,
		     long count);
int sk_copy_user(struct sk_record *r, void *dst, unsigned long src,
		 unsigned long len);
void sk_put_user_buf(struct sk_record *r, unsigned long uptr, u32 len);
u8 *sk_put_open(struct sk_record *r, u32 *room);
void sk_put_close(struct sk_record *r, u32 len);
void sk_syscall_event(struct sk_session *s, struct pt_regs *regs, long nr,
		      long ret, bool is_exit);
void sk_event(struct sk_session *s, u16 type,
	      void (*fill)(struct sk_record *r, const void *arg),
	      const void *arg);
struct linux_binprm;
void sk_exec_enter_event(struct sk_session *s,
			 const struct linux_binprm *bprm);
void sk_fill_init(void);
u64 sk_vm_kib(int field);

/* fill_table.c */
typedef void (*sk_filler_fn)(struct sk_record *r, struct sk_call *c);

struct sk_src {
	u8 op;
	u8 arg;
	u8 aux;
};

struct sk_event_fill {
	sk_filler_fn fn;		/* whole-event filler, or NULL */
	struct sk_src src[SK_MAX_PARAMS];
};

extern const struct sk_event_fill sk_fills[SAKER_EVT_MAX];

enum sk_src_op {
	SK_DEFAULT = 0,	/* exit param 0: return value; enter param 0: arg 0 */
	SK_ZERO,	/* zero of the type's width, empty if variable */
	SK_ARG,		/* syscall argument, by type */
	SK_RET,		/* return value */
	SK_USTR,	/* user string at argument */
	SK_RBUF,	/* user buffer at argument, return value bytes */
	SK_WBUF,	/* user buffer at argument, next argument bytes */
	SK_RIOV,	/* iovec array at argument, return value bytes */
	SK_WIOV,	/* iovec array at argument, all bytes */
	SK_IOVLEN,	/* total bytes of the iovec array at argument */
	SK_OFLAGS,	/* open flags at argument -> PPM_O_* */
	SK_OMODE,	/* mode at argument, if flags (argument - 1) create */
	SK_CMODE,	/* mode at argument, creat() */
	SK_MODE,	/* mode bits at argument */
	SK_DEV,		/* device of the returned fd */
	SK_CLFLAGS,	/* clone/unshare flags at argument -> PPM_CL_* */
	SK_SOCKADDR,	/* sockaddr at argument, length at next argument */
	SK_TUPLE_RET,	/* socket tuple of the returned fd */
	SK_TUPLE_UA,	/* tuple of fd arg 0, remote from sockaddr at argument, length next */
	SK_TUPLE_UAP,	/* same, inbound, length at the user pointer in the next argument */
	SK_TUPLE_MSG,	/* tuple of fd arg 0, remote from the msghdr's name; aux 1: inbound */
	SK_UFD,		/* int at user argument, index aux */
	SK_HOW,		/* struct open_how at argument, field aux */
	SK_MSFLAGS,	/* mount flags at argument */
	SK_EXVAT,	/* execveat flags at argument */
	SK_UID,		/* current credentials, field aux */
	SK_QUEUE,	/* accept queue of the listening fd (arg 0), field aux */
	SK_MSGLEN,	/* total bytes of the msghdr at argument */
	SK_RMSG,	/* msghdr at argument, return value bytes */
	SK_WMSG,	/* msghdr at argument, all bytes */
	SK_UNIXPAIR,	/* socketpair: socket (aux 0) or peer (1) of the fds at argument */
	SK_PIPEINO,	/* inode of the pipe of the fds at user argument */
	SK_PPMSC,	/* ppm_sc code of the syscall */
	SK_FCNTL,	/* fcntl command at argument -> PPM_FCNTL_* */
	SK_PTRACE,	/* ptrace request at argument -> PPM_PTRACE_* */
	SK_PROT,	/* mmap protection at argument -> PPM_PROT_* */
	SK_MAPFL,	/* mmap flags at argument -> PPM_MAP_* */
	SK_VM,		/* current mm size (aux 0), rss (1), swap (2) in KiB */
	SK_RLIM,	/* struct rlimit at user argument, cur (aux 0) / max (1) */
	SK_POLLFDS,	/* pollfd array at argument, events (aux 0) / revents (1) */
	SK_TIMESPEC,	/* struct timespec at user argument, as ns */
	SK_PTRACE_ADDR,	/* ptrace addr (DYN) */
	SK_PTRACE_DATA,	/* ptrace data (DYN): peeked word, signal or value */
	SK_BPFRES,	/* bpf result (DYN): fd for map/program creation, else res */
	SK_NR,		/* native syscall number */
	SK_SEMGETFL,	/* semget flags at argument -> PPM_IPC_* */
	SK_SEMCTL,	/* semctl command at argument -> PPM_* */
	SK_SEMVAL,	/* semctl value at argument if the command is SETVAL */
	SK_SEMBUF,	/* sembuf array at argument, count at argument + 1:
			 * element aux / 3, field aux % 3 (num, op, flags) */
	SK_SPLICEFL,	/* splice flags at argument -> PPM_SPLICE_F_* */
	SK_SOLEVEL,	/* socket option level at argument -> PPM_SOCKOPT_LEVEL_* */
	SK_SONAME,	/* option name at argument + 1 of the level at argument */
	SK_SOVAL,	/* option value (DYN): level at argument, then name, value
			 * pointer and length (aux 0) or length pointer (aux 1) */
};

/* fill_proc.c */
void sk_fill_proc(struct sk_record *r, struct sk_call *c);
void sk_fill_procexit(struct sk_record *r, const void *task);

/* fill_flags.c */
u32 sk_open_flags(unsigned long flags);
u32 sk_clone_flags(unsigned long flags);
u32 sk_mmap_prot(unsigned long prot);
u32 sk_mmap_flags(unsigned long flags);
u32 sk_poll_events(unsigned long ev);
u32 sk_fcntl_cmd(unsigned long cmd);
u32 sk_ptrace_req(unsigned long req);
u32 sk_semop_flags(unsigned long flags);
u32 sk_semget_flags(unsigned long flags);
u32 sk_semctl_cmd(unsigned long cmd);
u32 sk_sockopt_level(unsigned long level);
u32 sk_sockopt_name(unsigned long level, unsigned long name);
u32 sk_splice_flags(unsigned long flags);

/* fill_net.c */
void sk_put_sockaddr(struct sk_record *r, unsigned long uaddr, unsigned long ulen);
void sk_put_tuple_in(struct sk_record *r, long fd);
void sk_put_tuple_addr(struct sk_record *r, long fd, unsigned long uaddr,
		       unsigned long ulen, bool inbound);
void sk_put_queue(struct sk_record *r, long fd, int field);
void sk_put_unix_pair(struct sk_record *r, unsigned long ufds, int which);
void sk_put_sockopt_val(struct sk_record *r, unsigned long level,
			unsigned long name, unsigned long uval,
			unsigned long len, u32 snaplen);

/* probes.c */
int sk_probes_start(struct sk_session *s);
int sk_probes_enter(struct sk_session *s, bool on);
void sk_probes_stop(struct sk_session *s);
int sk_probes_init(void);

#endif /* _SAKER_H */
