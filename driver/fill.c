// SPDX-License-Identifier: GPL-2.0
/*
 * fill.c - parameter writers and the table-driven syscall encoder.
 *
 * Every writer appends the next parameter of the record: its value after the
 * values already written and its length in the length array. A record that
 * runs out of room is marked overflowed and dropped at commit. User memory is
 * read with page faults disabled (probes run with preemption disabled): a
 * fault, from a bad pointer or memory not resident, stores an empty parameter
 * and marks the record, which commit counts in n_drops_fault.
 *
 * The hot path (sk_fill_syscall) computes fixed-size values inline and
 * writes them with one inlined writer; variable-size parameters and user
 * memory reads go through sk_put_src.
 */
#include <linux/binfmts.h>
#include <linux/bpf.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <uapi/linux/mount.h>
#include <linux/openat2.h>
#include <linux/poll.h>
#include <linux/sem.h>
#include <linux/sched/mm.h>
#include <linux/time64.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <asm/syscall.h>
#include <asm/unistd.h>
#include <asm/unaligned.h>
#include <asm/word-at-a-time.h>

#include "saker.h"

#define SK_MAX_IOV 32
#define SK_MAX_POLLFDS 16

/* Bytes of a fixed-size parameter type; 0 for variable-size types. */
static const u8 sk_width[SK_PT_FSRELPATH + 1] = {
	[SK_PT_INT8] = 1, [SK_PT_UINT8] = 1, [SK_PT_FLAGS8] = 1,
	[SK_PT_SIGTYPE] = 1,
	[SK_PT_INT16] = 2, [SK_PT_UINT16] = 2, [SK_PT_FLAGS16] = 2,
	[SK_PT_SYSCALLID] = 2, [SK_PT_PORT] = 2,
	[SK_PT_INT32] = 4, [SK_PT_UINT32] = 4, [SK_PT_FLAGS32] = 4,
	[SK_PT_MODE] = 4, [SK_PT_UID] = 4, [SK_PT_GID] = 4, [SK_PT_SIGSET] = 4,
	[SK_PT_BOOL] = 4, [SK_PT_IPV4ADDR] = 4,
	[SK_PT_INT64] = 8, [SK_PT_UINT64] = 8, [SK_PT_ERRNO] = 8,
	[SK_PT_FD] = 8, [SK_PT_PID] = 8, [SK_PT_RELTIME] = 8,
	[SK_PT_ABSTIME] = 8,
};

/* The schema type of the next parameter (SK_PT_NONE when complete). */
static __always_inline u8 sk_cur_type(struct sk_record *r)
{
	return r->idx < r->nparams ? r->info->types[r->idx] : SK_PT_NONE;
}

static __always_inline void sk_set_len(struct sk_record *r, u32 len)
{
	u16 *lens = (u16 *)(r->base + sizeof(struct saker_evt_hdr));

	lens[r->idx] = len;	/* 2-byte aligned: the record is 8-aligned */
	r->len += len;
	r->idx++;
}

/* Room for the next value, or NULL (record overflowed or complete). */
static __always_inline u8 *__sk_put_open(struct sk_record *r, u32 *room)
{
	if (unlikely(r->overflow || r->idx >= r->nparams))
		return NULL;
	*room = min_t(u32, r->cap - r->len, U16_MAX);
	return r->base + r->len;
}

u8 *sk_put_open(struct sk_record *r, u32 *room)
{
	return __sk_put_open(r, room);
}

void sk_put_close(struct sk_record *r, u32 len)
{
	sk_set_len(r, len);
}

static __always_inline void __sk_put(struct sk_record *r, const void *val,
				     u32 len)
{
	u32 room;
	u8 *dst = __sk_put_open(r, &room);

	if (!dst)
		return;
	if (unlikely(len > room)) {
		r->overflow = true;
		return;
	}
	memcpy(dst, val, len);
	sk_set_len(r, len);
}

void sk_put(struct sk_record *r, const void *val, u32 len)
{
	__sk_put(r, val, len);
}

/* Store v in w bytes (1, 2, 4 or 8; nothing for other widths). */
static __always_inline void sk_store_num(u8 *dst, u32 w, u64 v)
{
	switch (w) {
	case 1:
		*dst = v;
		break;
	case 2:
		put_unaligned((u16)v, (u16 *)dst);
		break;
	case 4:
		put_unaligned((u32)v, (u32 *)dst);
		break;
	case 8:
		put_unaligned(v, (u64 *)dst);
		break;
	default:
		break;
	}
}

/* A number in the width of the next parameter's type (none if variable). */
static __always_inline void __sk_put_num(struct sk_record *r, u64 v)
{
	u32 w;

	if (unlikely(r->overflow || r->idx >= r->nparams))
		return;
	w = sk_width[r->info->types[r->idx]];
	if (unlikely(w > r->cap - r->len)) {
		r->overflow = true;
		return;
	}
	sk_store_num(r->base + r->len, w, v);
	sk_set_len(r, w);
}

void sk_put_num(struct sk_record *r, u64 v)
{
	__sk_put_num(r, v);
}

/*
 * A parameter without a value: zero for fixed-size types, an empty FDLIST
 * (count 0), a DYN of index 0 holding 0, and length 0 for other variable-size
 * types, as the reference does when a value is unavailable.
 */
void sk_put_empty(struct sk_record *r)
{
	static const u8 zero[9];

	switch (sk_cur_type(r)) {
	case SK_PT_FDLIST:
		__sk_put(r, zero, 2);
		break;
	case SK_PT_DYN:
		__sk_put(r, zero, 9);
		break;
	default:
		__sk_put_num(r, 0);
		break;
	}
}

/* Complete a record: every parameter not written yet, empty. */
void sk_record_fill_rest(struct sk_record *r)
{
	while (!r->overflow && r->idx < r->nparams)
		sk_put_empty(r);
}

