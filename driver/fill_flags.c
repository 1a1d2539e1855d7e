// SPDX-License-Identifier: GPL-2.0
/*
 * fill_flags.c - kernel flag and command values converted to the schema's
 * PPM_* encodings (where those differ from the raw kernel values).
 */
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/poll.h>
#include <linux/ptrace.h>
#include <linux/sem.h>
#include <linux/socket.h>
#include <linux/splice.h>
#include <uapi/linux/sched.h>

#include "saker.h"

struct sk_bit {
	unsigned long k;
	u32 p;
};

static u32 sk_map_bits(unsigned long v, const struct sk_bit *map, int n)
{
	u32 res = 0;
	int i;

	for (i = 0; i < n; i++)
		if (v & map[i].k)
			res |= map[i].p;
	return res;
}

/* Exact-value lookup: commands and requests; 0 (UNKNOWN) if absent. */
static u32 sk_map_value(unsigned long v, const struct sk_bit *map, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v == map[i].k)
			return map[i].p;
	return 0;
}

u32 sk_open_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ O_CREAT, 1 << 2 }, { O_APPEND, 1 << 3 }, { O_DSYNC, 1 << 4 },
		{ O_EXCL, 1 << 5 }, { O_NONBLOCK, 1 << 6 }, { O_SYNC, 1 << 7 },
		{ O_TRUNC, 1 << 8 }, { O_DIRECT, 1 << 9 },
		{ O_DIRECTORY, 1 << 10 }, { O_LARGEFILE, 1 << 11 },
		{ O_CLOEXEC, 1 << 12 }, { __O_TMPFILE, 1 << 13 },
	};
	u32 res;

	switch (flags & O_ACCMODE) {
	case O_WRONLY:
		res = 2;
		break;
	case O_RDWR:
		res = 3;
		break;
	default:
		res = 1;
		break;
	}
	if (!(flags & ~O_ACCMODE))
		return res;	/* the common case: access mode only */
	return res | sk_map_bits(flags, map, ARRAY_SIZE(map));
}

u32 sk_clone_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ CLONE_FILES, 1 << 0 }, { CLONE_FS, 1 << 1 },
		{ CLONE_IO, 1 << 2 }, { CLONE_NEWIPC, 1 << 3 },
		{ CLONE_NEWNET, 1 << 4 }, { CLONE_NEWNS, 1 << 5 },
		{ CLONE_NEWPID, 1 << 6 }, { CLONE_NEWUTS, 1 << 7 },
		{ CLONE_PARENT, 1 << 8 }, { CLONE_PARENT_SETTID, 1 << 9 },
		{ CLONE_PTRACE, 1 << 10 }, { CLONE_SIGHAND, 1 << 11 },
		{ CLONE_SYSVSEM, 1 << 12 }, { CLONE_THREAD, 1 << 13 },
		{ CLONE_UNTRACED, 1 << 14 }, { CLONE_VM, 1 << 15 },
		{ CLONE_NEWUSER, 1 << 20 }, { CLONE_CHILD_CLEARTID, 1 << 23 },
		{ CLONE_CHILD_SETTID, 1 << 24 }, { CLONE_SETTLS, 1 << 25 },
		{ CLONE_VFORK, 1 << 27 }, { CLONE_NEWCGROUP, 1 << 28 },
	};
	return sk_map_bits(flags, map, ARRAY_SIZE(map));
}

u32 sk_mmap_prot(unsigned long prot)
{
	static const struct sk_bit map[] = {
		{ PROT_READ, 1 << 0 }, { PROT_WRITE, 1 << 1 },
		{ PROT_EXEC, 1 << 2 }, { PROT_SEM, 1 << 3 },
		{ PROT_GROWSDOWN, 1 << 4 }, { PROT_GROWSUP, 1 << 5 },
	};

	return sk_map_bits(prot, map, ARRAY_SIZE(map));
}

u32 sk_mmap_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ MAP_SHARED, 1 << 0 }, { MAP_PRIVATE, 1 << 1 },
		{ MAP_FIXED, 1 << 2 }, { MAP_ANONYMOUS, 1 << 3 },
		{ MAP_32BIT, 1 << 4 }, { MAP_NORESERVE, 1 << 6 },
		{ MAP_POPULATE, 1 << 7 }, { MAP_NONBLOCK, 1 << 8 },
		{ MAP_GROWSDOWN, 1 << 9 }, { MAP_DENYWRITE, 1 << 10 },
		{ MAP_EXECUTABLE, 1 << 11 }, { MAP_LOCKED, 1 << 14 },
	};

	return sk_map_bits(flags, map, ARRAY_SIZE(map));
}

