/* Test helper for the live capture tests: makes the syscalls Bun cannot make directly.
 *
 * Usage: syscalls PATH — open(PATH), openat2(AT_FDCWD, PATH, {O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS}),
 *        then execveat(fd of /bin/true, "", {"true-via-execveat"}, AT_EMPTY_PATH), which exits 0.
 *
 * Usage: syscalls exec-memfd — executes a copy of /bin/true from a memfd (argv[0] "true-from-memfd").
 *
 * Usage: syscalls KIND DIR — for the event kind KIND, one call that succeeds then one that fails
 *        (where a failure can be caused), working inside the empty directory DIR. Prints what only
 *        the helper knows as `name=value` lines (fds the kernel handed out, child pids), so the test
 *        can compare them with the decoded events. Exit 0 when every call behaved as planned. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[3000];

static const char *in_dir(const char *name)
{
	static char paths[4][3100];
	static int next;
	char *p = paths[next++ & 3];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

/* A call that must succeed (ok) or fail with errno `err` (fails). */
#define ok(call)                                                             \
	do {                                                                 \
		long r_ = (long)(call);                                      \
		if (r_ < 0) {                                                \
			fprintf(stderr, "%s: %s\n", #call, strerror(errno)); \
			exit(10);                                            \
		}                                                            \
	} while (0)
#define fails(call, err)                                                                               \
	do {                                                                                           \
		long r_ = (long)(call);                                                                \
		if (r_ >= 0 || errno != (err)) {                                                       \
			fprintf(stderr, "%s: expected errno %d, got %ld/%d\n", #call, err, r_, errno); \
			exit(11);                                                                      \
		}                                                                                      \
	} while (0)

/* A call that must fail, with an errno that depends on the kernel's configuration: printed. */
#define fails_any(call)                      \
	do {                                 \
		long r_ = (long)(call);      \
		if (r_ >= 0)                 \
			exit(13);            \
		printf("errno=%d\n", errno); \
	} while (0)

static void old_mode(const char *path)
{
	int fd = syscall(SYS_open, path, O_RDONLY);
	if (fd < 0)
		exit(3);
	close(fd);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_NO_SYMLINKS };
	fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		exit(4);
	close(fd);
	int exe = open("/bin/true", O_RDONLY);
	if (exe < 0)
		exit(5);
	char *args[] = { "true-via-execveat", NULL };
	char *env[] = { NULL };
	syscall(SYS_execveat, exe, "", args, env, AT_EMPTY_PATH);
	exit(6);
}

/* A TCP listener on 127.0.0.1, its port printed as `port=`. */
static int listener(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ok(s);
	ok(bind(s, (struct sockaddr *)&a, sizeof(a)));
	ok(listen(s, 4));
	socklen_t len = sizeof(a);
	ok(getsockname(s, (struct sockaddr *)&a, &len));
	printf("port=%d\n", ntohs(a.sin_port));
	return s;
}

static int connected(int server)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	ok(getsockname(server, (struct sockaddr *)&a, &len));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(c, (struct sockaddr *)&a, sizeof(a)));
	return c;
}

