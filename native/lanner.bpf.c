// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lanner capture probe: turns exec, open, thread exit and fork into MessagePack records in a
 * BPF ring buffer. Layouts: docs/EVENTS.md. x86_64 only (syscall numbers and pt_regs below).
 * CO-RE: field offsets are relocated against the running kernel's BTF at load time. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "msgpack.bpf.h"
#include "schema.h"

/* The probe calls GPL-only helpers (bpf_probe_read_*). */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define NR_open 2
#define NR_execve 59
#define NR_openat 257
#define NR_execveat 322
#define NR_openat2 437

#define AT_FDCWD -100
/* include/uapi/asm-generic/fcntl.h, include/linux/stat.h */
#define O_CREAT 00000100
#define __O_TMPFILE 020000000
#define S_IALLUGO 07777
/* arch/x86/include/asm/thread_info.h: thread_info.status bit set while an ia32 syscall runs. */
#define TS_COMPAT 0x0002

/* Set by the loader before load; rodata, so the verifier sees constants. */
const volatile __u32 agent_tgid = 0;
/* Read by the loader after open, to refuse a probe built from another schema. */
const volatile __u32 schema_version = LANNER_SCHEMA_VERSION;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LANNER_RING_DEFAULT_BYTES); /* the loader may resize before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LANNER_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* One scratch record per program per CPU: a program cannot re-enter itself on a CPU, so a
 * slot of its own is never shared with a half-built record of another program. */
enum scratch_slot { SLOT_SYS_EXIT, SLOT_EXEC, SLOT_EXIT, SLOT_FORK, SLOT_COUNT };
struct scratch {
	__u8 data[MP_SCRATCH_BYTES];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOT_COUNT);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* kernfs_node.parent was renamed __parent in Linux 6.15. Both spellings are declared here
 * rather than taken from vmlinux.h, so the probe builds against either kernel's headers. */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));
struct kernfs_node___615 {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u8 *scratch_for(__u32 slot)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);
	return s ? s->data : NULL;
}

/* [kind, boot_sec, boot_nsec, tid, pid: the fixarray header and the five header fields. */
static __always_inline __u32 put_header(__u8 *buf, __u32 params, __u32 kind, __u32 tid, __u32 pid)
{
	__u64 ns = bpf_ktime_get_boot_ns();
	__u32 off = mp_fixarray(buf, 0, LANNER_HEADER_FIELDS + params + 1);
	off = mp_uint(buf, off, kind);
	off = mp_uint(buf, off, ns / 1000000000);
	off = mp_uint(buf, off, ns % 1000000000);
	off = mp_uint(buf, off, tid);
	return mp_uint(buf, off, pid);
}

/* Appends the cut bitmask and copies the record into the ring; nothing is dropped uncounted. */
static __always_inline void submit(__u8 *buf, __u32 off, __u32 cut)
{
	off = mp_uint(buf, off, cut);
	if (off > LANNER_RECORD_MAX) {
		count(LANNER_COUNTER_TOO_BIG);
		return;
	}
	/* No wakeup: the agent drains on a timer, so a wakeup per event would be pure cost. */
	if (bpf_ringbuf_output(&events, buf, off, BPF_RB_NO_WAKEUP) == 0)
		count(LANNER_COUNTER_WRITTEN);
	else
		count(LANNER_COUNTER_RING_FULL);
}

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___pre615, parent))
		return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
	return BPF_CORE_READ((struct kernfs_node___615 *)kn, __parent);
}

/* The cgroup v2 path as an array16 of names, leaf first, at most LANNER_CGROUP_DEPTH of them.
 * The root's own (empty) name is not a component: a task in the root cgroup gives []. */
static __always_inline __u32 put_cgroup(__u8 *buf, __u32 off, struct task_struct *task, bool *cut)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	__u32 head = off;
	__u16 n = 0;
	off += 3;
#pragma unroll
	for (int i = 0; i < LANNER_CGROUP_DEPTH; i++) {
		if (!kn)
			break;
		struct kernfs_node *parent = kernfs_parent(kn);
		if (!parent)
			break;
		off = mp_str(buf, off, BPF_CORE_READ(kn, name), LANNER_CGROUP_NAME_MAX, false, cut);
		n++;
		kn = parent;
	}
	if (kn && kernfs_parent(kn))
		*cut = true; /* deeper than LANNER_CGROUP_DEPTH */
	mp_array16_at(buf, head, n);
	return off;
}

