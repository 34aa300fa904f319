/* Test helper for test/capture/live.test.ts: makes the syscalls Bun cannot make directly.
 * Usage: syscalls PATH — open(PATH), openat2(AT_FDCWD, PATH, {O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS}),
 * then execveat(fd of /bin/true, "", {"true-via-execveat"}, AT_EMPTY_PATH), which exits 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = syscall(SYS_open, argv[1], O_RDONLY);
	if (fd < 0)
		return 3;
	close(fd);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_NO_SYMLINKS };
	fd = syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof(how));
	if (fd < 0)
		return 4;
	close(fd);
	int exe = open("/bin/true", O_RDONLY);
	if (exe < 0)
		return 5;
	char *args[] = { "true-via-execveat", NULL };
	char *env[] = { NULL };
	syscall(SYS_execveat, exe, "", args, env, AT_EMPTY_PATH);
	return 6;
}