static void k_creat(void)
{
	int fd = syscall(SYS_creat, in_dir("f"), 0640);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(syscall(SYS_creat, in_dir("missing/f"), 0640), ENOENT);
}
static void k_close(void)
{
	int fd = dup(1);
	printf("fd=%d\n", fd);
	ok(close(fd));
	fails(close(fd), EBADF);
}
static void k_close_range(void)
{
	int a = dup(1), b = dup(1);
	printf("first=%d\nlast=%d\n", a, b);
	ok(syscall(SYS_close_range, a, b, 4)); /* CLOSE_RANGE_CLOEXEC: marked, still open */
	ok(syscall(SYS_close_range, a, b, 0));
	fails(syscall(SYS_close_range, b, a, 0), EINVAL); /* last below first */
}
static void k_socket(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(socket(AF_INET, SOCK_STREAM, 99), EPROTONOSUPPORT);
}
static void k_socketpair(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	printf("fd1=%d\nfd2=%d\n", sv[0], sv[1]);
	fails(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}
static void k_connect(void)
{
	int s = listener();
	int c = connected(s);
	printf("fd=%d\n", c);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	ok(getsockname(c, (struct sockaddr *)&local, &len));
	printf("localport=%d\n", ntohs(local.sin_port));
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", in_dir("nobody.sock"));
	int d = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("ufd=%d\n", d);
	fails(connect(d, (struct sockaddr *)&u, sizeof(u)), ENOENT);
	/* A unix connect that succeeds: the tuple carries the server's path. */
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", in_dir("srv.sock"));
	ok(bind(srv, (struct sockaddr *)&u, sizeof(u)));
	ok(listen(srv, 1));
	int e = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("ufd2=%d\n", e);
	ok(connect(e, (struct sockaddr *)&u, sizeof(u)));
}
static void k_accept(void)
{
	int s = listener();
	int c = connected(s);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	ok(getsockname(c, (struct sockaddr *)&local, &len));
	printf("clientport=%d\n", ntohs(local.sin_port));
	int a = syscall(SYS_accept, s, NULL, NULL);
	ok(a);
	printf("fd=%d\n", a);
	fails(syscall(SYS_accept, 0x7fff, NULL, NULL), EBADF);
}
static void k_accept4(void)
{
	int s = listener();
	int c = connected(s);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	ok(getsockname(c, (struct sockaddr *)&local, &len));
	printf("clientport=%d\n", ntohs(local.sin_port));
	int a = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	ok(a);
	printf("fd=%d\n", a);
	fails(accept4(0x7fff, NULL, NULL, 0), EBADF);
}
static void k_bind(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", in_dir("b.sock"));
	printf("fd=%d\n", s);
	ok(bind(s, (struct sockaddr *)&u, sizeof(u)));
	fails(bind(0x7fff, (struct sockaddr *)&u, sizeof(u)), EBADF);
}
static void k_listen(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	printf("fd=%d\n", s);
	ok(listen(s, 7));
	fails(listen(0x7fff, 7), EBADF);
}
static void k_sendto(void)
{
	int s = listener();
	int c = connected(s);
	printf("fd=%d\n", c);
	ok(sendto(c, "hello", 5, 0, NULL, 0));
	fails(sendto(0x7fff, "hello", 5, 0, NULL, 0), EBADF);
}
static void k_sendmsg(void)
{
	int s = listener();
	int c = connected(s);
	printf("fd=%d\n", c);
	struct iovec v = { .iov_base = "hello", .iov_len = 5 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	ok(sendmsg(c, &m, 0));
	fails(sendmsg(0x7fff, &m, 0), EBADF);
}
static void k_recvfrom(void)
{
	int s = listener();
	int c = connected(s);
	int a = accept(s, NULL, NULL);
	printf("fd=%d\n", a);
	ok(send(c, "hello", 5, 0));
	char buf[16];
	ok(recvfrom(a, buf, sizeof(buf), 0, NULL, NULL));
	fails(recvfrom(0x7fff, buf, sizeof(buf), 0, NULL, NULL), EBADF);
}
static void k_recvmsg(void)
{
	int s = listener();
	int c = connected(s);
	int a = accept(s, NULL, NULL);
	printf("fd=%d\n", a);
	ok(send(c, "hello", 5, 0));
	char buf[16];
	struct iovec v = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	ok(recvmsg(a, &m, 0));
	fails(recvmsg(0x7fff, &m, 0), EBADF);
}
static void k_dup(void)
{
	int fd = dup(1);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(dup(0x7fff), EBADF);
}
static void k_dup2(void)
{
	ok(syscall(SYS_dup2, 1, 50));
	fails(syscall(SYS_dup2, 0x7fff, 50), EBADF);
}
static void k_dup3(void)
{
	ok(dup3(1, 51, O_CLOEXEC));
	fails(dup3(1, 1, 0), EINVAL);
}
static void k_fcntl(void)
{
	fcntl(1, F_GETFL); /* not recorded */
	int fd = fcntl(1, F_DUPFD_CLOEXEC, 60);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(fcntl(0x7fff, F_DUPFD, 0), EBADF);
}
static void k_pipe(void)
{
	int p[2];
	ok(syscall(SYS_pipe, p));
	printf("fd1=%d\nfd2=%d\n", p[0], p[1]);
	fails(syscall(SYS_pipe, (void *)8), EFAULT);
}
static void k_pipe2(void)
{
	int p[2];
	ok(pipe2(p, O_CLOEXEC));
	printf("fd1=%d\nfd2=%d\n", p[0], p[1]);
	fails(pipe2(p, 0x7fffffff), EINVAL);
}
static void k_symlink(void)
{
	ok(syscall(SYS_symlink, "/etc/shadow", in_dir("l")));
	fails(syscall(SYS_symlink, "/etc/shadow", in_dir("l")), EEXIST);
}
static void k_symlinkat(void)
{
	ok(symlinkat("/etc/shadow", AT_FDCWD, in_dir("l")));
	fails(symlinkat("/etc/shadow", AT_FDCWD, in_dir("l")), EEXIST);
}
static void k_link(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_link, in_dir("a"), in_dir("b")));
	fails(syscall(SYS_link, in_dir("a"), in_dir("b")), EEXIST);
}
static void k_linkat(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(linkat(AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b"), 0));
	fails(linkat(AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b"), 0), EEXIST);
}
static void k_unlink(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_unlink, in_dir("a")));
	fails(syscall(SYS_unlink, in_dir("a")), ENOENT);
}
static void k_unlinkat(void)
{
	ok(mkdir(in_dir("d"), 0700));
	ok(unlinkat(AT_FDCWD, in_dir("d"), AT_REMOVEDIR));
	fails(unlinkat(AT_FDCWD, in_dir("d"), AT_REMOVEDIR), ENOENT);
}
static void k_rename(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_rename, in_dir("a"), in_dir("b")));
	fails(syscall(SYS_rename, in_dir("a"), in_dir("b")), ENOENT);
}
static void k_renameat(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_renameat, AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b")));
	fails(syscall(SYS_renameat, AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b")), ENOENT);
}
static void k_renameat2(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_renameat2, AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b"), RENAME_NOREPLACE));
	fails(syscall(SYS_renameat2, AT_FDCWD, in_dir("a"), AT_FDCWD, in_dir("b"), RENAME_NOREPLACE), ENOENT);
}
static void k_mkdir(void)
{
	ok(syscall(SYS_mkdir, in_dir("d"), 0751));
	fails(syscall(SYS_mkdir, in_dir("d"), 0751), EEXIST);
}
static void k_mkdirat(void)
{
	ok(mkdirat(AT_FDCWD, in_dir("d"), 0751));
	fails(mkdirat(AT_FDCWD, in_dir("d"), 0751), EEXIST);
}
static void k_rmdir(void)
{
	ok(mkdir(in_dir("d"), 0700));
	ok(syscall(SYS_rmdir, in_dir("d")));
	fails(syscall(SYS_rmdir, in_dir("d")), ENOENT);
}
static void k_chmod(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_chmod, in_dir("a"), 04755));
	fails(syscall(SYS_chmod, in_dir("missing"), 0644), ENOENT);
}
static void k_fchmod(void)
{
	int fd = open(in_dir("a"), O_CREAT | O_WRONLY, 0600);
	printf("fd=%d\n", fd);
	ok(fchmod(fd, 0604));
	fails(fchmod(0x7fff, 0604), EBADF);
}
static void k_fchmodat(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(fchmodat(AT_FDCWD, in_dir("a"), 0640, 0));
	fails(fchmodat(AT_FDCWD, in_dir("missing"), 0640, 0), ENOENT);
}
static void k_chown(void)
{
	close(open(in_dir("a"), O_CREAT | O_WRONLY, 0600));
	ok(syscall(SYS_chown, in_dir("a"), 1, 2));
	fails(syscall(SYS_chown, in_dir("missing"), 1, 2), ENOENT);
}
static void k_lchown(void)
{
	ok(symlink("/nowhere", in_dir("l")));
	ok(syscall(SYS_lchown, in_dir("l"), 1, 2));
	fails(syscall(SYS_lchown, in_dir("missing"), 1, 2), ENOENT);
}
static void k_fchown(void)
{
	int fd = open(in_dir("a"), O_CREAT | O_WRONLY, 0600);
	printf("fd=%d\n", fd);
	ok(fchown(fd, 1, 2));
	fails(fchown(0x7fff, 1, 2), EBADF);
}
static void k_fchownat(void)
{
	ok(symlink("/nowhere", in_dir("l")));
	ok(fchownat(AT_FDCWD, in_dir("l"), 1, 2, AT_SYMLINK_NOFOLLOW));
	fails(fchownat(AT_FDCWD, in_dir("missing"), 1, 2, 0), ENOENT);
}
static void k_chdir(void)
{
	ok(chdir(dir));
	fails(chdir(in_dir("missing")), ENOENT);
}
static void k_fchdir(void)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	printf("fd=%d\n", fd);
	ok(fchdir(fd));
	fails(fchdir(0x7fff), EBADF);
}
/* The id calls run in a child that drops root; the parent checks the child's status. */
static void k_ids(int which)
{
	pid_t child = fork();
	if (child == 0) {
		switch (which) {
		case 0:
			ok(syscall(SYS_setgid, 1234));
			ok(syscall(SYS_setuid, 1234));
			fails(syscall(SYS_setuid, 0), EPERM);
			break;
		case 1:
			ok(syscall(SYS_setgid, 1234));
			ok(syscall(SYS_setuid, 1234));
			fails(syscall(SYS_setgid, 0), EPERM);
			break;
		case 2:
			ok(syscall(SYS_setreuid, 1234, 1235));
			fails(syscall(SYS_setreuid, 0, 0), EPERM);
			break;
		case 3:
			ok(syscall(SYS_setregid, 1234, 1235));
			ok(syscall(SYS_setreuid, 1234, 1235));
			fails(syscall(SYS_setregid, 0, 0), EPERM);
			break;
		case 4:
			ok(syscall(SYS_setresuid, 1234, 1235, 1236));
			fails(syscall(SYS_setresuid, 0, 0, 0), EPERM);
			break;
		case 5:
			ok(syscall(SYS_setresgid, 1234, 1235, 1236));
			ok(syscall(SYS_setresuid, 1234, 1235, 1236));
			fails(syscall(SYS_setresgid, 0, 0, 0), EPERM);
			break;
		}
		_exit(0);
	}
	printf("child=%d\n", child);
	int status;
	waitpid(child, &status, 0);
	if (status != 0)
		exit(12);
}
static void k_ptrace(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	printf("child=%d\n", child);
	ok(ptrace(PTRACE_ATTACH, child, 0, 0));
	waitpid(child, NULL, 0);
	fails(ptrace(PTRACE_ATTACH, 0x3fffffff, 0, 0), ESRCH);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}