/*
 * Read user memory without faulting; a fault marks the record. This is
 * copy_from_user_nofault() without the hardened-usercopy object check (for a
 * destination in the ring, which is vmap'd, a search of the kernel's vmap
 * areas on every copy): the callers bound every copy by the record's room or
 * their own stack buffer.
 */
static __always_inline bool __sk_copy_user(void *dst, unsigned long src,
					   unsigned long len)
{
	unsigned long left = len;

	if (likely(access_ok((const void __user *)src, len))) {
		pagefault_disable();
		left = raw_copy_from_user(dst, (const void __user *)src, len);
		pagefault_enable();
	}
	return !left;
}

int sk_copy_user(struct sk_record *r, void *dst, unsigned long src,
		 unsigned long len)
{
	if (likely(__sk_copy_user(dst, src, len)))
		return 0;
	r->fault = true;
	return -EFAULT;
}

void sk_put_str(struct sk_record *r, const char *s)
{
	__sk_put(r, s, strnlen(s, SK_MAX_PATH - 1) + 1);
}

/*
 * Copy a NUL-terminated user string of at most count bytes without faulting
 * (a string ending before an unmapped page is read). Returns its length
 * without the NUL (count if none was found within count bytes), or -EFAULT
 * (sk_strncpy_user: after marking the record).
 *
 * strncpy_from_user() without the hardened-usercopy object check of the
 * destination (as sk_copy_user; in the ring, it would search the vmap areas
 * for every path): a word at a time while a whole word fits in count, the
 * rest, and the words after a fault (a word crossing into an unmapped page
 * past the NUL), a byte at a time. Nothing is written past dst + count.
 */
static __always_inline long __sk_strncpy_user(u8 *dst, unsigned long src,
					     long count)
{
	const struct word_at_a_time zc = WORD_AT_A_TIME_CONSTANTS;
	long max, n = 0;

	if (unlikely(count <= 0))
		return 0;
	if (unlikely(src >= TASK_SIZE_MAX))
		goto fault;
	/* A string may end before the end of the address space. */
	max = min_t(unsigned long, count, TASK_SIZE_MAX - src);
	pagefault_disable();
	if (unlikely(!user_access_begin((const char __user *)src, max))) {
		pagefault_enable();
		goto fault;
	}
	while (max - n >= (long)sizeof(unsigned long)) {
		unsigned long c, data;

		unsafe_get_user(c, (unsigned long __user *)(src + n), bytes);
		if (has_zero(c, &data, &zc)) {
			data = prep_zero_mask(c, data, &zc);
			data = create_zero_mask(data);
			put_unaligned(c & zero_bytemask(data),
				      (unsigned long *)(dst + n));
			n += find_zero(data);
			goto done;
		}
		put_unaligned(c, (unsigned long *)(dst + n));
		n += sizeof(unsigned long);
	}
bytes:
	while (n < max) {
		u8 c;

		unsafe_get_user(c, (const u8 __user *)(src + n), efault);
		dst[n] = c;
		if (!c)
			goto done;
		n++;
	}
	if (max < count)
		goto efault;	/* no NUL before the end of user space */
done:
	user_access_end();
	pagefault_enable();
	return n;
efault:
	user_access_end();
	pagefault_enable();
fault:
	return -EFAULT;
}

long sk_strncpy_user(struct sk_record *r, u8 *dst, unsigned long src,
		     long count)
{
	long n = __sk_strncpy_user(dst, src, count);

	if (unlikely(n < 0))
		r->fault = true;
	return n;
}

/* A NUL-terminated user string; NULL gives "(NULL)", a fault an empty one. */
void sk_put_user_str(struct sk_record *r, unsigned long uptr)
{
	u32 room;
	u8 *dst;
	long n;

	if (!uptr) {
		sk_put_str(r, "(NULL)");
		return;
	}
	dst = __sk_put_open(r, &room);
	if (!dst)
		return;
	room = min(room, SK_MAX_PATH);
	if (!room) {
		r->overflow = true;
		return;
	}
	n = sk_strncpy_user(r, dst, uptr, room);
	if (n < 0) {
		sk_set_len(r, 0);
		return;
	}
	if (n >= room) {
		if (room < SK_MAX_PATH) {
			r->overflow = true;
			return;
		}
		n = room - 1;
	}
	dst[n] = 0;
	sk_set_len(r, n + 1);
}

void sk_put_user_buf(struct sk_record *r, unsigned long uptr, u32 len)
{
	u32 room;
	u8 *dst = __sk_put_open(r, &room);

	if (!dst)
		return;
	if (len > room) {
		r->overflow = true;
		return;
	}
	if (len && sk_copy_user(r, dst, uptr, len))
		len = 0;
	sk_set_len(r, len);
}

/* Gather up to limit bytes of an iovec array into one BYTEBUF. */
static void sk_put_iov(struct sk_record *r, unsigned long uiov,
		       unsigned long cnt, u64 limit)
{
	struct iovec iov[SK_MAX_IOV];
	u32 room, got = 0;
	unsigned long i;
	u8 *dst = __sk_put_open(r, &room);

	if (!dst)
		return;
	cnt = min_t(unsigned long, cnt, SK_MAX_IOV);
	if (sk_copy_user(r, iov, uiov, cnt * sizeof(*iov))) {
		sk_set_len(r, 0);
		return;
	}
	for (i = 0; i < cnt && got < limit; i++) {
		u32 n = min_t(u64, iov[i].iov_len, limit - got);

		if (got + n > room) {
			r->overflow = true;
			return;
		}
		if (sk_copy_user(r, dst + got,
				 (unsigned long)iov[i].iov_base, n))
			break;
		got += n;
	}
	sk_set_len(r, got);
}