u32 sk_poll_events(unsigned long ev)
{
	static const struct sk_bit map[] = {
		{ POLLIN, 1 << 0 }, { POLLPRI, 1 << 1 }, { POLLOUT, 1 << 2 },
		{ POLLRDHUP, 1 << 3 }, { POLLERR, 1 << 4 }, { POLLHUP, 1 << 5 },
		{ POLLNVAL, 1 << 6 }, { POLLRDNORM, 1 << 7 },
		{ POLLRDBAND, 1 << 8 }, { POLLWRNORM, 1 << 9 },
		{ POLLWRBAND, 1 << 10 },
	};

	return sk_map_bits(ev, map, ARRAY_SIZE(map));
}

u32 sk_fcntl_cmd(unsigned long cmd)
{
	static const struct sk_bit map[] = {
		{ F_DUPFD, 1 }, { F_GETFD, 2 }, { F_SETFD, 3 }, { F_GETFL, 4 },
		{ F_SETFL, 5 }, { F_GETLK, 6 }, { F_SETLK, 8 }, { F_SETLKW, 9 },
		{ F_SETOWN, 10 }, { F_GETOWN, 12 }, { F_SETSIG, 13 },
		{ F_GETSIG, 15 }, { F_SETOWN_EX, 21 }, { F_GETOWN_EX, 22 },
		{ F_SETLEASE, 23 }, { F_GETLEASE, 24 }, { F_CANCELLK, 25 },
		{ F_DUPFD_CLOEXEC, 26 }, { F_NOTIFY, 27 }, { F_SETPIPE_SZ, 28 },
		{ F_GETPIPE_SZ, 29 }, { F_OFD_GETLK, 30 }, { F_OFD_SETLK, 31 },
		{ F_OFD_SETLKW, 32 },
	};

	return sk_map_value(cmd, map, ARRAY_SIZE(map));
}

u32 sk_ptrace_req(unsigned long req)
{
	static const struct sk_bit map[] = {
		{ PTRACE_TRACEME, 1 }, { PTRACE_PEEKTEXT, 2 },
		{ PTRACE_PEEKDATA, 3 }, { PTRACE_PEEKUSR, 4 },
		{ PTRACE_POKETEXT, 5 }, { PTRACE_POKEDATA, 6 },
		{ PTRACE_POKEUSR, 7 }, { PTRACE_CONT, 8 }, { PTRACE_KILL, 9 },
		{ PTRACE_SINGLESTEP, 10 }, { PTRACE_ATTACH, 11 },
		{ PTRACE_DETACH, 12 }, { PTRACE_SYSCALL, 13 },
		{ PTRACE_SETOPTIONS, 14 }, { PTRACE_GETEVENTMSG, 15 },
		{ PTRACE_GETSIGINFO, 16 }, { PTRACE_SETSIGINFO, 17 },
		{ PTRACE_GETREGSET, 18 }, { PTRACE_SETREGSET, 19 },
		{ PTRACE_SEIZE, 20 }, { PTRACE_INTERRUPT, 21 },
		{ PTRACE_LISTEN, 22 }, { PTRACE_PEEKSIGINFO, 23 },
		{ PTRACE_GETSIGMASK, 24 }, { PTRACE_SETSIGMASK, 25 },
		{ PTRACE_GETREGS, 26 }, { PTRACE_SETREGS, 27 },
		{ PTRACE_GETFPREGS, 28 }, { PTRACE_SETFPREGS, 29 },
		{ PTRACE_GETFPXREGS, 30 }, { PTRACE_SETFPXREGS, 31 },
		{ PTRACE_OLDSETOPTIONS, 32 }, { PTRACE_GET_THREAD_AREA, 33 },
		{ PTRACE_SET_THREAD_AREA, 34 }, { PTRACE_ARCH_PRCTL, 35 },
		{ PTRACE_SYSEMU, 36 }, { PTRACE_SYSEMU_SINGLESTEP, 37 },
		{ PTRACE_SINGLEBLOCK, 38 },
	};

	return sk_map_value(req, map, ARRAY_SIZE(map));
}

/* semop sem_flg -> PPM_IPC_NOWAIT, PPM_SEM_UNDO */
u32 sk_semop_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ IPC_NOWAIT, 1 << 0 }, { SEM_UNDO, 1 << 1 },
	};

	return sk_map_bits(flags, map, ARRAY_SIZE(map));
}

/* semget semflg -> PPM_IPC_CREAT, PPM_IPC_EXCL (the mode bits are dropped) */
u32 sk_semget_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ IPC_CREAT, 1 << 13 }, { IPC_EXCL, 1 << 14 },
	};

	return sk_map_bits(flags, map, ARRAY_SIZE(map));
}

