// SPDX-License-Identifier: GPL-2.0
/*
 * exercise - makes a fixed set of syscalls with distinctive arguments so the
 * host can check how each event is encoded (via sysdig -r on the capture).
 * Every path used lives under /tmp/ex.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	char buf[64] = "exercise-payload";
	struct iovec iov[2] = { { buf, 8 }, { buf + 8, 8 } };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9999) };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	struct timespec ts = { 0, 1000000 };
	struct sockaddr_in from;
	socklen_t fromlen;
	struct rlimit rl;
	struct sembuf sops[2] = { { 0, 1, IPC_NOWAIT }, { 1, 2, SEM_UNDO } };
	struct timeval tv = { 1, 500000 };
	int one = 1, err = -1;
	socklen_t olen = sizeof(err);
	int fd, fd2, sv[2], p[2], u1, u2, sem;
	struct pollfd pfd;
	void *m;
	pid_t pid;

	mkdir("/tmp/ex", 0750);
	fd = open("/tmp/ex/a", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	write(fd, "exercise-write", 14);
	pwrite(fd, "exercise-pwrite", 15, 100);
	writev(fd, iov, 2);
	fcntl(fd, F_SETFL, O_APPEND);
	fd2 = dup2(fd, 42);
	close(fd2);
	close(fd);
	fd = syscall(SYS_openat2, AT_FDCWD, "/tmp/ex/a", &how, sizeof(how));
	pread(fd, buf, 10, 0);
	readv(fd, iov, 2);
	close(fd);
	rename("/tmp/ex/a", "/tmp/ex/b");
	symlink("/tmp/ex/b", "/tmp/ex/sym");
	link("/tmp/ex/b", "/tmp/ex/hard");
	chmod("/tmp/ex/b", 04755);
	unlinkat(AT_FDCWD, "/tmp/ex/sym", 0);
	unlink("/tmp/ex/hard");
	mkdir("/tmp/ex/d", 0700);
	rmdir("/tmp/ex/d");
	fd = creat("/tmp/ex/c", 0600);
	close(fd);

	pipe(p);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	write(p[1], "x", 1);
	poll(&pfd, 1, 10);
	fd = open("/tmp/ex/s", O_WRONLY | O_CREAT, 0600);
	splice(p[0], NULL, fd, NULL, 1, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	close(fd);
	close(p[0]);
	close(p[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	sendmsg(sv[0], &msg, 0);
	recvmsg(sv[1], &msg, 0);
	close(sv[0]);
	close(sv[1]);

	u1 = socket(AF_INET, SOCK_DGRAM, 0);
	u2 = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(u2, (struct sockaddr *)&sin, sizeof(sin));
	connect(u1, (struct sockaddr *)&sin, sizeof(sin));
	sendto(u1, "exercise-udp", 12, 0, NULL, 0);
	recvfrom(u2, buf, sizeof(buf), 0, NULL, NULL);
	u1 = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(u1, "exercise-sendto", 15, 0, (struct sockaddr *)&sin, sizeof(sin));
	fromlen = sizeof(from);
	recvfrom(u2, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
	close(u1);
	close(u2);
	u1 = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(u1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(u1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(u1, IPPROTO_IP, IP_TTL, &one, sizeof(one));
	getsockopt(u1, SOL_SOCKET, SO_ERROR, &err, &olen);
	close(u1);
	u1 = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons(1);
	connect(u1, (struct sockaddr *)&sin, sizeof(sin));
	close(u1);
	u1 = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, "/tmp/ex/nosock");
	connect(u1, (struct sockaddr *)&sun, sizeof(sun));
	close(u1);

	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(m, 4096, PROT_READ);
	munmap(m, 8192);
	sem = semget(IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | 0600);
	syscall(SYS_semop, sem, sops, 2);	/* glibc's semop() is semtimedop */
	semctl(sem, 1, SETVAL, 5);
	semctl(sem, 0, IPC_RMID);
	getrlimit(RLIMIT_NOFILE, &rl);
	nanosleep(&ts, NULL);
	setuid(0);
	setgid(0);
	ptrace(PTRACE_PEEKDATA, 1, NULL, NULL);
	unshare(0);
	syscall(SYS_bpf, 1 /* BPF_MAP_LOOKUP_ELEM */, NULL, 0);
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, (void *)0x1234, (void *)0x5678);
		execl("/tmp/ex/does-not-exist", "ghost", "exercise-failed-exec", NULL);
		_exit(7);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