static u64 sk_iov_len(struct sk_record *r, unsigned long uiov,
		      unsigned long cnt)
{
	struct iovec iov[SK_MAX_IOV];
	u64 total = 0;
	unsigned long i;

	cnt = min_t(unsigned long, cnt, SK_MAX_IOV);
	if (sk_copy_user(r, iov, uiov, cnt * sizeof(*iov)))
		return 0;
	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

static int sk_get_msghdr(struct sk_record *r, unsigned long umsg,
			 struct user_msghdr *m)
{
	return sk_copy_user(r, m, umsg, sizeof(*m));
}

/*
 * The device of a descriptor of the current task. Called from the probes,
 * with preemption disabled: that is an RCU read-side critical section (one
 * RCU since 4.20), which is what the lookup needs, without the calls of
 * rcu_read_lock() under CONFIG_PREEMPT_RCU.
 */
static __always_inline u32 sk_fd_dev(long fd)
{
	struct files_struct *files = current->files;
	struct file *file;

	if (fd < 0 || !files)
		return 0;
	file = files_lookup_fd_raw(files, fd);
	if (file && file->f_inode && file->f_inode->i_sb)
		return new_encode_dev(file->f_inode->i_sb->s_dev);
	return 0;
}

static u64 sk_fd_ino(long fd)
{
	struct file *file;
	u64 ino = 0;

	if (fd < 0 || !current->files)
		return 0;
	rcu_read_lock();
	file = files_lookup_fd_rcu(current->files, fd);
	if (file && file->f_inode)
		ino = file->f_inode->i_ino;
	rcu_read_unlock();
	return ino;
}

static u32 sk_mode_bits(unsigned long mode)
{
	return mode & 07777;	/* PPM_S_* equal the octal mode bits */
}

static u32 sk_create_mode(unsigned long flags, unsigned long mode)
{
	return flags & (O_CREAT | __O_TMPFILE) ? sk_mode_bits(mode) : 0;
}

static u32 sk_resolve_flags(u64 v)
{
	u32 res = 0;

	if (v & RESOLVE_BENEATH)
		res |= 1 << 0;
	if (v & RESOLVE_IN_ROOT)
		res |= 1 << 1;
	if (v & RESOLVE_NO_MAGICLINKS)
		res |= 1 << 2;
	if (v & RESOLVE_NO_SYMLINKS)
		res |= 1 << 3;
	if (v & RESOLVE_NO_XDEV)
		res |= 1 << 4;
	if (v & RESOLVE_CACHED)
		res |= 1 << 5;
	return res;
}

static void sk_put_how(struct sk_record *r, unsigned long uhow, int field)
{
	struct open_how how = {};

	if (sk_copy_user(r, &how, uhow, sizeof(how)))
		memset(&how, 0, sizeof(how));
	if (field == 0)
		__sk_put_num(r, sk_open_flags(how.flags));
	else if (field == 1)
		__sk_put_num(r, sk_create_mode(how.flags, how.mode));
	else
		__sk_put_num(r, sk_resolve_flags(how.resolve));
}

static u32 sk_execveat_flags(unsigned long flags)
{
	u32 res = 0;

	if (flags & AT_EMPTY_PATH)
		res |= 1 << 0;
	if (flags & AT_SYMLINK_NOFOLLOW)
		res |= 1 << 1;
	return res;
}

/* An argument as a value of the current parameter's type. */
static __always_inline u64 sk_arg_value(u8 type, unsigned long v)
{
	switch (type) {
	case SK_PT_FD: case SK_PT_PID: case SK_PT_ERRNO:
		return (u64)(s64)(s32)v;	/* int in the syscall ABI */
	default:
		return v;
	}
}

static void sk_put_user_int(struct sk_record *r, unsigned long uptr, int i)
{
	s32 v;

	if (!uptr || sk_copy_user(r, &v, uptr + i * sizeof(v), sizeof(v)))
		v = 0;
	__sk_put_num(r, (u64)(s64)v);
}

static void sk_put_msg(struct sk_record *r, struct sk_call *c,
		       const struct sk_src *s)
{
	struct user_msghdr m;

	if (sk_get_msghdr(r, c->args[s->arg], &m)) {
		sk_put_empty(r);
		return;
	}
	if (s->op == SK_MSGLEN) {
		__sk_put_num(r, sk_iov_len(r, (unsigned long)m.msg_iov,
					   m.msg_iovlen));
	} else if (s->op == SK_WMSG) {
		sk_put_iov(r, (unsigned long)m.msg_iov, m.msg_iovlen, c->snaplen);
	} else if (c->ret > 0) {
		sk_put_iov(r, (unsigned long)m.msg_iov, m.msg_iovlen,
			   min_t(u64, c->ret, c->snaplen));
	} else {
		sk_put_user_buf(r, 0, 0);
	}
}

u64 sk_vm_kib(int field)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return 0;
	if (field == 0)
		return mm->total_vm << (PAGE_SHIFT - 10);
	if (field == 1)
		return get_mm_rss(mm) << (PAGE_SHIFT - 10);
	return get_mm_counter(mm, MM_SWAPENTS) << (PAGE_SHIFT - 10);
}

static u64 sk_user_u64(struct sk_record *r, unsigned long uptr, int index)
{
	u64 v;

	if (!uptr || sk_copy_user(r, &v, uptr + index * sizeof(v), sizeof(v)))
		return 0;
	return v;
}

/*
 * semop: field aux % 3 (sem_num, sem_op, sem_flg as PPM_*) of element
 * aux / 3 of the sembuf array at uptr holding n elements; 0 past the end.
 */
static u64 sk_sembuf_field(struct sk_record *r, unsigned long uptr,
			   unsigned long n, int aux)
{
	struct sembuf sb;
	unsigned long i = aux / 3;

	if (!uptr || i >= n ||
	    sk_copy_user(r, &sb, uptr + i * sizeof(sb), sizeof(sb)))
		return 0;
	switch (aux % 3) {
	case 0:
		return sb.sem_num;
	case 1:
		return (u64)(s64)sb.sem_op;
	default:
		return sk_semop_flags((u16)sb.sem_flg);
	}
}

