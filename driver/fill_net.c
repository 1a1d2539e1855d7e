// SPDX-License-Identifier: GPL-2.0
/*
 * fill_net.c - socket parameters: SOCKADDR from user memory, SOCKTUPLE and
 * accept queue figures from the socket behind a file descriptor.
 */
#include <linux/fdtable.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net.h>
#include <linux/un.h>
#include <linux/uaccess.h>
#include <net/af_unix.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <asm/unaligned.h>

#include "saker.h"

#define SK_AF_UNIX 1
#define SK_AF_INET 2
#define SK_AF_INET6 10

/* A sun_path as the schema wants it: abstract names start with '@'. */
static u32 sk_unix_path(u8 *dst, u32 room, const char *path, u32 max)
{
	u32 n;

	if (!room)
		return 0;
	n = min(max, room - 1);
	memcpy(dst, path, n);
	if (n && dst[0] == 0)
		dst[0] = '@';
	dst[n] = 0;
	return strnlen(dst, n) + 1;
}

/* The user's sockaddr (at most sizeof(*ss) bytes), or false. */
static bool sk_get_sockaddr(struct sk_record *r, struct sockaddr_storage *ss,
			    unsigned long uaddr, unsigned long ulen)
{
	ulen = min_t(unsigned long, ulen, sizeof(*ss));
	if (!uaddr || ulen < sizeof(ss->ss_family) ||
	    sk_copy_user(r, ss, uaddr, ulen))
		return false;
	memset((u8 *)ss + ulen, 0, sizeof(*ss) - ulen);
	return true;
}

void sk_put_sockaddr(struct sk_record *r, unsigned long uaddr,
		     unsigned long ulen)
{
	struct sockaddr_storage ss;
	u32 room, len = 0;
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	if (!sk_get_sockaddr(r, &ss, uaddr, ulen)) {
		sk_put_close(r, 0);
		return;
	}
	ulen = min_t(unsigned long, ulen, sizeof(ss));
	if (room < 1 + 16 + 2) {
		r->overflow = true;
		return;
	}
	switch (ss.ss_family) {
	case AF_INET: {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		dst[0] = SK_AF_INET;
		memcpy(dst + 1, &in->sin_addr.s_addr, 4);
		put_unaligned(ntohs(in->sin_port), (u16 *)(dst + 5));
		len = 7;
		break;
	}
	case AF_INET6: {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		dst[0] = SK_AF_INET6;
		memcpy(dst + 1, &in6->sin6_addr, 16);
		put_unaligned(ntohs(in6->sin6_port), (u16 *)(dst + 17));
		len = 19;
		break;
	}
	case AF_UNIX: {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		dst[0] = SK_AF_UNIX;
		len = 1 + sk_unix_path(dst + 1, room - 1, un->sun_path,
				       min_t(unsigned long, ulen - sizeof(un->sun_family),
					     sizeof(un->sun_path)));
		break;
	}
	default:
		break;
	}
	sk_put_close(r, len);
}

static struct sock *sk_fd_sock(long fd)
{
	struct file *file;
	struct socket *sock;

	if (fd < 0 || !current->files)
		return NULL;
	file = files_lookup_fd_rcu(current->files, fd);
	if (!file)
		return NULL;
	sock = sock_from_file(file);
	return sock ? sock->sk : NULL;
}

static u32 sk_tuple_unix(u8 *dst, u32 room, struct sock *sk)
{
	struct unix_sock *us = unix_sk(sk);
	struct sock *peer = us->peer;
	struct unix_address *addr = us->addr;
	u64 src = (u64)(unsigned long)sk, dest = (u64)(unsigned long)peer;

	if (!addr && peer)
		addr = unix_sk(peer)->addr;
	dst[0] = SK_AF_UNIX;
	put_unaligned(src, (u64 *)(dst + 1));
	put_unaligned(dest, (u64 *)(dst + 9));
	if (!addr) {
		dst[17] = 0;
		return 18;
	}
	return 17 + sk_unix_path(dst + 17, room - 17, addr->name->sun_path,
				 addr->len - sizeof(short));
}

/*
 * SOCKTUPLE of the socket at fd: local then remote end, or remote then local
 * for inbound data (accept, recvfrom, recvmsg). The remote end comes from the
 * user's sockaddr when one of the socket's family is given (connect, sendto,
 * recvfrom, sendmsg, recvmsg), else from the socket.
 */
