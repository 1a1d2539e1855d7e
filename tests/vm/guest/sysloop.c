// SPDX-License-Identifier: GPL-2.0
/*
 * sysloop - the capture overhead benchmark's workload: repeats
 * open/read/close/getppid on a file for the given number of seconds and
 * prints the loop rate (loops per second).
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

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2, t0 = now(), t;
	const char *path = argc > 2 ? argv[2] : "/etc/passwd";
	unsigned long n = 0;

	do {
		int i;

		for (i = 0; i < 256; i++)
			if (one_loop(path))
				return 1;
		n += 256;
		t = now();
	} while (t - t0 < seconds);
	printf("%.0f\n", n / (t - t0));
	return 0;
}
