// SPDX-License-Identifier: GPL-2.0
/*
 * sysloop - the capture overhead benchmark's workload: repeats
 * open/read/close/getppid on a file for the given number of seconds and
 * prints the loop rate (loops per second).
 *
 * The rate is measured over windows of 100 ms and the 90th percentile of the
 * windows' rates is printed: the guest's vCPUs are threads of a host whose
 * other work takes them off their CPU now and then, which slows some windows
 * but never speeds one up; a high percentile is the rate of the windows left
 * alone, and unlike the fastest window it does not hang on one window.
 * The mean rate over the whole run follows it, then the 99th percentile:
 * the host's slow spells can last seconds (half the speed for 5 s has been
 * seen), longer than a tenth of a run, and the 90th percentile of a run
 * caught in one is a slowed rate.
 *
 * usage: sysloop SECONDS [FILE]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one_loop(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		return -1;
	}
	if (read(fd, buf, sizeof(buf)) < 0) {
		perror("read");
		close(fd);
		return -1;
	}
	close(fd);
	getppid();
	return 0;
}

#define WINDOW 0.1
#define MAX_WINDOWS 4096

static int by_rate(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static double rate[MAX_WINDOWS];
	double seconds = argc > 1 ? atof(argv[1]) : 2, t0 = now(), w0 = t0, t, mean;
	const char *path = argc > 2 ? argv[2] : "/etc/passwd";
	unsigned long n = 0, total = 0;
	int windows = 0;

	do {
		int i;

		for (i = 0; i < 256; i++)
			if (one_loop(path))
				return 1;
		n += 256;
		t = now();
		if (t - w0 >= WINDOW) {
			if (windows < MAX_WINDOWS)
				rate[windows++] = n / (t - w0);
			total += n;
			n = 0;
			w0 = t;
		}
	} while (t - t0 < seconds);
	total += n;
	mean = total / (t - t0);
	if (!windows) {
		printf("%.0f %.0f %.0f\n", mean, mean, mean);
		return 0;
	}
	qsort(rate, windows, sizeof(rate[0]), by_rate);
	printf("%.0f %.0f %.0f\n", rate[(windows - 1) * 9 / 10], mean,
	       rate[(windows - 1) * 99 / 100]);
	return 0;
}