static void k_mount(void)
{
	ok(mkdir(in_dir("m"), 0700));
	ok(mount("lanner-test", in_dir("m"), "tmpfs", MS_NOSUID, "size=1m"));
	umount2(in_dir("m"), 0);
	fails(mount("lanner-test", in_dir("missing"), "tmpfs", 0, NULL), ENOENT);
}
static void k_umount2(void)
{
	ok(mkdir(in_dir("m"), 0700));
	ok(mount("lanner-test", in_dir("m"), "tmpfs", 0, NULL));
	ok(umount2(in_dir("m"), MNT_DETACH));
	fails(umount2(in_dir("m"), 0), EINVAL);
}
static void k_setns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY);
	printf("fd=%d\n", fd);
	ok(setns(fd, CLONE_NEWNET));
	fails(setns(0x7fff, 0), EBADF);
}
static void k_unshare(void)
{
	ok(unshare(CLONE_NEWUTS));
	fails(unshare(0x1), EINVAL);
}
static void k_bpf(void)
{
	char attr[128] = { 0 };
	fails(syscall(SYS_bpf, 0x7ff, attr, sizeof(attr)), EINVAL);
}
static void k_init_module(void)
{
	char image[64] = { 0 };
	fails_any(syscall(SYS_init_module, image, sizeof(image), "lanner=1")); /* ENOSYS without modules */
}
static void k_finit_module(void)
{
	fails_any(syscall(SYS_finit_module, 0x7fff, "lanner=1", 0));
}
static void k_memfd_create(void)
{
	int fd = memfd_create("lanner-memfd", MFD_CLOEXEC);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(memfd_create("lanner-memfd", 0x7fff0000), EINVAL);
}
static void k_userfaultfd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	ok(fd);
	printf("fd=%d\n", fd);
	fails(syscall(SYS_userfaultfd, 0x7fff0000), EINVAL);
}
static void k_prctl(void)
{
	ok(prctl(PR_SET_NAME, "lanner-prctl"));
	fails(prctl(0x7fff), EINVAL);
}
static void k_kill(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	printf("child=%d\n", child);
	ok(kill(child, SIGKILL));
	waitpid(child, NULL, 0);
	fails(kill(0x3fffffff, SIGTERM), ESRCH);
}
static void k_tkill(void)
{
	ok(syscall(SYS_tkill, getpid(), 0));
	fails(syscall(SYS_tkill, 0x3fffffff, 0), ESRCH);
}
static void k_tgkill(void)
{
	ok(syscall(SYS_tgkill, getpid(), getpid(), 0));
	fails(syscall(SYS_tgkill, getpid(), 0x3fffffff, 0), ESRCH);
}
static void reap(pid_t child)
{
	if (child == 0)
		_exit(0);
	printf("child=%d\n", child);
	waitpid(child, NULL, 0);
}
static void k_clone(void)
{
	reap(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
	fails(syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
}
/* procfork's shares_fds: a process made with CLONE_FILES shares this fd table, a fork does not. */
static void k_fork_shares_fds(void)
{
	pid_t shared = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (shared == 0)
		_exit(0);
	printf("shared=%d\n", shared);
	waitpid(shared, NULL, 0);
	reap(fork());
}
#if defined(__x86_64__)
/* clone3 whose child (on its own stack, sharing this memory) exits at once without touching
 * the stack; the parent gets the child's pid. */
static long clone3_vm_child_exits(struct clone_args *args)
{
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t" /* the child: exit(0) */
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args))
			 : "rcx", "r11", "memory");
	return ret;
}
#endif
static void k_clone3(void)
{
	struct clone_args args = { .flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD };
	reap(syscall(SYS_clone3, &args, sizeof(args)));
	struct clone_args bad = { .flags = CLONE_SIGHAND };
	fails(syscall(SYS_clone3, &bad, sizeof(bad)), EINVAL);
#if defined(__x86_64__)
	/* A child sharing this memory: the struct is overwritten as soon as clone3 returns, maybe
	 * before the child first runs, so its record must not read the flags from memory. */
	static char stack[16384] __attribute__((aligned(16)));
	struct clone_args vm = { .flags = CLONE_VM,
				 .exit_signal = SIGCHLD,
				 .stack = (uintptr_t)stack,
				 .stack_size = sizeof(stack) };
	long child = clone3_vm_child_exits(&vm);
	memset(&vm, 0, sizeof(vm));
	if (child < 0)
		exit(12);
	printf("vmchild=%ld\n", child);
	waitpid(child, NULL, 0);
#endif
}
static void k_fork(void)
{
	reap(syscall(SYS_fork));
}
static void k_vfork(void)
{
	reap(vfork());
}
static void k_capset(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	ok(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << CAP_NET_RAW);
	ok(syscall(SYS_capset, &h, d));
	h.version = 1;
	fails(syscall(SYS_capset, &h, d), EINVAL);
}
static void k_read(void)
{
	int fd = open("/etc/hostname", O_RDONLY);
	printf("fd=%d\n", fd);
	char buf[7];
	ok(read(fd, buf, sizeof(buf)));
	fails(read(0x7fff, buf, sizeof(buf)), EBADF);
}
static void k_write(void)
{
	int fd = open(in_dir("w"), O_CREAT | O_WRONLY, 0600);
	printf("fd=%d\n", fd);
	ok(write(fd, "abc", 3));
	fails(write(0x7fff, "abc", 3), EBADF);
}
static void k_pread(void)
{
	int fd = open("/etc/hostname", O_RDONLY);
	printf("fd=%d\n", fd);
	char buf[7];
	ok(pread(fd, buf, sizeof(buf), 1));
	fails(pread(0x7fff, buf, sizeof(buf), 1), EBADF);
}
static void k_pwrite(void)
{
	int fd = open(in_dir("w"), O_CREAT | O_WRONLY, 0600);
	printf("fd=%d\n", fd);
	ok(pwrite(fd, "abc", 3, 2));
	fails(pwrite(0x7fff, "abc", 3, 2), EBADF);
}
static void k_readv(void)
{
	int fd = open("/etc/hostname", O_RDONLY);
	printf("fd=%d\n", fd);
	char buf[7];
	struct iovec v = { .iov_base = buf, .iov_len = sizeof(buf) };
	ok(readv(fd, &v, 1));
	fails(readv(0x7fff, &v, 1), EBADF);
}
static void k_writev(void)
{
	int fd = open(in_dir("w"), O_CREAT | O_WRONLY, 0600);
	printf("fd=%d\n", fd);
	struct iovec v = { .iov_base = "abc", .iov_len = 3 };
	ok(writev(fd, &v, 1));
	fails(writev(0x7fff, &v, 1), EBADF);
}
static void k_setuid(void)
{
	k_ids(0);
}
static void k_setgid(void)
{
	k_ids(1);
}
static void k_setreuid(void)
{
	k_ids(2);
}
static void k_setregid(void)
{
	k_ids(3);
}
static void k_setresuid(void)
{
	k_ids(4);
}
static void k_setresgid(void)
{
	k_ids(5);
}

