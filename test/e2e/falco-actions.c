/* The real actions behind Falco's stable rules whose events Lanner did not capture before:
 * test/e2e/falco-stable-live.test.ts runs one per process and matches alerts by the pid this
 * prints first ("pid=N"). Each action makes the syscall directly, the way an attacker's tool
 * would, and exits 0 only if the kernel did what the rule is about.
 *
 *   falco-actions symlink TARGET LINK      symlink(TARGET, LINK)
 *   falco-actions symlinkat TARGET LINK    symlinkat(TARGET, AT_FDCWD, LINK)
 *   falco-actions link OLD NEW             link(OLD, NEW)
 *   falco-actions packet             socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
 *   falco-actions dup2 PORT          a TCP connection to 127.0.0.1:PORT dup2'd onto stdin
 *   falco-actions ptrace             PTRACE_ATTACH to a child of its own, then detach
 *   falco-actions traceme            PTRACE_TRACEME
 *   falco-actions connect IP PORT    listen on IP:PORT, connect to it (run in a private netns)
 *   falco-actions noop               nothing (a program to exec from somewhere)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "falco-actions: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in inet_addr_of(const char *ip, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "falco-actions: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static int tcp_connect(struct sockaddr_in to)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&to, sizeof(to)) != 0)
		die("connect");
	return s;
}

static void attach_to_child(void)
{
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		pause();
		_exit(0);
	}
	printf("child=%d\n", child);
	fflush(stdout);
	if (ptrace(PTRACE_ATTACH, child, 0, 0) != 0)
		die("PTRACE_ATTACH");
	int status = 0;
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	if (ptrace(PTRACE_DETACH, child, 0, 0) != 0)
		die("PTRACE_DETACH");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: falco-actions ACTION [ARGS]\n");
		return 2;
	}
	const char *action = argv[1];
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (strcmp(action, "symlink") == 0 && argc == 4) {
		if (symlink(argv[2], argv[3]) != 0)
			die("symlink");
	} else if (strcmp(action, "symlinkat") == 0 && argc == 4) {
		if (symlinkat(argv[2], AT_FDCWD, argv[3]) != 0)
			die("symlinkat");
	} else if (strcmp(action, "link") == 0 && argc == 4) {
		if (link(argv[2], argv[3]) != 0)
			die("link");
	} else if (strcmp(action, "packet") == 0 && argc == 2) {
		int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		if (s < 0)
			die("socket(AF_PACKET)");
		close(s);
	} else if (strcmp(action, "dup2") == 0 && argc == 3) {
		int s = tcp_connect(inet_addr_of("127.0.0.1", argv[2]));
		if (dup2(s, 0) != 0)
			die("dup2");
	} else if (strcmp(action, "ptrace") == 0 && argc == 2) {
		attach_to_child();
	} else if (strcmp(action, "traceme") == 0 && argc == 2) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			die("PTRACE_TRACEME");
	} else if (strcmp(action, "connect") == 0 && argc == 4) {
		struct sockaddr_in at = inet_addr_of(argv[2], argv[3]);
		int l = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    bind(l, (struct sockaddr *)&at, sizeof(at)) != 0 || listen(l, 1) != 0)
			die("listen");
		close(tcp_connect(at));
		close(l);
	} else if (strcmp(action, "noop") == 0 && argc == 2) {
		/* The exec itself is the action. */
	} else {
		fprintf(stderr, "falco-actions: unknown action or wrong arguments: %s\n", action);
		return 2;
	}
	return 0;
}
