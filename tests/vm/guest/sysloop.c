// SPDX-License-Identifier: GPL-2.0
/*
 * sysloop - syscall throughput: calls getppid() in a loop for the given
 * number of seconds and prints the rate, for the capture overhead benchmark.
 *
 * usage: sysloop SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2, t0 = now(), t;
	unsigned long n = 0;

	do {
		int i;

		for (i = 0; i < 1000; i++)
			syscall(SYS_getppid);
		n += 1000;
		t = now();
	} while (t - t0 < seconds);
	printf("%.0f\n", n / (t - t0));
	return 0;
}