/* FDLIST: u16 count, then per fd an s64 fd and u16 PPM_POLL* flags. */
static void sk_put_pollfds(struct sk_record *r, unsigned long ufds,
			   unsigned long nfds, bool exit)
{
	struct pollfd fds[SK_MAX_POLLFDS];
	u32 room, i, n = min_t(unsigned long, nfds, SK_MAX_POLLFDS);
	u8 *dst = __sk_put_open(r, &room);

	if (!dst)
		return;
	if (room < 2 + n * 10) {
		r->overflow = true;
		return;
	}
	if (!ufds || sk_copy_user(r, fds, ufds, n * sizeof(*fds)))
		n = 0;
	put_unaligned((u16)n, (u16 *)dst);
	for (i = 0; i < n; i++) {
		put_unaligned((s64)fds[i].fd, (s64 *)(dst + 2 + i * 10));
		put_unaligned((u16)sk_poll_events(exit ? fds[i].revents :
						  fds[i].events),
			      (u16 *)(dst + 2 + i * 10 + 8));
	}
	sk_put_close(r, 2 + n * 10);
}

/* PT_DYN: the index of the value's type, then the value (little endian). */
static void sk_put_dyn(struct sk_record *r, u8 idx, u64 v, u32 width)
{
	u8 b[9];

	b[0] = idx;
	put_unaligned(v, (u64 *)(b + 1));
	__sk_put(r, b, 1 + width);
}

/* ptrace data: the word read for PEEK*, a signal for resuming requests. */
static void sk_put_ptrace_data(struct sk_record *r, struct sk_call *c)
{
	unsigned long data = c->args[3];
	u64 word;

	if (c->ret < 0) {
		sk_put_dyn(r, 0, 0, 8);
		return;
	}
	switch (sk_ptrace_req(c->args[0])) {
	case 2: case 3: case 4:		/* PEEKTEXT, PEEKDATA, PEEKUSR */
		if (sk_copy_user(r, &word, data, sizeof(word)))
			word = 0;
		sk_put_dyn(r, 0, word, 8);
		break;
	case 8: case 10: case 12: case 13:	/* CONT, SINGLESTEP, DETACH, SYSCALL */
		sk_put_dyn(r, 1, data, 1);
		break;
	default:
		sk_put_dyn(r, 0, data, 8);
		break;
	}
}

/* A parameter of the other sources: variable-size, or read from user memory. */
static noinline void sk_put_src(struct sk_record *r, struct sk_call *c,
				const struct sk_src *s)
{
	unsigned long a = c->args[s->arg & 7];
	unsigned long b = c->args[(s->arg + 1) & 7];

	switch (s->op) {
	case SK_USTR:
		sk_put_user_str(r, a);
		break;
	case SK_RBUF:
		sk_put_user_buf(r, a, c->ret > 0 ? min_t(u64, c->ret, c->snaplen) : 0);
		break;
	case SK_WBUF:
		sk_put_user_buf(r, a, min_t(u64, b, c->snaplen));
		break;
	case SK_RIOV:
		sk_put_iov(r, a, b, c->ret > 0 ? min_t(u64, c->ret, c->snaplen) : 0);
		break;
	case SK_WIOV:
		sk_put_iov(r, a, b, c->snaplen);
		break;
	case SK_IOVLEN:
		__sk_put_num(r, sk_iov_len(r, a, b));
		break;
	case SK_SOCKADDR:
		sk_put_sockaddr(r, a, b);
		break;
	case SK_TUPLE_RET:
		sk_put_tuple_in(r, c->ret);
		break;
	case SK_TUPLE_UA:
		sk_put_tuple_addr(r, (s32)c->args[0], a, b, false);
		break;
	case SK_TUPLE_UAP: {
		u32 len;

		if (!b || sk_copy_user(r, &len, b, sizeof(len)))
			len = 0;
		sk_put_tuple_addr(r, (s32)c->args[0], a, len, true);
		break;
	}
	case SK_TUPLE_MSG: {
		struct user_msghdr m;

		if (sk_get_msghdr(r, a, &m))
			memset(&m, 0, sizeof(m));
		sk_put_tuple_addr(r, (s32)c->args[0], (unsigned long)m.msg_name,
				  m.msg_namelen, s->aux);
		break;
	}
	case SK_UFD:
		sk_put_user_int(r, a, s->aux);
		break;
	case SK_HOW:
		sk_put_how(r, a, s->aux);
		break;
	case SK_QUEUE:
		sk_put_queue(r, (s32)c->args[0], s->aux);
		break;
	case SK_MSGLEN:
	case SK_RMSG:
	case SK_WMSG:
		sk_put_msg(r, c, s);
		break;
	case SK_UNIXPAIR:
		sk_put_unix_pair(r, c->ret == 0 ? a : 0, s->aux);
		break;
	case SK_PIPEINO: {
		s32 fd;

		if (sk_copy_user(r, &fd, a, sizeof(fd)))
			fd = -1;
		__sk_put_num(r, c->ret == 0 ? sk_fd_ino(fd) : 0);
		break;
	}
	case SK_RLIM:
		__sk_put_num(r, sk_user_u64(r, a, s->aux));
		break;
	case SK_POLLFDS:
		sk_put_pollfds(r, a, b, s->aux);
		break;
	case SK_TIMESPEC: {
		struct __kernel_timespec ts;

		if (!a || sk_copy_user(r, &ts, a, sizeof(ts)))
			memset(&ts, 0, sizeof(ts));
		__sk_put_num(r, ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec);
		break;
	}
	case SK_SOVAL: {
		unsigned long ulen = c->args[(s->arg + 3) & 7];
		u32 len = ulen;

		/* getsockopt: the length is at a user pointer */
		if (s->aux && (!ulen || sk_copy_user(r, &len, ulen, 4)))
			len = 0;
		sk_put_sockopt_val(r, a, b, c->args[(s->arg + 2) & 7], len,
				   c->snaplen);
		break;
	}
	case SK_SEMBUF:
		__sk_put_num(r, sk_sembuf_field(r, a, b, s->aux));
		break;
	case SK_PTRACE_ADDR:
		sk_put_dyn(r, 0, c->ret < 0 ? 0 : a, 8);
		break;
	case SK_PTRACE_DATA:
		sk_put_ptrace_data(r, c);
		break;
	case SK_BPFRES:
		/* index 0: fd (BPF_MAP_CREATE, BPF_PROG_LOAD), 1: result */
		sk_put_dyn(r, c->ret >= 0 && (a == BPF_MAP_CREATE ||
			   a == BPF_PROG_LOAD) ? 0 : 1, c->ret, 8);
		break;
	default:
		sk_put_empty(r);
		break;
	}
}

