// SPDX-License-Identifier: GPL-2.0
/*
 * fill.c - parameter writers and the table-driven syscall encoder.
 *
 * Every writer appends the next parameter of the record: its value after the
 * values already written and its length in the length array. A record that
 * runs out of room is marked overflowed and dropped at commit. User memory is
 * read with the _nofault helpers: probes run with preemption disabled and
 * never take a page fault; a fault stores an empty parameter.
 */
#include <linux/bpf.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <uapi/linux/mount.h>
#include <linux/openat2.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/time64.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <asm/unaligned.h>

#include "saker.h"

#define SK_MAX_IOV 32
#define SK_MAX_POLLFDS 16

static u32 sk_type_width(u8 type)
{
	switch (type) {
	case SK_PT_INT8: case SK_PT_UINT8: case SK_PT_FLAGS8: case SK_PT_SIGTYPE:
		return 1;
	case SK_PT_INT16: case SK_PT_UINT16: case SK_PT_FLAGS16:
	case SK_PT_SYSCALLID: case SK_PT_PORT:
		return 2;
	case SK_PT_INT32: case SK_PT_UINT32: case SK_PT_FLAGS32: case SK_PT_MODE:
	case SK_PT_UID: case SK_PT_GID: case SK_PT_SIGSET: case SK_PT_BOOL:
	case SK_PT_IPV4ADDR:
		return 4;
	case SK_PT_INT64: case SK_PT_UINT64: case SK_PT_ERRNO: case SK_PT_FD:
	case SK_PT_PID: case SK_PT_RELTIME: case SK_PT_ABSTIME:
		return 8;
	default:
		return 0;
	}
}

static u8 sk_cur_type(struct sk_record *r)
{
	return r->idx < r->nparams ? r->info->types[r->idx] : SK_PT_NONE;
}

static void sk_set_len(struct sk_record *r, u32 len)
{
	u8 *lens = r->base + sizeof(struct saker_evt_hdr);

	put_unaligned((u16)len, (u16 *)(lens + r->idx * sizeof(u16)));
	r->len += len;
	r->idx++;
}

/* Room for the next value, or NULL (record overflowed or complete). */
u8 *sk_put_open(struct sk_record *r, u32 *room)
{
	if (r->overflow || r->idx >= r->nparams)
		return NULL;
	*room = min_t(u32, r->cap - r->len, U16_MAX);
	return r->base + r->len;
}

void sk_put_close(struct sk_record *r, u32 len)
{
	sk_set_len(r, len);
}

void sk_put(struct sk_record *r, const void *val, u32 len)
{
	u32 room;
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	if (len > room) {
		r->overflow = true;
		return;
	}
	memcpy(dst, val, len);
	sk_set_len(r, len);
}

void sk_put_num(struct sk_record *r, u64 v)
{
	u32 w = sk_type_width(sk_cur_type(r));
	u8 b[8];

	switch (w) {
	case 1:
		b[0] = v;
		break;
	case 2:
		put_unaligned((u16)v, (u16 *)b);
		break;
	case 4:
		put_unaligned((u32)v, (u32 *)b);
		break;
	case 8:
		put_unaligned(v, (u64 *)b);
		break;
	default:
		break;
	}
	sk_put(r, b, w);
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
		sk_put(r, zero, 2);
		break;
	case SK_PT_DYN:
		sk_put(r, zero, 9);
		break;
	default:
		sk_put_num(r, 0);
		break;
	}
}

void sk_put_str(struct sk_record *r, const char *s)
{
	sk_put(r, s, strnlen(s, SK_MAX_PATH - 1) + 1);
}

/*
 * Copy a NUL-terminated user string of at most count bytes without faulting,
 * a page at a time so that a string ending before an unmapped page is read.
 * Returns its length without the NUL (count if none was found within count
 * bytes), or -EFAULT.
 */
