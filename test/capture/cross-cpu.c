// Helper for test/capture/rings.test.ts: processes that write records from chosen CPUs.
//   cross-cpu fork PARENT_CPU CHILD_CPU N   N times: fork on PARENT_CPU, the child moves to
//                                           CHILD_CPU and execs /bin/true; prints the child pids
//   cross-cpu migrate PATH N                opens PATH.0 .. PATH.N-1 (failing opens are records too),
//                                           moving to CPU i % 2 before open i
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_setaffinity");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "fork") == 0) {
		int child_cpu = atoi(argv[3]), n = atoi(argv[4]);
		pin(atoi(argv[2]));
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				pin(child_cpu);
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			int status;
			waitpid(pid, &status, 0);
			printf("%d\n", pid);
		}
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "migrate") == 0) {
		int n = atoi(argv[3]);
		char path[4096];
		for (int i = 0; i < n; i++) {
			pin(i % 2);
			snprintf(path, sizeof(path), "%s.%d", argv[2], i);
			int fd = open(path, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	fprintf(stderr, "usage: cross-cpu fork PARENT_CPU CHILD_CPU N | migrate PATH N\n");
	return 2;
}