/* The exec record's params. On success (from sched_process_exec) the filename is the kernel's
 * bprm->filename and argv is read from the new image; on failure (from sys_exit) the filename
 * is the caller's user pointer and args are empty. */
static __always_inline void emit_exec(__u8 *buf, __u32 kind, struct task_struct *task, __s32 res,
				      const void *filename, bool success)
{
	__u32 off = put_header(buf, LANNER_EXEC_PARAMS, kind, BPF_CORE_READ(task, pid),
			       BPF_CORE_READ(task, tgid));
	bool cut_filename = false, cut_args = false, cut_cgroup = false;
	const struct cred *cred = BPF_CORE_READ(task, cred);

	off = mp_int(buf, off, res);
	off = mp_uint(buf, off, BPF_CORE_READ(task, real_parent, tgid));
	off = mp_uint(buf, off, BPF_CORE_READ(cred, euid.val));
	off = mp_uint(buf, off, BPF_CORE_READ(cred, egid.val));
	bool comm_cut = false; /* comm is at most 15 bytes by construction */
	off = mp_str(buf, off, &task->comm, LANNER_COMM_MAX, false, &comm_cut);
	off = mp_str(buf, off, filename, LANNER_PATH_MAX, !success, &cut_filename);
	if (success) {
		struct mm_struct *mm = BPF_CORE_READ(task, mm);
		unsigned long start = BPF_CORE_READ(mm, arg_start);
		unsigned long end = BPF_CORE_READ(mm, arg_end);
		off = mp_bin_user(buf, off, (const void *)start, end > start ? end - start : 0, LANNER_ARGS_MAX,
				  &cut_args);
	} else {
		off = mp_bin_user(buf, off, NULL, 0, LANNER_ARGS_MAX, &cut_args);
	}
	off = put_cgroup(buf, off, task, &cut_cgroup);
	submit(buf, off,
	       (cut_filename ? 1u << LANNER_EXEC_PARAM_FILENAME : 0) | (cut_args ? 1u << LANNER_EXEC_PARAM_ARGS : 0) |
		       (cut_cgroup ? 1u << LANNER_EXEC_PARAM_CGROUP : 0));
}

/* The mode as the kernel uses it (build_open_how() in fs/open.c): only with O_CREAT or
 * O_TMPFILE, else the register holds whatever the caller left there. */
static __always_inline __u32 open_mode(__u32 flags, __u32 mode)
{
	return flags & (O_CREAT | __O_TMPFILE) ? mode & S_IALLUGO : 0;
}

static __always_inline void emit_open(__u8 *buf, __u32 kind, __u64 pid_tgid, __s32 res, __s32 dirfd,
				      const void *path, __u32 flags, __u32 mode, __u32 resolve)
{
	__u32 off = put_header(buf, LANNER_OPEN_PARAMS, kind, (__u32)pid_tgid, pid_tgid >> 32);
	bool cut_path = false;
	off = mp_int(buf, off, res);
	off = mp_int(buf, off, dirfd);
	off = mp_str(buf, off, path, LANNER_PATH_MAX, true, &cut_path);
	off = mp_uint(buf, off, flags);
	off = mp_uint(buf, off, mode);
	off = mp_uint(buf, off, resolve);
	submit(buf, off, cut_path ? 1u << LANNER_OPEN_PARAM_PATH : 0);
}

/* struct open_how (include/uapi/linux/openat2.h); declared here so the probe does not need a
 * vmlinux.h from 5.6+ to build. */
struct lanner_open_how {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

static __always_inline bool in_ia32_syscall(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->thread_info.status))
		return false;
	return BPF_CORE_READ(task, thread_info.status) & TS_COMPAT;
}

/* Every syscall exit on the machine comes through here: reject by number first, then the
 * agent's own threads, before touching anything else. */