/*
 * The value of a fixed-size parameter computed from the registers and the
 * task without reading user memory: true with *v set, false for the other
 * sources (sk_put_src).
 */
static __always_inline bool sk_src_num(struct sk_call *c,
				       const struct sk_src *s, unsigned int i,
				       u8 type, u64 *v)
{
	unsigned long a = c->args[s->arg & 7];

	/* The most common sources first, before the search of the switch. */
	if (likely(s->op == SK_ARG)) {
		*v = sk_arg_value(type, a);
		return true;
	}
	if (likely(s->op == SK_RET)) {
		*v = (u64)c->ret;
		return true;
	}
	switch (s->op) {
	case SK_DEFAULT:
		if (i != 0)
			return false;
		*v = c->is_exit ? (u64)c->ret : sk_arg_value(type, a);
		return true;
	case SK_OFLAGS:
		*v = sk_open_flags(a);
		return true;
	case SK_OMODE:
		*v = sk_create_mode(c->args[(s->arg - 1) & 7], a);
		return true;
	case SK_CMODE:
		*v = sk_create_mode(O_CREAT, a);
		return true;
	case SK_MODE:
		*v = sk_mode_bits(a);
		return true;
	case SK_DEV:
		*v = sk_fd_dev(c->ret);
		return true;
	case SK_CLFLAGS:
		*v = sk_clone_flags(a);
		return true;
	case SK_MSFLAGS:
		if ((a & MS_MGC_MSK) == MS_MGC_VAL)
			a &= ~MS_MGC_MSK;
		*v = a;
		return true;
	case SK_EXVAT:
		*v = sk_execveat_flags(a);
		return true;
	case SK_FCNTL:
		*v = sk_fcntl_cmd(a);
		return true;
	case SK_PTRACE:
		*v = sk_ptrace_req(a);
		return true;
	case SK_PROT:
		*v = sk_mmap_prot(a);
		return true;
	case SK_MAPFL:
		*v = sk_mmap_flags(a);
		return true;
	case SK_VM:
		*v = sk_vm_kib(s->aux);
		return true;
	case SK_PPMSC:
		*v = c->sc->ppm_sc;
		return true;
	case SK_NR:
		*v = c->nr;
		return true;
	case SK_SEMGETFL:
		*v = sk_semget_flags(a);
		return true;
	case SK_SPLICEFL:
		*v = sk_splice_flags(a);
		return true;
	case SK_SOLEVEL:
		*v = sk_sockopt_level(a);
		return true;
	case SK_SONAME:
		*v = sk_sockopt_name(a, c->args[(s->arg + 1) & 7]);
		return true;
	case SK_SEMCTL:
		*v = sk_semctl_cmd(a);
		return true;
	case SK_SEMVAL:
		*v = c->args[(s->arg - 1) & 7] == SETVAL ? a : 0;
		return true;
	default:
		return false;
	}
}

/*
 * The parameters of a syscall event. Fixed-size values are written here
 * with the record's position kept in registers; the other sources write
 * through the record (sk_put_src), which is synchronised around them.
 */
static __always_inline void sk_fill_syscall(struct sk_record *r,
					    struct sk_call *c)
{
	const struct sk_event_fill *f = &sk_fills[r->type];
	const u8 *types = r->info->types;
	u8 *base = r->base;
	u16 *lens = (u16 *)(base + sizeof(struct saker_evt_hdr));
	unsigned int i = r->idx, n = r->nparams;
	u32 len = r->len, cap = r->cap;

	if (f->fn) {
		f->fn(r, c);
		return;
	}
	while (i < n) {
		const struct sk_src *s = &f->src[i];
		u8 type = types[i];
		u64 v;
		u32 w;

		if (!sk_src_num(c, s, i, type, &v)) {
			r->len = len;
			r->idx = i;
			/* paths, the most frequent, without the switch */
			if (s->op == SK_USTR)
				sk_put_user_str(r, c->args[s->arg & 7]);
			else
				sk_put_src(r, c, s);
			if (unlikely(r->idx == i && !r->overflow))
				sk_put_empty(r); /* a writer wrote nothing */
			if (r->overflow)
				return;
			len = r->len;
			i = r->idx;
			continue;
		}
		w = sk_width[type];
		if (likely(cap - len >= sizeof(u64))) {
			/*
			 * All 8 bytes in one store: the ones past the width are
			 * written over by what follows or left in the padding
			 * (unspecified) or in free space.
			 */
			put_unaligned(v, (u64 *)(base + len));
		} else if (w <= cap - len) {
			sk_store_num(base + len, w, v);
		} else {
			r->overflow = true;
			return;
		}
		lens[i] = w;
		len += w;
		i++;
	}
	r->len = len;
	r->idx = i;
}

/*
 * The fast paths: records of a constant layout written in place, the same
 * bytes as the table-driven fill writes (which the other events take).
 */