long sk_strncpy_user(u8 *dst, unsigned long src, long count)
{
	long done = 0;

	while (done < count) {
		unsigned long addr = src + done;
		long chunk = min_t(long, count - done,
				   PAGE_SIZE - (addr & ~PAGE_MASK));
		u8 *nul;

		if (copy_from_user_nofault(dst + done, (const void __user *)addr,
					   chunk))
			return -EFAULT;
		nul = memchr(dst + done, 0, chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return count;
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
	dst = sk_put_open(r, &room);
	if (!dst)
		return;
	room = min(room, SK_MAX_PATH);
	if (!room) {
		r->overflow = true;
		return;
	}
	n = sk_strncpy_user(dst, uptr, room);
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
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	if (len > room) {
		r->overflow = true;
		return;
	}
	if (len && copy_from_user_nofault(dst, (const void __user *)uptr, len))
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
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	cnt = min_t(unsigned long, cnt, SK_MAX_IOV);
	if (copy_from_user_nofault(iov, (const void __user *)uiov,
				   cnt * sizeof(*iov))) {
		sk_set_len(r, 0);
		return;
	}
	for (i = 0; i < cnt && got < limit; i++) {
		u32 n = min_t(u64, iov[i].iov_len, limit - got);

		if (got + n > room) {
			r->overflow = true;
			return;
		}
		if (copy_from_user_nofault(dst + got, iov[i].iov_base, n))
			break;
		got += n;
	}
	sk_set_len(r, got);
}

static u64 sk_iov_len(unsigned long uiov, unsigned long cnt)
{
	struct iovec iov[SK_MAX_IOV];
	u64 total = 0;
	unsigned long i;

	cnt = min_t(unsigned long, cnt, SK_MAX_IOV);
	if (copy_from_user_nofault(iov, (const void __user *)uiov,
				   cnt * sizeof(*iov)))
		return 0;
	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

static int sk_get_msghdr(unsigned long umsg, struct user_msghdr *m)
{
	return copy_from_user_nofault(m, (const void __user *)umsg, sizeof(*m));
}

static u32 sk_fd_dev(long fd)
{
	struct file *file;
	u32 dev = 0;

	if (fd < 0 || !current->files)
		return 0;
	rcu_read_lock();
	file = files_lookup_fd_rcu(current->files, fd);
	if (file && file->f_inode && file->f_inode->i_sb)
		dev = new_encode_dev(file->f_inode->i_sb->s_dev);
	rcu_read_unlock();
	return dev;
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

	if (copy_from_user_nofault(&how, (const void __user *)uhow, sizeof(how)))
		memset(&how, 0, sizeof(how));
	if (field == 0)
		sk_put_num(r, sk_open_flags(how.flags));
	else if (field == 1)
		sk_put_num(r, sk_create_mode(how.flags, how.mode));
	else
		sk_put_num(r, sk_resolve_flags(how.resolve));
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
static u64 sk_arg_value(struct sk_record *r, unsigned long v)
{
	switch (sk_cur_type(r)) {
	case SK_PT_FD: case SK_PT_PID: case SK_PT_ERRNO:
		return (u64)(s64)(s32)v;	/* int in the syscall ABI */
	default:
		return v;
	}
}

static void sk_put_user_int(struct sk_record *r, unsigned long uptr, int i)
{
	s32 v;

	if (!uptr || copy_from_user_nofault(&v, (const void __user *)uptr +
					    i * sizeof(v), sizeof(v)))
		v = 0;
	sk_put_num(r, (u64)(s64)v);
}

static void sk_put_msg(struct sk_record *r, struct sk_call *c,
		       const struct sk_src *s)
{
	struct user_msghdr m;

	if (sk_get_msghdr(c->args[s->arg], &m)) {
		sk_put_empty(r);
		return;
	}
	if (s->op == SK_MSGLEN) {
		sk_put_num(r, sk_iov_len((unsigned long)m.msg_iov, m.msg_iovlen));
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

static u64 sk_user_u64(unsigned long uptr, int index)
{
	u64 v;

	if (!uptr || copy_from_user_nofault(&v, (const void __user *)uptr +
					    index * sizeof(v), sizeof(v)))
		return 0;
	return v;
}

/* FDLIST: u16 count, then per fd an s64 fd and u16 PPM_POLL* flags. */
static void sk_put_pollfds(struct sk_record *r, unsigned long ufds,
			   unsigned long nfds, bool exit)
{
	struct pollfd fds[SK_MAX_POLLFDS];
	u32 room, i, n = min_t(unsigned long, nfds, SK_MAX_POLLFDS);
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	if (room < 2 + n * 10) {
		r->overflow = true;
		return;
	}
	if (!ufds || copy_from_user_nofault(fds, (const void __user *)ufds,
					    n * sizeof(*fds)))
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
	sk_put(r, b, 1 + width);
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
		if (copy_from_user_nofault(&word, (const void __user *)data,
					   sizeof(word)))
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

static void sk_put_src(struct sk_record *r, struct sk_call *c,
		       const struct sk_src *s)
{
	unsigned long a = c->args[s->arg % 6];
	unsigned long b = c->args[(s->arg + 1) % 6];

	switch (s->op) {
	case SK_DEFAULT:
		if (r->idx == 0)
			sk_put_num(r, c->is_exit ? (u64)c->ret : sk_arg_value(r, a));
		else
			sk_put_empty(r);
		break;
	case SK_ARG:
		sk_put_num(r, sk_arg_value(r, a));
		break;
	case SK_RET:
		sk_put_num(r, (u64)c->ret);
		break;
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
		sk_put_num(r, sk_iov_len(a, b));
		break;
	case SK_OFLAGS:
		sk_put_num(r, sk_open_flags(a));
		break;
	case SK_OMODE:
		sk_put_num(r, sk_create_mode(c->args[s->arg - 1], a));
		break;
	case SK_CMODE:
		sk_put_num(r, sk_create_mode(O_CREAT, a));
		break;
	case SK_MODE:
		sk_put_num(r, sk_mode_bits(a));
		break;
	case SK_DEV:
		sk_put_num(r, sk_fd_dev(c->ret));
		break;
	case SK_CLFLAGS:
		sk_put_num(r, sk_clone_flags(a));
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

		if (!b || copy_from_user_nofault(&len, (const void __user *)b,
						 sizeof(len)))
			len = 0;
		sk_put_tuple_addr(r, (s32)c->args[0], a, len, true);
		break;
	}
	case SK_TUPLE_MSG: {
		struct user_msghdr m;

		if (sk_get_msghdr(a, &m))
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
	case SK_MSFLAGS:
		if ((a & MS_MGC_MSK) == MS_MGC_VAL)
			a &= ~MS_MGC_MSK;
		sk_put_num(r, a);
		break;
	case SK_EXVAT:
		sk_put_num(r, sk_execveat_flags(a));
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

		if (copy_from_user_nofault(&fd, (const void __user *)a, sizeof(fd)))
			fd = -1;
		sk_put_num(r, c->ret == 0 ? sk_fd_ino(fd) : 0);
		break;
	}
	case SK_FCNTL:
		sk_put_num(r, sk_fcntl_cmd(a));
		break;
	case SK_PTRACE:
		sk_put_num(r, sk_ptrace_req(a));
		break;
	case SK_PROT:
		sk_put_num(r, sk_mmap_prot(a));
		break;
	case SK_MAPFL:
		sk_put_num(r, sk_mmap_flags(a));
		break;
	case SK_VM:
		sk_put_num(r, sk_vm_kib(s->aux));
		break;
	case SK_RLIM:
		sk_put_num(r, sk_user_u64(a, s->aux));
		break;
	case SK_POLLFDS:
		sk_put_pollfds(r, a, b, s->aux);
		break;
	case SK_TIMESPEC: {
		struct __kernel_timespec ts;

		if (!a || copy_from_user_nofault(&ts, (const void __user *)a,
						 sizeof(ts)))
			memset(&ts, 0, sizeof(ts));
		sk_put_num(r, ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec);
		break;
	}
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
	case SK_PPMSC:
		sk_put_num(r, c->sc->ppm_sc);
		break;
	case SK_NR:
		sk_put_num(r, c->nr);
		break;
	default:
		sk_put_empty(r);
		break;
	}
}

void sk_fill_syscall(struct sk_record *r, struct sk_call *c)
{
	const struct sk_event_fill *f = &sk_fills[r->type];
	unsigned int i;

	if (f->fn) {
		f->fn(r, c);
		return;
	}
	for (i = 0; i < r->nparams && !r->overflow; i++)
		sk_put_src(r, c, &f->src[i]);
}
