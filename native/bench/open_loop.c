/* Capture benchmark workload (scripts/bench-capture): ITERATIONS x (openat + close) of one
 * file, the syscall-heaviest thing the probe records. Prints the loop's own wall time in ns,
 * so process start-up is not measured. Usage: open_loop ITERATIONS PATH */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s ITERATIONS PATH\n", argv[0]);
		return 2;
	}
	long iterations = atol(argv[1]);
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < iterations; i++) {
		int fd = openat(AT_FDCWD, argv[2], O_RDONLY);
		if (fd < 0) {
			perror("openat");
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("%lld\n",
	       (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec));
	return 0;
}