static const struct {
	const char *kind;
	void (*run)(void);
} KINDS[] = {
	{ "creat", k_creat },
	{ "close", k_close },
	{ "close_range", k_close_range },
	{ "socket", k_socket },
	{ "socketpair", k_socketpair },
	{ "connect", k_connect },
	{ "accept", k_accept },
	{ "accept4", k_accept4 },
	{ "bind", k_bind },
	{ "listen", k_listen },
	{ "sendto", k_sendto },
	{ "sendmsg", k_sendmsg },
	{ "recvfrom", k_recvfrom },
	{ "recvmsg", k_recvmsg },
	{ "dup", k_dup },
	{ "dup2", k_dup2 },
	{ "dup3", k_dup3 },
	{ "fcntl", k_fcntl },
	{ "pipe", k_pipe },
	{ "pipe2", k_pipe2 },
	{ "symlink", k_symlink },
	{ "symlinkat", k_symlinkat },
	{ "link", k_link },
	{ "linkat", k_linkat },
	{ "unlink", k_unlink },
	{ "unlinkat", k_unlinkat },
	{ "rename", k_rename },
	{ "renameat", k_renameat },
	{ "renameat2", k_renameat2 },
	{ "mkdir", k_mkdir },
	{ "mkdirat", k_mkdirat },
	{ "rmdir", k_rmdir },
	{ "chmod", k_chmod },
	{ "fchmod", k_fchmod },
	{ "fchmodat", k_fchmodat },
	{ "chown", k_chown },
	{ "lchown", k_lchown },
	{ "fchown", k_fchown },
	{ "fchownat", k_fchownat },
	{ "chdir", k_chdir },
	{ "fchdir", k_fchdir },
	{ "setuid", k_setuid },
	{ "setgid", k_setgid },
	{ "setreuid", k_setreuid },
	{ "setregid", k_setregid },
	{ "setresuid", k_setresuid },
	{ "setresgid", k_setresgid },
	{ "ptrace", k_ptrace },
	{ "mount", k_mount },
	{ "umount2", k_umount2 },
	{ "setns", k_setns },
	{ "unshare", k_unshare },
	{ "bpf", k_bpf },
	{ "init_module", k_init_module },
	{ "finit_module", k_finit_module },
	{ "memfd_create", k_memfd_create },
	{ "userfaultfd", k_userfaultfd },
	{ "prctl", k_prctl },
	{ "kill", k_kill },
	{ "tkill", k_tkill },
	{ "tgkill", k_tgkill },
	{ "clone", k_clone },
	{ "fork_shares_fds", k_fork_shares_fds },
	{ "clone3", k_clone3 },
	{ "fork", k_fork },
	{ "vfork", k_vfork },
	{ "capset", k_capset },
	{ "read", k_read },
	{ "write", k_write },
	{ "pread", k_pread },
	{ "pwrite", k_pwrite },
	{ "readv", k_readv },
	{ "writev", k_writev },
};

/* Copies /bin/true into a memfd and executes it from there (the exe-from-memfd flag). */
static void exec_memfd(void)
{
	int fd = memfd_create("lanner-true", 0);
	int src = open("/bin/true", O_RDONLY);
	char buf[65536];
	long n;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			exit(14);
	char *args[] = { "true-from-memfd", NULL };
	char *env[] = { NULL };
	syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH);
	exit(15);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "exec-memfd") == 0)
		exec_memfd();
	if (argc == 2)
		old_mode(argv[1]);
	if (argc != 3)
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[2]);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) {
		if (strcmp(KINDS[i].kind, argv[1]) == 0) {
			KINDS[i].run();
			return 0;
		}
	}
	fprintf(stderr, "no helper for kind %s\n", argv[1]);
	return 2;
}