/* Header and parameter lengths of a record of n parameters. */
#define SK_HDR_LEN(n) (sizeof(struct saker_evt_hdr) + (n) * sizeof(u16))

/* The schema's open flags; the access mode alone without a call. */
static __always_inline u32 sk_oflags(unsigned long flags)
{
	static const u8 acc[4] = { 1, 2, 3, 1 };	/* RDONLY, WRONLY, RDWR */

	if (likely(!(flags & ~O_ACCMODE)))
		return acc[flags & O_ACCMODE];
	return sk_open_flags(flags);
}

/*
 * Reserve size bytes (a whole record, padding included) at the head of the
 * ring: true with the record's start in *p, or false after counting a
 * full-ring drop (as sk_record_begin and sk_record_commit count a record
 * that does not fit).
 */
static __always_inline bool sk_fixed_begin(struct sk_ring *ring, u64 size,
					   u64 *head, u8 **p)
{
	if (unlikely(size > sk_ring_room(ring, head))) {
		sk_count(&ring->prod->n_drops_full);
		return false;
	}
	*p = ring->data + (*head & ring->mask);
	return true;
}

/* Write the header and publish a record reserved by sk_fixed_begin. */
static __always_inline void sk_fixed_commit(struct sk_ring *ring, u8 *base,
					    u64 head, u32 len, u16 type,
					    u32 nparams, u64 ts)
{
	struct saker_ring_producer *prod = ring->prod;
	struct saker_evt_hdr *hdr = (struct saker_evt_hdr *)base;

	hdr->ts = ts;
	hdr->tid = current->pid;
	put_unaligned(len, &hdr->len);
	put_unaligned(type, &hdr->type);
	put_unaligned(nparams, &hdr->nparams);
	sk_count(&prod->n_evts);
	/* Pairs with the consumer's load-acquire of head. */
	smp_store_release(&prod->head, head + SAKER_RECORD_SIZE((u64)len));
}

/*
 * open and openat: [fd,] [dirfd,] name, flags, mode[, dev] (the fd and the
 * dev in the exit events). Taken when the ring has room for the longest
 * name (false otherwise, and for the other events): the name is then never
 * cut short by the room, and the record is the table-driven fill's.
 */
static __always_inline bool __sk_fast_open(struct sk_ring *ring,
					   struct pt_regs *regs, long ret,
					   u16 type, u64 ts, bool at, bool exit)
{
	struct saker_ring_producer *prod = ring->prod;
	unsigned long name, flags, mode;
	u32 np, pos, len, i = 0;
	bool fault = false;
	u64 head;
	u16 *lens;
	u8 *p;
	long n;

	if (at) {
		name = regs->si;
		flags = regs->dx;
		mode = regs->r10;
	} else {
		name = regs->di;
		flags = regs->si;
		mode = regs->dx;
	}
	np = 3 + at + 2 * exit;
	if (unlikely(sk_ring_room(ring, &head) <
		     SAKER_RECORD_SIZE(SK_HDR_LEN(6) + 16 + SK_MAX_PATH + 12)))
		return false;
	p = ring->data + (head & ring->mask);
	lens = (u16 *)(p + SK_HDR_LEN(0));
	/* flags, mode[, dev]; a 4th u16 is written over by the values */
	if (exit)
		put_unaligned(0x000400040004ULL, (u64 *)&lens[np - 3]);
	else
		put_unaligned(0x00040004U, (u32 *)&lens[np - 2]);
	pos = SK_HDR_LEN(np);
	if (exit) {
		put_unaligned((u64)ret, (u64 *)(p + pos));
		lens[i++] = 8;
		pos += 8;
	}
	if (at) {
		put_unaligned((s64)(s32)regs->di, (s64 *)(p + pos));
		lens[i++] = 8;
		pos += 8;
	}
	if (!name) {
		memcpy(p + pos, "(NULL)", 7);
		len = 7;
	} else {
		n = __sk_strncpy_user(p + pos, name, SK_MAX_PATH);
		if (unlikely(n < 0)) {
			fault = true;
			len = 0;
		} else {
			if (unlikely(n >= SK_MAX_PATH))
				n = SK_MAX_PATH - 1;
			p[pos + n] = 0;
			len = n + 1;
		}
	}
	lens[i] = len;
	pos += len;
	put_unaligned(sk_oflags(flags), (u32 *)(p + pos));
	put_unaligned(flags & (O_CREAT | __O_TMPFILE) ? (u32)(mode & 07777) : 0,
		      (u32 *)(p + pos + 4));
	pos += 8;
	if (exit) {
		put_unaligned(sk_fd_dev(ret), (u32 *)(p + pos));
		pos += 4;
	}
	if (unlikely(fault))
		sk_count(&prod->n_drops_fault);
	sk_fixed_commit(ring, p, head, pos, type, np, ts);
	return true;
}

/* One copy of the above per event, each with its own constant layout. */
static __always_inline bool sk_fast_open(struct sk_ring *ring,
					 struct pt_regs *regs, long ret,
					 u16 type, u64 ts)
{
	switch (type) {
	case SAKER_EVT_SYSCALL_OPENAT_2_X:
		return __sk_fast_open(ring, regs, ret, type, ts, true, true);
	case SAKER_EVT_SYSCALL_OPENAT_2_E:
		return __sk_fast_open(ring, regs, ret, type, ts, true, false);
	case SAKER_EVT_SYSCALL_OPEN_X:
		return __sk_fast_open(ring, regs, ret, type, ts, false, true);
	case SAKER_EVT_SYSCALL_OPEN_E:
		return __sk_fast_open(ring, regs, ret, type, ts, false, false);
	default:
		return false;
	}
}

/*
 * read, pread, write and pwrite exits: res, then n bytes of the buffer at
 * ubuf (the snaplen's share of the result or of the size). Taken when the
 * ring has room for them (false otherwise): the record is then the
 * table-driven fill's.
 */