/* semctl cmd -> PPM_IPC_STAT ... PPM_SETVAL; 0 if unknown */
u32 sk_semctl_cmd(unsigned long cmd)
{
	static const struct sk_bit map[] = {
		{ IPC_STAT, 1 << 0 }, { IPC_SET, 1 << 1 }, { IPC_RMID, 1 << 2 },
		{ IPC_INFO, 1 << 3 }, { SEM_INFO, 1 << 4 },
		{ SEM_STAT, 1 << 5 },
		{ GETALL, 1 << 6 }, { GETNCNT, 1 << 7 }, { GETPID, 1 << 8 },
		{ GETVAL, 1 << 9 }, { GETZCNT, 1 << 10 }, { SETALL, 1 << 11 },
		{ SETVAL, 1 << 12 },
	};

	return sk_map_value(cmd, map, ARRAY_SIZE(map));
}

/* setsockopt/getsockopt level -> PPM_SOCKOPT_LEVEL_* */
u32 sk_sockopt_level(unsigned long level)
{
	switch ((int)level) {
	case SOL_SOCKET:
		return 1;
	case SOL_TCP:
		return 2;
	default:
		return 0;
	}
}

/*
 * SOL_SOCKET option name -> PPM_SOCKOPT_SO_*; 0 for other levels. The time
 * options have an _OLD and a _NEW number (64-bit time on 32-bit ABIs): both
 * map to the schema's one.
 */
u32 sk_sockopt_name(unsigned long level, unsigned long name)
{
	static const struct sk_bit map[] = {
		{ SO_DEBUG, 1 }, { SO_REUSEADDR, 2 }, { SO_TYPE, 3 },
		{ SO_ERROR, 4 }, { SO_DONTROUTE, 5 }, { SO_BROADCAST, 6 },
		{ SO_SNDBUF, 7 }, { SO_RCVBUF, 8 }, { SO_KEEPALIVE, 9 },
		{ SO_OOBINLINE, 10 }, { SO_NO_CHECK, 11 }, { SO_PRIORITY, 12 },
		{ SO_LINGER, 13 }, { SO_BSDCOMPAT, 14 }, { SO_REUSEPORT, 15 },
		{ SO_PASSCRED, 16 }, { SO_PEERCRED, 17 }, { SO_RCVLOWAT, 18 },
		{ SO_SNDLOWAT, 19 },
		{ SO_RCVTIMEO_OLD, 20 }, { SO_RCVTIMEO_NEW, 20 },
		{ SO_SNDTIMEO_OLD, 21 }, { SO_SNDTIMEO_NEW, 21 },
		{ SO_SECURITY_AUTHENTICATION, 22 },
		{ SO_SECURITY_ENCRYPTION_TRANSPORT, 23 },
		{ SO_SECURITY_ENCRYPTION_NETWORK, 24 },
		{ SO_BINDTODEVICE, 25 }, { SO_ATTACH_FILTER, 26 },
		{ SO_DETACH_FILTER, 27 }, { SO_PEERNAME, 28 },
		{ SO_TIMESTAMP_OLD, 29 }, { SO_TIMESTAMP_NEW, 29 },
		{ SO_ACCEPTCONN, 30 }, { SO_PEERSEC, 31 },
		{ SO_SNDBUFFORCE, 32 }, { SO_RCVBUFFORCE, 33 },
		{ SO_PASSSEC, 34 }, { SO_TIMESTAMPNS_OLD, 35 },
		{ SO_TIMESTAMPNS_NEW, 35 }, { SO_MARK, 36 },
		{ SO_TIMESTAMPING_OLD, 37 }, { SO_TIMESTAMPING_NEW, 37 },
		{ SO_PROTOCOL, 38 }, { SO_DOMAIN, 39 },
		{ SO_RXQ_OVFL, 40 }, { SO_WIFI_STATUS, 41 },
		{ SO_PEEK_OFF, 42 },
		{ SO_NOFCS, 43 }, { SO_LOCK_FILTER, 44 },
		{ SO_SELECT_ERR_QUEUE, 45 }, { SO_BUSY_POLL, 46 },
		{ SO_MAX_PACING_RATE, 47 }, { SO_BPF_EXTENSIONS, 48 },
		{ SO_INCOMING_CPU, 49 }, { SO_ATTACH_BPF, 50 },
		{ SO_PEERGROUPS, 51 }, { SO_MEMINFO, 52 }, { SO_COOKIE, 53 },
	};

	if ((int)level != SOL_SOCKET)
		return 0;
	return sk_map_value(name, map, ARRAY_SIZE(map));
}

/* splice flags -> PPM_SPLICE_F_* */
u32 sk_splice_flags(unsigned long flags)
{
	static const struct sk_bit map[] = {
		{ SPLICE_F_MOVE, 1 << 0 }, { SPLICE_F_NONBLOCK, 1 << 1 },
		{ SPLICE_F_MORE, 1 << 2 }, { SPLICE_F_GIFT, 1 << 3 },
	};

	return sk_map_bits(flags, map, ARRAY_SIZE(map));
}