SEC("tp_btf/sys_exit")
int BPF_PROG(lanner_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	if (nr != NR_openat && nr != NR_open && nr != NR_openat2 && nr != NR_execve && nr != NR_execveat)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) == agent_tgid)
		return 0;
	/* A successful exec is reported by sched_process_exec. */
	if ((nr == NR_execve || nr == NR_execveat) && ret == 0)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	/* ia32 syscall numbers overlap the x86_64 ones (437 is openat2 in both): ignore them. */
	if (in_ia32_syscall(task))
		return 0;

	count(LANNER_COUNTER_SEEN);
	__u8 *buf = scratch_for(SLOT_SYS_EXIT);
	if (!buf)
		return 0;

	switch (nr) {
	case NR_open:
		emit_open(buf, LANNER_KIND_OPEN, pid_tgid, ret, AT_FDCWD, (const void *)regs->di, regs->si,
			  open_mode(regs->si, regs->dx), 0);
		break;
	case NR_openat:
		emit_open(buf, LANNER_KIND_OPENAT, pid_tgid, ret, regs->di, (const void *)regs->si, regs->dx,
			  open_mode(regs->dx, regs->r10), 0);
		break;
	case NR_openat2: {
		/* The caller's struct open_how, read at exit. */
		struct lanner_open_how how = {};
		if (regs->r10 >= sizeof(how))
			bpf_probe_read_user(&how, sizeof(how), (const void *)regs->dx);
		emit_open(buf, LANNER_KIND_OPENAT2, pid_tgid, ret, regs->di, (const void *)regs->si, how.flags,
			  how.mode, how.resolve);
		break;
	}
	case NR_execve:
		emit_exec(buf, LANNER_KIND_EXECVE, task, ret, (const void *)regs->di, false);
		break;
	case NR_execveat:
		emit_exec(buf, LANNER_KIND_EXECVEAT, task, ret, (const void *)regs->si, false);
		break;
	}
	return 0;
}

/* bprm->fdpath: the "/dev/fd/N[/name]" filename alloc_bprm() makes for execveat with a dirfd
 * other than AT_FDCWD and a relative or empty path (Linux 5.9+). */
struct linux_binprm___since59 {
	const char *fdpath;
} __attribute__((preserve_access_index));

/* execveat if the kernel had to name the file through its dirfd. orig_ax cannot tell: it is
 * rewritten to __NR_execve (set_personality_64bit()) before this tracepoint fires. So an
 * execveat with AT_FDCWD or an absolute path, which execs exactly like execve, is reported as
 * execve, as is every exec on kernels before 5.9. */
static __always_inline __u32 exec_kind(struct linux_binprm *bprm)
{
	if (!bpf_core_field_exists(struct linux_binprm___since59, fdpath))
		return LANNER_KIND_EXECVE;
	return BPF_CORE_READ((struct linux_binprm___since59 *)bprm, fdpath) ? LANNER_KIND_EXECVEAT
									   : LANNER_KIND_EXECVE;
}

/* A successful exec: the new image is in place and the task is `p` (a non-leader thread that
 * execs has already taken over the leader's pid). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(lanner_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 kind = exec_kind(bprm);
	count(LANNER_COUNTER_SEEN);
	__u8 *buf = scratch_for(SLOT_EXEC);
	if (!buf)
		return 0;
	emit_exec(buf, kind, p, 0, BPF_CORE_READ(bprm, filename), true);
	return 0;
}

/* A thread ended; exit_code is set by do_exit() before this tracepoint fires. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(lanner_exit, struct task_struct *p)
{
	count(LANNER_COUNTER_SEEN);
	__u8 *buf = scratch_for(SLOT_EXIT);
	if (!buf)
		return 0;
	__u32 off = put_header(buf, LANNER_PROCEXIT_PARAMS, LANNER_KIND_PROCEXIT, BPF_CORE_READ(p, pid),
			       BPF_CORE_READ(p, tgid));
	off = mp_int(buf, off, BPF_CORE_READ(p, exit_code));
	submit(buf, off, 0);
	return 0;
}

/* A thread or process was created; the header is the parent. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(lanner_fork, struct task_struct *parent, struct task_struct *child)
{
	count(LANNER_COUNTER_SEEN);
	__u8 *buf = scratch_for(SLOT_FORK);
	if (!buf)
		return 0;
	__u32 off = put_header(buf, LANNER_PROCFORK_PARAMS, LANNER_KIND_PROCFORK, BPF_CORE_READ(parent, pid),
			       BPF_CORE_READ(parent, tgid));
	off = mp_uint(buf, off, BPF_CORE_READ(child, pid));
	off = mp_uint(buf, off, BPF_CORE_READ(child, tgid));
	submit(buf, off, 0);
	return 0;
}
