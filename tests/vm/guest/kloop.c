// SPDX-License-Identifier: GPL-2.0
/*
 * kloop - the loop of the instruction-count harnesses (tests/vm/icount.sh,
 * tests/vm/profile.sh): 1000 loops of open/read/close/getppid to warm up,
 * then N measured loops between two markers, and prints the loop thread's
 * CPU ns and the monotonic ns per measured loop. Under `-icount shift=0` a
 * ns is one guest instruction.
 *
 * The marker is the no-op `xchg %bx,%bx`, which the profiling plugin
 * (tests/vm/qemu-prof/insnprof.c) looks for: it counts what runs between
 * the two.
 *
 * usage: kloop N
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void marker(void)
{
	__asm__ volatile("xchg %%bx, %%bx" : : : "memory");
}

static long long ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int one_loop(char *buf)
{
	int fd = open("/etc/passwd", O_RDONLY);

	if (fd < 0 || read(fd, buf, 64) < 0)
		return -1;
	close(fd);
	getppid();
	return 0;
}

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 10000;
	long long c0, w0, c1, w1;
	char buf[64];

	if (n <= 0)
		return 2;
	for (i = 0; i < 1000; i++)
		if (one_loop(buf))
			return 1;
	c0 = ns(CLOCK_THREAD_CPUTIME_ID);
	w0 = ns(CLOCK_MONOTONIC);
	marker();
	for (i = 0; i < n; i++)
		if (one_loop(buf))
			return 1;
	marker();
	c1 = ns(CLOCK_THREAD_CPUTIME_ID);
	w1 = ns(CLOCK_MONOTONIC);
	printf("%.1f %.1f\n", (double)(c1 - c0) / n, (double)(w1 - w0) / n);
	return 0;
}