static void sk_put_tuple_dir(struct sk_record *r, long fd, bool inbound,
			     const struct sockaddr_storage *peer)
{
	u32 room, len = 0;
	u8 *dst = sk_put_open(r, &room);
	struct sock *sk;

	if (!dst)
		return;
	if (room < 1 + 2 * (16 + 2) + 1) {
		r->overflow = true;
		return;
	}
	rcu_read_lock();
	sk = sk_fd_sock(fd);
	if (!sk)
		goto out;
	if (peer && peer->ss_family != sk->sk_family)
		peer = NULL;
	switch (sk->sk_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		__be32 a = sk->sk_rcv_saddr, b = in ? in->sin_addr.s_addr : sk->sk_daddr;
		u16 pa = ntohs(inet_sk(sk)->inet_sport);
		u16 pb = ntohs(in ? in->sin_port : sk->sk_dport);

		if (inbound) {
			swap(a, b);
			swap(pa, pb);
		}
		dst[0] = SK_AF_INET;
		memcpy(dst + 1, &a, 4);
		put_unaligned(pa, (u16 *)(dst + 5));
		memcpy(dst + 7, &b, 4);
		put_unaligned(pb, (u16 *)(dst + 11));
		len = 13;
		break;
	}
#if IS_ENABLED(CONFIG_IPV6)
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
		struct in6_addr a = sk->sk_v6_rcv_saddr;
		struct in6_addr b = in6 ? in6->sin6_addr : sk->sk_v6_daddr;
		u16 pa = ntohs(inet_sk(sk)->inet_sport);
		u16 pb = ntohs(in6 ? in6->sin6_port : sk->sk_dport);

		if (inbound) {
			swap(a, b);
			swap(pa, pb);
		}
		dst[0] = SK_AF_INET6;
		memcpy(dst + 1, &a, 16);
		put_unaligned(pa, (u16 *)(dst + 17));
		memcpy(dst + 19, &b, 16);
		put_unaligned(pb, (u16 *)(dst + 35));
		len = 37;
		break;
	}
#endif
	case AF_UNIX:
		len = sk_tuple_unix(dst, room, sk);
		break;
	default:
		break;
	}
out:
	rcu_read_unlock();
	sk_put_close(r, len);
}

void sk_put_tuple_in(struct sk_record *r, long fd)
{
	sk_put_tuple_dir(r, fd, true, NULL);
}

/*
 * Remote end from the user's sockaddr at uaddr of ulen bytes; without one
 * (e.g. send on a connected socket) the tuple is empty, as in the schema's
 * reference producer.
 */
void sk_put_tuple_addr(struct sk_record *r, long fd, unsigned long uaddr,
		       unsigned long ulen, bool inbound)
{
	struct sockaddr_storage ss;

	if (sk_get_sockaddr(r, &ss, uaddr, ulen))
		sk_put_tuple_dir(r, fd, inbound, &ss);
	else
		sk_put_user_buf(r, 0, 0);
}

/*
 * socketpair: which 0 gives the first socket's address, 1 its peer's (the
 * unix socket identities the tuples of the pair carry).
 */
void sk_put_unix_pair(struct sk_record *r, unsigned long ufds, int which)
{
	struct sock *sk;
	s32 fd;
	u64 v = 0;

	if (sk_copy_user(r, &fd, ufds, sizeof(fd)))
		fd = -1;
	rcu_read_lock();
	sk = sk_fd_sock(fd);
	if (sk && sk->sk_family == AF_UNIX)
		v = (u64)(unsigned long)(which ? unix_sk(sk)->peer : sk);
	rcu_read_unlock();
	sk_put_num(r, v);
}

/* field 0: queue fill percentage, 1: queue length, 2: queue maximum. */
void sk_put_queue(struct sk_record *r, long fd, int field)
{
	u32 len = 0, max = 0;
	struct sock *sk;

	rcu_read_lock();
	sk = sk_fd_sock(fd);
	if (sk) {
		len = READ_ONCE(sk->sk_ack_backlog);
		max = READ_ONCE(sk->sk_max_ack_backlog);
	}
	rcu_read_unlock();
	if (field == 0)
		sk_put_num(r, max ? min(len * 100 / max, 100U) : 0);
	else
		sk_put_num(r, field == 1 ? len : max);
}