static __always_inline bool sk_fast_buf_x(struct sk_ring *ring,
					  unsigned long ubuf, u32 n, long ret,
					  u16 type, u64 ts)
{
	struct saker_ring_producer *prod = ring->prod;
	u32 len = SK_HDR_LEN(2) + 8 + n;
	u64 head;
	u8 *p;

	/* n is at most the snaplen: its length fits in the u16 */
	BUILD_BUG_ON(SK_MAX_SNAPLEN > U16_MAX);
	if (unlikely(sk_ring_room(ring, &head) < SAKER_RECORD_SIZE((u64)len)))
		return false;
	p = ring->data + (head & ring->mask);
	put_unaligned((u64)ret, (u64 *)(p + SK_HDR_LEN(2)));
	if (n && unlikely(!__sk_copy_user(p + SK_HDR_LEN(2) + 8, ubuf, n))) {
		n = 0;
		len = SK_HDR_LEN(2) + 8;
		sk_count(&prod->n_drops_fault);
	}
	put_unaligned(8 | n << 16, (u32 *)(p + SK_HDR_LEN(0)));
	sk_fixed_commit(ring, p, head, len, type, 2, ts);
	return true;
}

/*
 * Fast path classes of the events sk_fast_small does not name: none; one 8-byte
 * parameter from the table's default source, an int argument (sign
 * extended) or another type; open and openat; the exits of read and pread,
 * of write and pwrite.
 */
enum {
	SK_FAST_NONE, SK_FAST_INT8, SK_FAST_RAW8, SK_FAST_OPEN,
	SK_FAST_RBUF, SK_FAST_WBUF
};

/* Per event, from the schema and fill tables (sk_fill_init). */
static u8 sk_fast_class[SAKER_EVT_MAX] __ro_after_init;

static u8 __init sk_fast_classify(u16 type)
{
	const struct sk_event_info *info = &sk_schema[type];

	if (type == SAKER_EVT_SYSCALL_OPENAT_2_X ||
	    type == SAKER_EVT_SYSCALL_OPENAT_2_E ||
	    type == SAKER_EVT_SYSCALL_OPEN_X ||
	    type == SAKER_EVT_SYSCALL_OPEN_E)
		return SK_FAST_OPEN;
	if (type == SAKER_EVT_SYSCALL_READ_X ||
	    type == SAKER_EVT_SYSCALL_PREAD_X)
		return SK_FAST_RBUF;
	if (type == SAKER_EVT_SYSCALL_WRITE_X ||
	    type == SAKER_EVT_SYSCALL_PWRITE_X)
		return SK_FAST_WBUF;
	if (info->nparams != 1 || sk_fills[type].fn ||
	    sk_fills[type].src[0].op != SK_DEFAULT ||
	    sk_width[info->types[0]] != 8)
		return SK_FAST_NONE;
	/* as sk_arg_value */
	switch (info->types[0]) {
	case SK_PT_FD: case SK_PT_PID: case SK_PT_ERRNO:
		return SK_FAST_INT8;
	default:
		return SK_FAST_RAW8;
	}
}

/*
 * Events of one to two fixed-size parameters taken from the registers:
 * generic syscalls, read and write enters, and every event whose one 8-byte
 * parameter is the table's default (the return value of an exit, the first
 * argument of an enter); and open and openat (sk_fast_open), read and write
 * exits (sk_fast_buf_x). False for the other events.
 */
static __always_inline bool sk_fast_small(struct sk_session *s,
					  struct sk_ring *ring,
					  const struct sk_syscall_entry *sc,
					  struct pt_regs *regs, long nr,
					  long ret, bool is_exit, u16 type,
					  u64 ts)
{
	u64 head;
	u8 *p, cls;
	u64 v;

	switch (type) {
	case SAKER_EVT_GENERIC_E:
		if (sk_fixed_begin(ring, SAKER_RECORD_SIZE(SK_HDR_LEN(2) + 4),
				   &head, &p)) {
			put_unaligned(0x00020002U, (u32 *)(p + SK_HDR_LEN(0)));
			put_unaligned(sc->ppm_sc, (u16 *)(p + SK_HDR_LEN(2)));
			put_unaligned((u16)nr, (u16 *)(p + SK_HDR_LEN(2) + 2));
			sk_fixed_commit(ring, p, head, SK_HDR_LEN(2) + 4, type,
					2, ts);
		}
		return true;
	case SAKER_EVT_GENERIC_X:
		if (sk_fixed_begin(ring, SAKER_RECORD_SIZE(SK_HDR_LEN(1) + 2),
				   &head, &p)) {
			put_unaligned((u16)2, (u16 *)(p + SK_HDR_LEN(0)));
			put_unaligned(sc->ppm_sc, (u16 *)(p + SK_HDR_LEN(1)));
			sk_fixed_commit(ring, p, head, SK_HDR_LEN(1) + 2, type,
					1, ts);
		}
		return true;
	case SAKER_EVT_SYSCALL_READ_E:
	case SAKER_EVT_SYSCALL_WRITE_E:
		/* fd (PT_FD), size (PT_UINT32) */
		if (sk_fixed_begin(ring, SAKER_RECORD_SIZE(SK_HDR_LEN(2) + 12),
				   &head, &p)) {
			put_unaligned(0x00040008U, (u32 *)(p + SK_HDR_LEN(0)));
			put_unaligned((s64)(s32)regs->di,
				      (s64 *)(p + SK_HDR_LEN(2)));
			put_unaligned((u32)regs->dx,
				      (u32 *)(p + SK_HDR_LEN(2) + 8));
			sk_fixed_commit(ring, p, head, SK_HDR_LEN(2) + 12, type,
					2, ts);
		}
		return true;
	default:
		break;
	}
	cls = sk_fast_class[type];
	if (cls == SK_FAST_OPEN)
		return sk_fast_open(ring, regs, ret, type, ts);
	if (cls == SK_FAST_RBUF)
		return sk_fast_buf_x(ring, regs->si, ret > 0 ?
				     min_t(u64, ret, READ_ONCE(s->snaplen)) : 0,
				     ret, type, ts);
	if (cls == SK_FAST_WBUF)
		return sk_fast_buf_x(ring, regs->si,
				     min_t(u64, regs->dx, READ_ONCE(s->snaplen)),
				     ret, type, ts);
	if (cls == SK_FAST_NONE)
		return false;
	if (is_exit)
		v = ret;
	else if (cls == SK_FAST_INT8)
		v = (s64)(s32)regs->di;
	else
		v = regs->di;
	if (sk_fixed_begin(ring, SAKER_RECORD_SIZE(SK_HDR_LEN(1) + 8), &head,
			   &p)) {
		put_unaligned((u16)8, (u16 *)(p + SK_HDR_LEN(0)));
		put_unaligned(v, (u64 *)(p + SK_HDR_LEN(1)));
		sk_fixed_commit(ring, p, head, SK_HDR_LEN(1) + 8, type, 1, ts);
	}
	return true;
}

/* The fast path class of every event. */
void __init sk_fill_init(void)
{
	u16 type;

	for (type = 0; type < SAKER_EVT_MAX; type++)
		sk_fast_class[type] = sk_fast_classify(type);
}

/*
 * The events without a fast path: the table-driven fill. Out of line, so
 * that the small events' frame stays light.
 */
static noinline void sk_event_other(struct sk_session *s,
				    struct sk_ring *ring,
				    const struct sk_syscall_entry *sc,
				    struct pt_regs *regs, long nr, long ret,
				    bool is_exit, u16 type, u64 ts)
{
	/* In the ring, not on the stack: no zeroing of locals per event. */
	struct sk_record *r = &ring->rec;
	struct sk_call *c = &ring->call;

	if (sk_record_begin(ring, r, type))
		return;
	/* Native syscalls only (sk_wanted): no compat mapping. */
	c->args[0] = regs->di;
	c->args[1] = regs->si;
	c->args[2] = regs->dx;
	c->args[3] = regs->r10;
	c->args[4] = regs->r8;
	c->args[5] = regs->r9;
	c->args[6] = 0;
	c->args[7] = 0;
	c->sc = sc;
	c->nr = nr;
	c->ret = ret;
	c->is_exit = is_exit;
	c->snaplen = READ_ONCE(s->snaplen);
	sk_fill_syscall(r, c);
	sk_record_commit(r, ts, current->pid);
}

/*
 * One syscall event, from the probes once the syscall is known to be of
 * interest (every other syscall skips this frame's set-up).
 */
noinline notrace void sk_syscall_event(struct sk_session *s,
				       struct pt_regs *regs, long nr, long ret,
				       bool is_exit)
{
	const struct sk_syscall_entry *sc = &sk_syscalls[nr];
	u16 type = is_exit ? sc->exit_event : sc->enter_event;
	struct sk_ring *ring;
	u64 ts;

	preempt_disable_notrace();
	ring = sk_ring_get(s);
	if (!ring)
		goto out;
	ts = sk_clock(ring);
	if (!sk_fast_small(s, ring, sc, regs, nr, ret, is_exit, type, ts))
		sk_event_other(s, ring, sc, regs, nr, ret, is_exit, type, ts);
	sk_ring_put(ring);
out:
	preempt_enable_notrace();
}

/*
 * One event of the given type, its parameters written by fill(r, arg), in
 * this CPU's ring: for the events outside the syscall paths (process exits,
 * execs).
 */
void sk_event(struct sk_session *s, u16 type,
	      void (*fill)(struct sk_record *r, const void *arg),
	      const void *arg)
{
	struct sk_ring *ring;
	u64 ts;

	preempt_disable_notrace();
	ring = sk_ring_get(s);
	if (!ring)
		goto out;
	ts = sk_clock(ring);
	if (!sk_record_begin(ring, &ring->rec, type)) {
		fill(&ring->rec, arg);
		sk_record_commit(&ring->rec, ts, current->pid);
	}
	sk_ring_put(ring);
out:
	preempt_enable_notrace();
}

/*
 * The name the kernel gave a file executed relative to a descriptor
 * (/dev/fd/N/NAME, or /dev/fd/N with AT_EMPTY_PATH): execveat's; NULL for
 * any other (as given: absolute, or relative to the working directory).
 */
static const char *sk_exec_fdpath(const struct linux_binprm *bprm)
{
	const char *p = bprm->fdpath;

	return p && !strncmp(p, "/dev/fd/", 8) ? p : NULL;
}

/*
 * The enter event of a successful execve/execveat written late, once the
 * new program is in place, from the file the kernel executed: an execveat
 * enter event with dirfd N for a /dev/fd/N name, else an execve enter event.
 */
static void sk_fill_exec_enter(struct sk_record *r, const void *arg)
{
	const struct linux_binprm *bprm = arg;
	const char *fdpath = sk_exec_fdpath(bprm), *name;
	unsigned long flags = 0;
	long dirfd;
	char *end;

	if (!fdpath) {
		sk_put_str(r, bprm->filename);
		return;
	}
	dirfd = simple_strtol(fdpath + 8, &end, 10);
	if (*end == '/') {
		name = end + 1;
	} else {
		name = "";
		flags = AT_EMPTY_PATH;
	}
	sk_put_num(r, dirfd);
	sk_put_str(r, name);
	sk_put_num(r, sk_execveat_flags(flags));
}

/* See sk_probe_exec. */
void sk_exec_enter_event(struct sk_session *s,
			 const struct linux_binprm *bprm)
{
	long nr = sk_exec_fdpath(bprm) ? __NR_execveat : __NR_execve;

	if (test_bit(nr, s->late))
		sk_event(s, sk_syscalls[nr].enter_event, sk_fill_exec_enter,
			 bprm);
}