/* Whether a SOL_SOCKET option's value is an int (a u32 in the schema). */
static bool sk_sockopt_is_int(int name)
{
	switch (name) {
	case SO_DEBUG: case SO_REUSEADDR: case SO_TYPE: case SO_DONTROUTE:
	case SO_BROADCAST: case SO_SNDBUF: case SO_RCVBUF: case SO_SNDBUFFORCE:
	case SO_RCVBUFFORCE: case SO_KEEPALIVE: case SO_OOBINLINE:
	case SO_NO_CHECK: case SO_PRIORITY: case SO_BSDCOMPAT:
	case SO_REUSEPORT: case SO_PASSCRED: case SO_RCVLOWAT: case SO_SNDLOWAT:
	case SO_SECURITY_AUTHENTICATION: case SO_SECURITY_ENCRYPTION_TRANSPORT:
	case SO_SECURITY_ENCRYPTION_NETWORK: case SO_BINDTODEVICE:
	case SO_DETACH_FILTER: case SO_TIMESTAMP_OLD: case SO_TIMESTAMP_NEW:
	case SO_ACCEPTCONN: case SO_PEERSEC: case SO_PASSSEC:
	case SO_TIMESTAMPNS_OLD: case SO_TIMESTAMPNS_NEW: case SO_MARK:
	case SO_TIMESTAMPING_OLD: case SO_TIMESTAMPING_NEW: case SO_PROTOCOL:
	case SO_DOMAIN: case SO_RXQ_OVFL:
	case SO_WIFI_STATUS: case SO_PEEK_OFF: case SO_NOFCS: case SO_LOCK_FILTER:
	case SO_SELECT_ERR_QUEUE: case SO_BUSY_POLL: case SO_MAX_PACING_RATE:
	case SO_BPF_EXTENSIONS: case SO_INCOMING_CPU:
		return true;
	default:
		return false;
	}
}

/*
 * setsockopt/getsockopt val (PT_DYN): the index of the value's type, then
 * the value: SO_ERROR as an errno (1), int options as a u32 (2), SO_COOKIE
 * as a u64 (3), SO_RCVTIMEO/SO_SNDTIMEO (a 64-bit timeval either way on
 * 64-bit) as nanoseconds (4); any other option as its first len bytes
 * (index 0, at most snaplen). A read that faults gives a zero value.
 */
void sk_put_sockopt_val(struct sk_record *r, unsigned long level,
			unsigned long name, unsigned long uval,
			unsigned long len, u32 snaplen)
{
	union {
		u32 v32;
		u64 v64;
		struct __kernel_old_timeval tv;
	} u;
	bool sol = (int)level == SOL_SOCKET;
	u32 room, size = 0;
	u8 b[9], idx = 0;
	u64 v = 0;
	u8 *dst;

	if (sol && (int)name == SO_ERROR) {
		idx = 1;
		size = sizeof(u.v32);
	} else if (sol && sk_sockopt_is_int(name)) {
		idx = 2;
		size = sizeof(u.v32);
	} else if (sol && (int)name == SO_COOKIE) {
		idx = 3;
		size = sizeof(u.v64);
	} else if (sol && ((int)name == SO_RCVTIMEO_OLD ||
			   (int)name == SO_RCVTIMEO_NEW ||
			   (int)name == SO_SNDTIMEO_OLD ||
			   (int)name == SO_SNDTIMEO_NEW)) {
		idx = 4;
		size = sizeof(u.tv);
	}
	if (!idx) {
		dst = sk_put_open(r, &room);
		if (!dst)
			return;
		len = uval ? min_t(unsigned long, len, snaplen) : 0;
		if (1 + len > room) {
			r->overflow = true;
			return;
		}
		dst[0] = 0;
		if (len && sk_copy_user(r, dst + 1, uval, len))
			len = 0;
		sk_put_close(r, 1 + len);
		return;
	}
	memset(&u, 0, sizeof(u));
	if (uval && sk_copy_user(r, &u, uval, size))
		memset(&u, 0, sizeof(u));
	if (idx == 1)
		v = (u64)-(s64)(s32)u.v32;
	else if (idx == 2)
		v = u.v32;
	else if (idx == 3)
		v = u.v64;
	else
		v = u.tv.tv_sec * NSEC_PER_SEC + u.tv.tv_usec * NSEC_PER_USEC;
	b[0] = idx;
	put_unaligned(v, (u64 *)(b + 1));
	sk_put(r, b, idx == 2 ? 1 + 4 : 1 + 8);
}
