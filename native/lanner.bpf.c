// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lanner capture probe: turns syscalls (at exit) and the exec, exit and fork tracepoints into
 * MessagePack records in a BPF ring buffer. Layouts: docs/EVENTS.md; kinds and parameters:
 * agent/events/table.ts, generated into events.gen.h.
 *
 * Dispatch: lanner_sys_exit runs for every syscall on the machine. It looks the syscall number
 * up in the `selection` map (written by the agent at start and whenever the rules change) and
 * returns at once for unselected ones; a selected one tail-calls the program the kind's
 * descriptor names (tail_generic, tail_sock, tail_open, tail_exec), each small enough for the
 * verifier on its own. CO-RE: field offsets are relocated against the running kernel's BTF. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "schema.h"
#define LANNER_DESCRIPTORS
#include "events.gen.h"

/* The probe calls GPL-only helpers (bpf_probe_read_*). */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void count(__u32 which);
#define MP_ON_FAULT() count(LANNER_COUNTER_READ_FAULT)
#include "msgpack.bpf.h"

#define AT_FDCWD (-100)
/* include/uapi/asm-generic/fcntl.h, include/linux/stat.h */
#define O_CREAT 00000100
#define __O_TMPFILE 020000000
#define S_IALLUGO 07777
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFDIR 0040000
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
/* arch/x86/include/asm/thread_info.h: thread_info.status bit set while an ia32 syscall runs. */
#define TS_COMPAT 0x0002

/* Set by the loader before load; rodata, so the verifier sees constants. The agent's tgid and
 * pid namespace as it sees them (its namespace may not be the host's): see is_agent(). */
const volatile __u32 agent_tgid = 0;
const volatile __u64 agent_pidns_dev = 0;
const volatile __u64 agent_pidns_ino = 0;
/* Read by the loader after open, to refuse a probe built from another schema. */
const volatile __u32 schema_version = LANNER_SCHEMA_VERSION;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LANNER_RING_DEFAULT_BYTES); /* the loader may resize before load */
} events SEC(".maps");

/* Several rings (engine.modern_ebpf.cpus_for_each_buffer > 0): the loader sets ring_table and
 * fills `rings` with, for every possible CPU id, the ring that CPU writes to (one ring per group
 * of CPUs; it creates the rings itself, all of one size). 0: every CPU writes to `events`, and the
 * branch on this constant is removed by the verifier. */
const volatile __u32 ring_table = 0;
struct ring_of_cpus {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LANNER_RING_DEFAULT_BYTES);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* the number of possible CPUs, set by the loader */
	__type(key, __u32);
	__array(values, struct ring_of_cpus);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LANNER_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Syscall number -> kind id to record, 0 = drop. Written by the agent (lanner_select). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LANNER_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} selection SEC(".maps");

/* The agent's tgid as the host sees it, learnt by is_agent() (0 until then). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} agent_host SEC(".maps");

/* The close prefilter's fd tracker (schema.h): tgid -> one byte per fd, 1 = its creation was
 * recorded (or it was open when the process was forked: the state inherits the parent's fds).
 * Bytes, not bits: a plain store, so threads of one process never undo each other's update. A
 * process without an entry (started before the probe, or the map was full) has all its closes
 * sent. A 1 left by an fd closed without a record (close-on-exec, close_range) is cleared when
 * an open the prefilter drops reuses its number; until then it only makes a close sent needlessly. */
struct fd_marks {
	__u8 open[LANNER_FD_TRACK_FDS];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LANNER_FD_TRACK_PROCS);
	__type(key, __u32);
	__type(value, struct fd_marks);
} fd_track SEC(".maps");

/* A zeroed value to insert from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fd_marks);
} fd_zero SEC(".maps");

/* The open prefilter's entries (schema.h), two copies: the switch's LANNER_PREFILTER_OPEN_BUFFER
 * bit says which one is live, so the agent rewrites the other and flips the bit, and an open
 * never reads a half-written filter. Laid out as agent/capture/open-filter.ts encodes it. */
struct open_filter_entry {
	__u32 need;
	__u32 len;
	__u8 prefix[LANNER_OPEN_FILTER_PREFIX];
};
struct open_filter {
	__u32 count;
	__u32 pad;
	struct open_filter_entry e[LANNER_OPEN_FILTER_ENTRIES];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct open_filter);
} open_filter SEC(".maps");

/* The path an open passed, read for the prefilter (too big for the stack). */
struct path_window {
	__u8 b[LANNER_OPEN_FILTER_PATH];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_window);
} open_path SEC(".maps");

/* LANNER_PROG_* -> the tail program; filled by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, LANNER_PROGS);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

/* One scratch record per program family per CPU: a program cannot re-enter itself on a CPU, so a
 * slot of its own is never shared with a half-built record of another program. A plain array
 * indexed cpu * SLOT_COUNT + slot (the loader sizes it): per-CPU array values are capped at 32 KiB. */
enum scratch_slot { SLOT_SYS_EXIT, SLOT_EXEC, SLOT_EXIT, SLOT_FORK, SLOT_COUNT };
struct scratch {
	__u8 data[MP_SCRATCH_BYTES];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_COUNT); /* times the number of CPUs, set by the loader */
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
	__u32 key = bpf_get_smp_processor_id() * SLOT_COUNT + slot;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &key);
	return s ? s->data : NULL;
}

/* The record's cut mask lives in the scratch buffer: a value the verifier does not track, so
 * branches that set different bits still end in the same state and are pruned. */
static __always_inline void cut_reset(__u8 *buf)
{
	*(volatile __u32 *)(buf + MP_CUT_SLOT) = 0;
}

static __always_inline void cut_set(__u8 *buf, __u32 param)
{
	volatile __u32 *slot = (volatile __u32 *)(buf + MP_CUT_SLOT);
	*slot = *slot | (1u << (param & 31));
}

/* [kind, boot_sec, boot_nsec, tid, pid: the array16 header and the five header fields. */
static __always_inline __u32 put_header(__u8 *buf, __u32 params, __u32 kind, __u32 tid, __u32 pid)
{
	__u64 ns = bpf_ktime_get_boot_ns();
	cut_reset(buf);
	__u32 off = mp_array16(buf, 0, LANNER_HEADER_FIELDS + params + 1);
	off = mp_uint(buf, off, kind);
	off = mp_uint(buf, off, ns / 1000000000);
	off = mp_uint(buf, off, ns % 1000000000);
	off = mp_uint(buf, off, tid);
	return mp_uint(buf, off, pid);
}

/* Appends the cut bitmask and copies the record into the ring; nothing is dropped uncounted. */
static __always_inline void submit(__u8 *buf, __u32 off, __u32 kind)
{
	off = mp_uint(buf, off, *(volatile __u32 *)(buf + MP_CUT_SLOT));
	kind &= LANNER_KIND_SLOTS - 1;
	if (off > LANNER_RECORD_MAX) {
		count(LANNER_COUNTER_TOO_BIG);
		count(LANNER_COUNTER_KIND_DROPPED + kind);
		return;
	}
	/* No wakeup: the agent drains on a timer, so a wakeup per event would be pure cost. */
	long rc = -1;
	if (ring_table == 0) {
		rc = bpf_ringbuf_output(&events, buf, off, BPF_RB_NO_WAKEUP);
	} else {
		__u32 cpu = bpf_get_smp_processor_id();
		void *ring = bpf_map_lookup_elem(&rings, &cpu);
		/* Never missing (the loader maps every possible CPU); counted as full if it were. */
		if (ring)
			rc = bpf_ringbuf_output(ring, buf, off, BPF_RB_NO_WAKEUP);
	}
	if (rc == 0) {
		count(LANNER_COUNTER_WRITTEN);
		count(LANNER_COUNTER_KIND_WRITTEN + kind);
	} else {
		count(LANNER_COUNTER_RING_FULL);
		count(LANNER_COUNTER_KIND_DROPPED + kind);
	}
}

/* Whether the current task belongs to the agent. The agent knows its tgid only as its own pid
 * namespace numbers it, so the first event from a task whose tgid in that namespace is the
 * agent's records the host tgid; from then on it is one compare. Correct under `unshare --pid`
 * and with a remounted /proc. bpf_get_ns_current_pid_tgid: Linux 5.7. */
static __always_inline bool is_agent(__u32 host_tgid)
{
	__u32 zero = 0;
	__u32 *known = bpf_map_lookup_elem(&agent_host, &zero);
	if (!known)
		return false;
	if (*known != 0)
		return *known == host_tgid;
	if (agent_pidns_ino == 0)
		return host_tgid == agent_tgid;
	struct bpf_pidns_info ns = {};
	if (bpf_get_ns_current_pid_tgid(agent_pidns_dev, agent_pidns_ino, &ns, sizeof(ns)) != 0)
		return false; /* not in the agent's pid namespace */
	if (ns.tgid != agent_tgid)
		return false;
	*known = host_tgid;
	return true;
}

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___pre615, parent))
		return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
	return BPF_CORE_READ((struct kernfs_node___615 *)kn, __parent);
}

/* The cgroup that names the task's container: its v2 cgroup, or, when that is the v2 root (a
 * cgroup v1 or hybrid host, where runtimes place containers in the v1 controller hierarchies),
 * its cgroup in the memory controller's hierarchy (every Kubernetes runtime uses that one). On a
 * v2-only host a task in the root stays in the root: the memory controller's cgroup is the root
 * there too. Without this the agent would read /proc/PID/cgroup on every exec of such a host. */
static __always_inline struct kernfs_node *container_cgroup_kn(struct task_struct *task)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	if (!kn || kernfs_parent(kn))
		return kn;
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return kn;
	int memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (memory < 0 || memory >= CGROUP_SUBSYS_COUNT)
		return kn;
	struct cgroup_subsys_state *css = BPF_CORE_READ(task, cgroups, subsys[memory]);
	struct kernfs_node *v1 = css ? BPF_CORE_READ(css, cgroup, kn) : NULL;
	return v1 ? v1 : kn;
}

/* The container's cgroup path (container_cgroup_kn) as an array16 of names, leaf first, at most
 * LANNER_CGROUP_DEPTH of them. The root's own (empty) name is not a component: a task in the
 * root cgroup gives []. */
static __always_inline __u32 put_cgroup(__u8 *buf, __u32 off, struct task_struct *task, bool *cut)
{
	struct kernfs_node *kn = container_cgroup_kn(task);
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

/* The working directory as an array16 of names, leaf first: a dentry walk that steps from a
 * mount's root to its mountpoint in the parent mount, at most LANNER_CWD_DEPTH names. The name
 * count lives in the scratch buffer (like the cut mask) so that passes verify alike. */
static __always_inline __u32 put_cwd(__u8 *buf, __u32 off, struct task_struct *task, bool *cut)
{
	struct path pwd = BPF_CORE_READ(task, fs, pwd);
	struct dentry *d = pwd.dentry;
	struct mount *m = container_of(pwd.mnt, struct mount, mnt);
	struct dentry *mnt_root = BPF_CORE_READ(pwd.mnt, mnt_root);
	volatile __u32 *names = (volatile __u32 *)(buf + MP_WALK_SLOT);
	__u32 head = off;
	*names = 0;
	*cut = true; /* until the walk reaches the root */
	off += 3;
	/* A bounded loop (Linux 5.3+), not unrolled: the mount steps make it too big to unroll. */
	for (int i = 0; i < LANNER_CWD_DEPTH + 8; i++) {
		if (!d)
			break;
		if (d == mnt_root) {
			struct mount *parent = BPF_CORE_READ(m, mnt_parent);
			if (!parent || parent == m) {
				*cut = false;
				break;
			}
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = parent;
			mnt_root = BPF_CORE_READ(m, mnt.mnt_root);
			continue;
		}
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d) {
			*cut = false;
			break;
		}
		if (*names >= LANNER_CWD_DEPTH)
			break;
		bool name_cut = false;
		off = mp_str(buf, off, BPF_CORE_READ(d, d_name.name), LANNER_CWD_NAME_MAX, false, &name_cut);
		*names = *names + 1;
		d = parent;
	}
	mp_array16_at(buf, head, *names);
	return off;
}

/* new_encode_dev(): how stat(2) and Falco's tty field number a device. */
static __always_inline __u32 encode_dev(__u32 major, __u32 minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	__u32 major = BPF_CORE_READ(tty, driver, major);
	__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return encode_dev(major, minor);
}

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->loginuid))
		return 0xffffffff; /* no CONFIG_AUDIT: unset */
	return BPF_CORE_READ(task, loginuid.val);
}

/* signal->pids[type]: the session or process group leader's pid, as the host numbers it. */
static __always_inline __u32 task_group_id(struct task_struct *task, int type)
{
	struct pid *pid = BPF_CORE_READ(task, signal, pids[type & 3]);
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

/* kernel_cap_t is a u64 since Linux 6.3 and a u32[2] (low word first) before: the same 8 bytes
 * on a little-endian machine. */
static __always_inline __u64 cred_cap(const struct cred *cred, __u32 which)
{
	__u64 v = 0;
	const void *src = which == 0   ? (const void *)&cred->cap_inheritable
			  : which == 1 ? (const void *)&cred->cap_permitted
				       : (const void *)&cred->cap_effective;
	bpf_probe_read_kernel(&v, sizeof(v), src);
	return v;
}

/* The exec record's `flags` (docs/EVENTS.md; agent/state/processes.ts reads them). */
#define EXE_FROM_MEMFD 1
#define EXE_UPPER_LAYER 2
#define EXE_LOWER_LAYER 4
#define EXE_LAYER_READ 8 /* the probe looked: bits 1 and 2 say where the exe is */
/* include/uapi/linux/magic.h */
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* Which overlayfs layer holds the file of `dentry`: EXE_LAYER_READ, plus EXE_UPPER_LAYER or
 * EXE_LOWER_LAYER when it is on an overlay. fs/overlayfs/ovl_entry.h: struct ovl_inode has the
 * upper dentry right after its embedded vfs inode (overlayfs may be a module, whose types are
 * not in vmlinux's BTF, so the offset is sizeof(struct inode) of the running kernel); a copied
 * up or newly written file has one with an inode. */
static __always_inline __u32 overlay_layer(struct dentry *dentry)
{
	if (BPF_CORE_READ(dentry, d_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return EXE_LAYER_READ;
	const char *vfs_inode = (const char *)BPF_CORE_READ(dentry, d_inode);
	const void *upper_at = vfs_inode + bpf_core_type_size(struct inode);
	struct dentry *upper = NULL;
	/* The pointer itself is read: sizeof a pointer is meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if (!vfs_inode || bpf_probe_read_kernel(&upper, sizeof(upper), upper_at) != 0)
		return EXE_LAYER_READ | EXE_LOWER_LAYER;
	if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
		return EXE_LAYER_READ | EXE_UPPER_LAYER;
	return EXE_LAYER_READ | EXE_LOWER_LAYER;
}

/* The executable's flags: a memfd (its dentry is named "memfd:..."), and its overlayfs layer. */
static __always_inline __u32 exe_flags(struct task_struct *task)
{
	char name[8] = {};
	struct dentry *dentry = BPF_CORE_READ(task, mm, exe_file, f_path.dentry);
	if (!dentry)
		return 0;
	__u32 flags = overlay_layer(dentry);
	const unsigned char *dname = BPF_CORE_READ(dentry, d_name.name);
	if (dname && bpf_probe_read_kernel_str(name, sizeof(name), dname) >= 6 && name[0] == 'm' &&
	    name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
		flags |= EXE_FROM_MEMFD;
	return flags;
}

/* The hand-written encoders below write exactly these many parameters, in the table's order: a
 * parameter added to the table for these kinds must be added here too, and the build says so. */
_Static_assert(LANNER_KIND_EXECVE_PARAMS == 16 && LANNER_KIND_EXECVEAT_PARAMS == 16,
	       "emit_exec writes 16 params");
_Static_assert(LANNER_KIND_EXECVE_P_CWD == 9 && LANNER_KIND_EXECVE_P_EXE_FLAGS == 15,
	       "exec param order changed");
_Static_assert(LANNER_KIND_OPEN_PARAMS == 6 && LANNER_KIND_OPENAT_PARAMS == 6 &&
		       LANNER_KIND_OPENAT2_PARAMS == 6,
	       "emit_open writes 6 params");
_Static_assert(LANNER_KIND_PROCEXIT_PARAMS == 1 && LANNER_KIND_PROCFORK_PARAMS == 3 &&
		       LANNER_KIND_PROCFORK_P_SHARES_FDS == 2,
	       "tracepoint kinds changed");

/* The exec record's params. On success (from sched_process_exec) the filename is the kernel's
 * bprm->filename and argv/environ are read from the new image; on failure (from sys_exit) the
 * filename is the caller's user pointer, args the caller's argv array and env empty. */
static __always_inline void emit_exec(__u8 *buf, __u32 kind, struct task_struct *task, __s32 res,
				      const void *filename, const char *const *argv, bool success)
{
	__u32 off = put_header(buf, LANNER_KIND_EXECVE_PARAMS, kind, BPF_CORE_READ(task, pid),
			       BPF_CORE_READ(task, tgid));
	bool cut_filename = false, cut_args = false, cut_cgroup = false, cut_env = false, cut_cwd = false;
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	off = mp_int(buf, off, res);
	off = mp_uint(buf, off, BPF_CORE_READ(task, real_parent, tgid));
	off = mp_uint(buf, off, BPF_CORE_READ(cred, euid.val));
	off = mp_uint(buf, off, BPF_CORE_READ(cred, egid.val));
	bool comm_cut = false; /* comm is at most 15 bytes by construction */
	off = mp_str(buf, off, &task->comm, LANNER_COMM_MAX, false, &comm_cut);
	off = mp_str(buf, off, filename, LANNER_PATH_MAX, !success, &cut_filename);
	unsigned long start = 0, end = 0;
	if (success) {
		start = BPF_CORE_READ(mm, arg_start);
		end = BPF_CORE_READ(mm, arg_end);
		off = mp_bin_user(buf, off, (const void *)start, end > start ? end - start : 0,
				  LANNER_ARGS_MAX, &cut_args);
	} else {
		/* A failed exec's new image never existed: the arguments it was given, from the
		 * caller's argv array, still in place at the syscall's exit. */
		off = mp_argv_user(buf, off, argv, LANNER_ARGS_MAX, &cut_args);
	}
	off = put_cgroup(buf, off, task, &cut_cgroup);
	start = end = 0;
	if (success) {
		start = BPF_CORE_READ(mm, env_start);
		end = BPF_CORE_READ(mm, env_end);
	}
	off = mp_bin_user(buf, off, (const void *)start, end > start ? end - start : 0, LANNER_ENV_MAX,
			  &cut_env);
	off = put_cwd(buf, off, task, &cut_cwd);
	off = mp_uint(buf, off, task_tty(task));
	off = mp_uint(buf, off, task_loginuid(task));
	off = mp_uint(buf, off, task_group_id(task, PIDTYPE_SID));
	off = mp_uint(buf, off, task_group_id(task, PIDTYPE_PGID));
	off = mp_uint64(buf, off, cred_cap(cred, 2));
	off = mp_uint(buf, off, exe_flags(task));
	if (cut_filename)
		cut_set(buf, LANNER_KIND_EXECVE_P_FILENAME);
	if (cut_args)
		cut_set(buf, LANNER_KIND_EXECVE_P_ARGS);
	if (cut_cgroup)
		cut_set(buf, LANNER_KIND_EXECVE_P_CGROUP);
	if (cut_env)
		cut_set(buf, LANNER_KIND_EXECVE_P_ENV);
	if (cut_cwd)
		cut_set(buf, LANNER_KIND_EXECVE_P_CWD);
	submit(buf, off, kind);
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
	__u32 off = put_header(buf, LANNER_KIND_OPENAT_PARAMS, kind, (__u32)pid_tgid, pid_tgid >> 32);
	bool cut_path = false;
	off = mp_int(buf, off, res);
	off = mp_int(buf, off, dirfd);
	off = mp_str(buf, off, path, LANNER_PATH_MAX, true, &cut_path);
	off = mp_uint(buf, off, flags);
	off = mp_uint(buf, off, mode);
	off = mp_uint(buf, off, resolve);
	if (cut_path)
		cut_set(buf, LANNER_KIND_OPENAT_P_PATH);
	submit(buf, off, kind);
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

/* The same for the current task, on every syscall exit the selection keeps: a plain load through
 * the BTF task pointer (Linux 5.11+) instead of a probe-read helper call. */
static __always_inline bool current_in_ia32_syscall(void)
{
	if (!bpf_core_field_exists(((struct task_struct *)0)->thread_info.status))
		return false;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return bpf_get_current_task_btf()->thread_info.status & TS_COMPAT;
	return in_ia32_syscall((struct task_struct *)bpf_get_current_task());
}

/* Syscall number and arguments as saved at entry (the return value has replaced arg 0's
 * register on arm64, so orig_x0 holds it). */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
static __always_inline __u64 syscall_arg(struct pt_regs *regs, __u32 i)
{
	switch (i) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	default:
		return regs->r9;
	}
}
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
static __always_inline __u64 syscall_arg(struct pt_regs *regs, __u32 i)
{
	if (i == 0)
		return regs->orig_x0;
	return regs->regs[i & 7];
}
#else
#error "unsupported architecture"
#endif

/* The kind selected for the current syscall, 0 if none. */
static __always_inline __u32 selected_kind(struct pt_regs *regs)
{
	long nr = SYSCALL_NR(regs);
	if (nr < 0 || nr >= LANNER_SYSCALL_SLOTS)
		return 0;
	__u32 key = nr;
	__u32 *kind = bpf_map_lookup_elem(&selection, &key);
	return kind ? *kind & (LANNER_KIND_SLOTS - 1) : 0;
}

/* The prefilter switch: LANNER_PREFILTER_* bits in the selection map's spare slot. */
static __always_inline __u32 prefilter_switch(void)
{
	__u32 key = LANNER_PREFILTER_SLOT;
	__u32 *on = bpf_map_lookup_elem(&selection, &key);
	return on ? *on : 0;
}

static __always_inline bool prefilter_on(void)
{
	return prefilter_switch() & LANNER_PREFILTER_CLOSE;
}

/* Sets fd's mark (1: its creation was recorded; 0: not), for fds the marks cover. */
static __always_inline void set_fd_mark(struct fd_marks *m, long fd, __u8 recorded)
{
	if (fd >= 0 && fd < LANNER_FD_TRACK_FDS)
		m->open[fd & (LANNER_FD_TRACK_FDS - 1)] = recorded;
}

/* Keeps the calling process's fd marks: marks the fds a recorded kind created, and decides a
 * close. Returns true when the event is to be dropped (a successful close of an unmarked fd with
 * the prefilter on). */
static __always_inline bool track_fds(__u32 kind, struct pt_regs *regs, long ret, __u32 tgid)
{
	/* Which fds a kind creates is a column of the event table (createsFds). Opens are marked in
	 * tail_open, after the open prefilter has decided to record them; kinds that neither create
	 * nor close fds need no marks. */
	const struct lanner_kind_desc *d = &lanner_kinds[kind & (LANNER_KIND_SLOTS - 1)];
	if (kind != LANNER_KIND_CLOSE && (d->prog == LANNER_PROG_OPEN || d->fds == LANNER_FDS_NONE))
		return false;
	struct fd_marks *m = bpf_map_lookup_elem(&fd_track, &tgid);
	if (!m)
		return false;
	if (kind == LANNER_KIND_CLOSE) {
		long fd = (int)syscall_arg(regs, 0);
		if (ret != 0 || fd < 0 || fd >= LANNER_FD_TRACK_FDS)
			return false;
		__u32 i = fd & (LANNER_FD_TRACK_FDS - 1);
		if (m->open[i]) {
			m->open[i] = 0;
			return false;
		}
		return prefilter_on();
	}
	if (d->fds == LANNER_FDS_RET) {
		set_fd_mark(m, ret, 1);
	} else if (d->fds == LANNER_FDS_PAIR && ret == 0) {
		int fds[2] = { -1, -1 };
		bpf_probe_read_user(fds, sizeof(fds), (const void *)syscall_arg(regs, d->fds_arg));
		set_fd_mark(m, fds[0], 1);
		set_fd_mark(m, fds[1], 1);
	}
	return false;
}

/* Every syscall exit on the machine comes through here: reject unselected syscalls first, then
 * the agent's own threads, before touching anything else. */
SEC("tp_btf/sys_exit")
int BPF_PROG(lanner_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 kind = selected_kind(regs);
	if (kind == 0)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (is_agent(tgid))
		return 0;
	/* ia32 syscall numbers overlap the x86_64 ones (437 is openat2 in both): ignore them. */
	if (current_in_ia32_syscall())
		return 0;
	/* Filters that need only the number and the result, before anything is counted or built. */
	if ((kind == LANNER_KIND_EXECVE || kind == LANNER_KIND_EXECVEAT) && ret == 0)
		return 0; /* a successful exec: sched_process_exec reports it */
	if (kind == LANNER_KIND_FCNTL) {
		/* Only the fd-duplicating commands matter to the fd table and the rules. */
		__u32 cmd = syscall_arg(regs, 1);
		if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
			return 0;
	}
	if (track_fds(kind, regs, ret, tgid)) {
		count(LANNER_COUNTER_PREFILTERED);
		return 0;
	}
	/* Opens are counted, marked and maybe prefiltered in tail_open, which reads their path. */
	if (lanner_kinds[kind].prog != LANNER_PROG_OPEN)
		count(LANNER_COUNTER_SEEN);
	bpf_tail_call(ctx, &progs, lanner_kinds[kind].prog);
	/* Only reached if the tail program is missing: counted, never silent. */
	count(LANNER_COUNTER_KIND_DROPPED + kind);
	return 0;
}

/* One parameter of a generic kind, read as its descriptor says. Integer sources merge into one
 * encoding step, so every branch ends in the same verifier state. */
static __always_inline __u32 put_param(__u8 *buf, __u32 off, __u32 i, const struct lanner_param_desc *p,
				       struct pt_regs *regs, long ret, bool sockets);

/* clone3's flags, carried from the parent to its child's record. The child's own copy of struct
 * clone_args cannot be trusted: a child that shares the parent's memory (a thread, CLONE_VM) may
 * first run after the parent has returned and reused that memory. So the fork tracepoint, which
 * runs in the parent while it is still inside clone3 and before the child can run, reads the
 * struct and stores its flags under the child's tid; the child's syscall exit takes them. An
 * entry whose child never reports (its clone3 exit filtered) is evicted as least recently used. */
#define CLONE3_PENDING_MAX 4096
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CLONE3_PENDING_MAX);
	__type(key, __u32);
	__type(value, __u64);
} clone3_pending SEC(".maps");

/* The flags the parent passed to clone3, for the child's record; 0 if unknown (kernel before
 * 5.15, where the fork tracepoint cannot read the parent's registers, or the entry was evicted). */
static __always_inline __u64 take_clone3_flags(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *pending = bpf_map_lookup_elem(&clone3_pending, &tid);
	if (!pending)
		return 0;
	__u64 flags = *pending;
	bpf_map_delete_elem(&clone3_pending, &tid);
	return flags;
}

static __always_inline __u64 int_param(const struct lanner_param_desc *p, struct pt_regs *regs, long ret)
{
	__u8 src = p->src;
	if (src == LANNER_SRC_RET)
		return ret;
	__u64 arg = syscall_arg(regs, p->arg);
	if (src == LANNER_SRC_ARG)
		return arg;
	if (src == LANNER_SRC_USER_I32) {
		__s32 v = -1;
		/* The kernel fills the array only on success. */
		if (ret >= 0 &&
		    bpf_probe_read_user(&v, sizeof(v), (const void *)(arg + 4ULL * (p->extra & 1))) != 0) {
			count(LANNER_COUNTER_READ_FAULT);
			v = -1;
		}
		return (__s64)v;
	}
	if (src == LANNER_SRC_USER_U64) {
		/* The child (ret 0) gets what its parent passed, as the fork tracepoint saw it. */
		if (ret == 0)
			return take_clone3_flags();
		__u64 v = 0;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)arg) != 0)
			count(LANNER_COUNTER_READ_FAULT);
		return v;
	}
	if (src == LANNER_SRC_CRED_CAP) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		return cred_cap(BPF_CORE_READ(task, cred), p->extra);
	}
	return 0;
}

static __always_inline __u32 put_int(__u8 *buf, __u32 off, __u64 v, __u8 conv)
{
	switch (conv) {
	case LANNER_CONV_I32:
		return mp_int(buf, off, (__s32)v);
	case LANNER_CONV_U32:
		return mp_uint(buf, off, (__u32)v);
	case LANNER_CONV_U64:
		return mp_uint64(buf, off, v);
	default:
		return mp_int64(buf, off, (__s64)v);
	}
}

/* fd -> struct file of the current task, NULL if closed or out of range. */
static __always_inline struct file *fd_file(long fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if ((unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	/* The fd table holds pointers: one is read. */
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]); /* NOLINT(bugprone-sizeof-expression) */
	return file;
}

static __always_inline struct sock *fd_sock(long fd)
{
	struct file *file = fd_file(fd);
	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *socket = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(socket, sk);
}

/* A unix socket's bound path (sun_path; abstract names start with NUL and read as ""). */
static __always_inline __u32 put_unix_path(__u8 *buf, __u32 off, struct sock *sk)
{
	bool cut = false;
	struct unix_address *addr = sk ? BPF_CORE_READ((struct unix_sock *)sk, addr) : NULL;
	if (!addr)
		return mp_str(buf, off, "", 0, false, &cut);
	return mp_str(buf, off, &addr->name[0].sun_path, LANNER_UNIX_PATH_MAX, false, &cut);
}

/* [family, local addr, local port, remote addr, remote port] from the kernel socket; nil if the
 * fd is not a socket. Unix sockets: paths (the peer's bound path as remote), ports 0. */
static __always_inline __u32 put_tuple(__u8 *buf, __u32 off, long fd)
{
	struct sock *sk = fd_sock(fd);
	if (!sk)
		return mp_nil(buf, off);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	off = mp_array16(buf, off, 5);
	off = mp_uint(buf, off, family);
	if (family == AF_INET) {
		off = mp_bin_kernel(buf, off, &sk->__sk_common.skc_rcv_saddr, 4);
		off = mp_uint(buf, off, BPF_CORE_READ(sk, __sk_common.skc_num));
		off = mp_bin_kernel(buf, off, &sk->__sk_common.skc_daddr, 4);
		return mp_uint(buf, off, bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)));
	}
	if (family == AF_INET6) {
		off = mp_bin_kernel(buf, off, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		off = mp_uint(buf, off, BPF_CORE_READ(sk, __sk_common.skc_num));
		off = mp_bin_kernel(buf, off, &sk->__sk_common.skc_v6_daddr, 16);
		return mp_uint(buf, off, bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)));
	}
	if (family == AF_UNIX) {
		off = put_unix_path(buf, off, sk);
		off = mp_uint(buf, off, 0);
		off = put_unix_path(buf, off, BPF_CORE_READ((struct unix_sock *)sk, peer));
		return mp_uint(buf, off, 0);
	}
	off = mp_bin_kernel(buf, off, NULL, 0);
	off = mp_uint(buf, off, 0);
	off = mp_bin_kernel(buf, off, NULL, 0);
	return mp_uint(buf, off, 0);
}

/* [family, addr, port] from a struct sockaddr in user memory; nil if unreadable or of another
 * family. Offsets: sockaddr_in {family, port, addr}, sockaddr_in6 {family, port, flowinfo, addr},
 * sockaddr_un {family, path}. */
static __always_inline __u32 put_sockaddr(__u8 *buf, __u32 off, const __u8 *uaddr)
{
	__u16 head[2] = {};
	if (!uaddr || bpf_probe_read_user(head, sizeof(head), uaddr) != 0)
		return mp_nil(buf, off);
	__u16 family = head[0];
	bool cut = false;
	if (family == AF_INET || family == AF_INET6) {
		__u32 len = family == AF_INET ? 4 : 16;
		off = mp_array16(buf, off, 3);
		off = mp_uint(buf, off, family);
		__u8 *p = mp_at(buf, off);
		p[0] = MP_BIN16;
		mp_be16(p + 1, len);
		if (bpf_probe_read_user(p + 3, len & 31, uaddr + (family == AF_INET ? 4 : 8)) != 0)
			count(LANNER_COUNTER_READ_FAULT);
		off = mp_settle(buf, off + 3 + len);
		return mp_uint(buf, off, bpf_ntohs(head[1]));
	}
	if (family == AF_UNIX) {
		off = mp_array16(buf, off, 3);
		off = mp_uint(buf, off, family);
		off = mp_str(buf, off, uaddr + 2, LANNER_UNIX_PATH_MAX, true, &cut);
		return mp_uint(buf, off, 0);
	}
	return mp_nil(buf, off);
}

static __always_inline __u32 put_param(__u8 *buf, __u32 off, __u32 i, const struct lanner_param_desc *p,
				       struct pt_regs *regs, long ret, bool sockets)
{
	__u8 src = p->src;
	if (src == LANNER_SRC_USER_STR) {
		bool cut = false;
		off = mp_str(buf, off, (const void *)syscall_arg(regs, p->arg), LANNER_PATH_MAX, true, &cut);
		if (cut)
			cut_set(buf, i);
		return off;
	}
	if (sockets && src == LANNER_SRC_SOCK)
		return put_tuple(buf, off,
				 p->arg == LANNER_FD_FROM_RET ? ret : (long)(int)syscall_arg(regs, p->arg));
	if (sockets && src == LANNER_SRC_USER_SOCKADDR)
		return put_sockaddr(buf, off, (const __u8 *)syscall_arg(regs, p->arg));
	return put_int(buf, off, int_param(p, regs, ret), p->conv);
}

/* The record of a kind the table describes, parameter by parameter. `sockets` compiles the socket
 * readers in (tail_sock) or out (tail_generic, which stays small). */
static __always_inline int emit_generic(struct pt_regs *regs, long ret, bool sockets)
{
	__u32 kind = selected_kind(regs);
	if (kind == 0)
		return 0;
	const struct lanner_kind_desc *d = &lanner_kinds[kind];
	__u32 n = d->nparams;
	__u8 *buf = scratch_for(SLOT_SYS_EXIT);
	if (!buf)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 off = put_header(buf, n, kind, (__u32)pid_tgid, pid_tgid >> 32);
	/* A bounded loop (Linux 5.3+): each pass ends with the offset settled, so passes verify alike. */
	for (__u32 i = 0; i < LANNER_GENERIC_MAX_PARAMS; i++) {
		if (i >= n)
			break;
		off = put_param(buf, off, i, &d->p[i], regs, ret, sockets);
	}
	submit(buf, off, kind);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tail_generic, struct pt_regs *regs, long ret)
{
	return emit_generic(regs, ret, false);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tail_sock, struct pt_regs *regs, long ret)
{
	return emit_generic(regs, ret, true);
}

/* The open's class bits from its flags and result (LANNER_OPEN_*; the unclean bit is the path's). */
static __always_inline __u32 open_class(__u32 flags, long ret)
{
	__u32 mode = flags & 3, c = 0;
	if (mode == 0 || mode == 2)
		c |= LANNER_OPEN_READ;
	if (mode == 1 || mode == 2)
		c |= LANNER_OPEN_WRITE;
	if (flags & O_CREAT)
		c |= LANNER_OPEN_CREATE;
	return c | (ret >= 0 ? LANNER_OPEN_SUCCESS : LANNER_OPEN_FAILED);
}

/* Whether the path (NUL-terminated in w, n bytes with the NUL) is one a prefix test decides: the
 * state normalizes paths, so only an absolute one without "//", "/." or "./" that fits the window
 * reads the same raw and normalized (n == the window: the path may have been cut). */
static __always_inline bool path_clean(const struct path_window *w, long n)
{
	if (n <= 1 || n >= LANNER_OPEN_FILTER_PATH || w->b[0] != '/')
		return false;
	__u8 prev = '/';
	for (__u32 i = 1; i < LANNER_OPEN_FILTER_PATH; i++) {
		__u8 c = w->b[i];
		if (c == 0)
			break;
		if ((prev == '/' && (c == '/' || c == '.')) || (prev == '.' && c == '/'))
			return false;
		prev = c;
	}
	return true;
}

static __always_inline bool prefix_matches(const struct path_window *w, const struct open_filter_entry *e)
{
	__u32 len = e->len;
	for (__u32 j = 0; j < LANNER_OPEN_FILTER_PREFIX; j++) {
		if (j >= len)
			return true;
		/* The path's NUL differs from every prefix byte, so bytes past it are never compared. */
		if (w->b[j] != e->prefix[j])
			return false;
	}
	return true;
}

/* The open prefilter (mirrored by openFilterPasses in agent/capture/open-filter.ts): an open is
 * kept when an entry's need bits are all in its class and its path starts with the entry's prefix
 * (or the path is unclean), or when it opened a directory, which a later openat or fchdir may
 * resolve paths through. */
static __always_inline bool open_wanted(__u32 sw, long ret, const void *path, __u32 flags)
{
	__u32 key = sw & LANNER_PREFILTER_OPEN_BUFFER ? 1 : 0;
	struct open_filter *f = bpf_map_lookup_elem(&open_filter, &key);
	__u32 zero = 0;
	struct path_window *w = bpf_map_lookup_elem(&open_path, &zero);
	if (!f || !w)
		return true;
	long n = bpf_probe_read_user_str(w->b, sizeof(w->b), path);
	__u32 cls = open_class(flags, ret);
	if (!path_clean(w, n))
		cls |= LANNER_OPEN_UNCLEAN;
	__u32 count = f->count;
	for (__u32 i = 0; i < LANNER_OPEN_FILTER_ENTRIES; i++) {
		if (i >= count)
			break;
		const struct open_filter_entry *e = &f->e[i];
		if ((cls & e->need) != e->need)
			continue;
		if ((cls & LANNER_OPEN_UNCLEAN) || prefix_matches(w, e))
			return true;
	}
	struct file *file = ret >= 0 ? fd_file(ret) : NULL;
	return file && (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) == S_IFDIR;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tail_open, struct pt_regs *regs, long ret)
{
	__u32 kind = selected_kind(regs);
	__u8 *buf = scratch_for(SLOT_SYS_EXIT);
	if (!buf)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 a0 = syscall_arg(regs, 0), a1 = syscall_arg(regs, 1), a2 = syscall_arg(regs, 2),
	      a3 = syscall_arg(regs, 3);
	__s32 dirfd = a0;
	const void *path = (const void *)a1;
	struct lanner_open_how how = {};
	if (kind == LANNER_KIND_OPEN) {
		dirfd = AT_FDCWD;
		path = (const void *)a0;
		how.flags = a1;
		how.mode = open_mode(a1, a2);
	} else if (kind == LANNER_KIND_OPENAT) {
		how.flags = a2;
		how.mode = open_mode(a2, a3);
	} else if (a3 >= sizeof(how)) {
		/* openat2: the caller's struct open_how, read at exit. */
		bpf_probe_read_user(&how, sizeof(how), (const void *)a2);
	}
	__u32 sw = prefilter_switch();
	bool wanted = !(sw & LANNER_PREFILTER_OPEN) || open_wanted(sw, ret, path, how.flags);
	/* Marked only when recorded: the close of an fd whose open was dropped is dropped too. The fd
	 * is new, so a mark it still had was stale (an fd closed by exec or close_range): cleared. */
	__u32 tgid = pid_tgid >> 32;
	struct fd_marks *m = bpf_map_lookup_elem(&fd_track, &tgid);
	if (m)
		set_fd_mark(m, ret, wanted ? 1 : 0);
	if (!wanted) {
		count(LANNER_COUNTER_OPEN_PREFILTERED);
		return 0;
	}
	count(LANNER_COUNTER_SEEN);
	emit_open(buf, kind, pid_tgid, ret, dirfd, path, how.flags, how.mode, how.resolve);
	return 0;
}

/* A failed exec (a successful one is reported by sched_process_exec). */
SEC("tp_btf/sys_exit")
int BPF_PROG(tail_exec, struct pt_regs *regs, long ret)
{
	__u32 kind = selected_kind(regs);
	__u8 *buf = scratch_for(SLOT_SYS_EXIT);
	if (!buf)
		return 0;
	bool at = kind == LANNER_KIND_EXECVEAT;
	const void *filename = (const void *)syscall_arg(regs, at ? 1 : 0);
	const char *const *argv = (const char *const *)syscall_arg(regs, at ? 2 : 1);
	emit_exec(buf, kind, (struct task_struct *)bpf_get_current_task(), ret, filename, argv, false);
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
	emit_exec(buf, kind, p, 0, BPF_CORE_READ(bprm, filename), NULL, true);
	return 0;
}

/* A thread ended; exit_code is set by do_exit() before this tracepoint fires. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(lanner_exit, struct task_struct *p)
{
	count(LANNER_COUNTER_SEEN);
	/* The leader's exit ends the process's fd marks (later closes of its threads are all sent). */
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (BPF_CORE_READ(p, pid) == tgid)
		bpf_map_delete_elem(&fd_track, &tgid);
	__u8 *buf = scratch_for(SLOT_EXIT);
	if (!buf)
		return 0;
	__u32 off = put_header(buf, LANNER_KIND_PROCEXIT_PARAMS, LANNER_KIND_PROCEXIT, BPF_CORE_READ(p, pid),
			       BPF_CORE_READ(p, tgid));
	off = mp_int(buf, off, BPF_CORE_READ(p, exit_code));
	submit(buf, off, LANNER_KIND_PROCEXIT);
	return 0;
}

/* A new process (not a thread, not sharing its parent's fd table) gets fd marks: the fds open in
 * it now, which it inherited and the state copies from the parent, are marked. */
static __always_inline void track_new_process(struct task_struct *child, __u32 tgid)
{
	__u32 zero_key = 0;
	struct fd_marks *zero = bpf_map_lookup_elem(&fd_zero, &zero_key);
	if (!zero)
		return;
	if (bpf_map_update_elem(&fd_track, &tgid, zero, BPF_ANY) != 0) {
		count(LANNER_COUNTER_FD_TRACK_FULL);
		return;
	}
	struct fd_marks *m = bpf_map_lookup_elem(&fd_track, &tgid);
	if (!m)
		return;
	__u64 words[LANNER_FD_TRACK_FDS / 64] = {};
	struct fdtable *fdt = BPF_CORE_READ(child, files, fdt);
	unsigned long *open_fds = BPF_CORE_READ(fdt, open_fds);
	__u32 max_fds = BPF_CORE_READ(fdt, max_fds);
	__u32 n = max_fds < LANNER_FD_TRACK_FDS ? max_fds / 64 : LANNER_FD_TRACK_FDS / 64;
	bool fault = false;
	for (__u32 w = 0; w < LANNER_FD_TRACK_FDS / 64; w++) {
		if (w >= n)
			break;
		if (bpf_probe_read_kernel(&words[w], sizeof(words[w]), &open_fds[w]) != 0)
			fault = true;
	}
	for (__u32 i = 0; i < LANNER_FD_TRACK_FDS; i++) {
		/* Unreadable: every fd counts as marked, so no close is dropped. */
		m->open[i] = fault ? 1 : (words[i / 64] >> (i % 64)) & 1;
	}
}

/* include/linux/sched.h: task_struct.flags of a kernel thread (it has no user registers). */
#define PF_KTHREAD 0x00200000

/* In the fork tracepoint: if the parent (the current task, still inside the syscall) is in a
 * selected clone3, keep the flags of its struct clone_args for the child (take_clone3_flags). */
static __always_inline void remember_clone3_flags(struct task_struct *parent, struct task_struct *child)
{
	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return; /* Linux < 5.15: the child reports 0 */
	if ((BPF_CORE_READ(parent, flags) & PF_KTHREAD) || in_ia32_syscall(parent))
		return;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(parent);
	if (!regs || selected_kind(regs) != LANNER_KIND_CLONE3)
		return;
	__u64 flags = 0;
	if (bpf_probe_read_user(&flags, sizeof(flags), (const void *)syscall_arg(regs, 0)) != 0) {
		count(LANNER_COUNTER_READ_FAULT);
		return;
	}
	__u32 tid = BPF_CORE_READ(child, pid);
	bpf_map_update_elem(&clone3_pending, &tid, &flags, BPF_ANY);
}

/* A thread or process was created; the header is the parent. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(lanner_fork, struct task_struct *parent, struct task_struct *child)
{
	count(LANNER_COUNTER_SEEN);
	__u8 *buf = scratch_for(SLOT_FORK);
	if (!buf)
		return 0;
	__u32 off = put_header(buf, LANNER_KIND_PROCFORK_PARAMS, LANNER_KIND_PROCFORK,
			       BPF_CORE_READ(parent, pid), BPF_CORE_READ(parent, tgid));
	__u32 child_tid = BPF_CORE_READ(child, pid), child_pid = BPF_CORE_READ(child, tgid);
	/* A new process sharing its parent's fd table (clone with CLONE_FILES, no CLONE_THREAD): the
	 * record says so, and the state needs no clone record to know it. */
	bool shares_fds =
		child_tid == child_pid && BPF_CORE_READ(child, files) == BPF_CORE_READ(parent, files);
	off = mp_uint(buf, off, child_tid);
	off = mp_uint(buf, off, child_pid);
	off = mp_uint(buf, off, shares_fds ? 1 : 0);
	submit(buf, off, LANNER_KIND_PROCFORK);
	if (child_tid == child_pid && !shares_fds)
		track_new_process(child, child_pid);
	remember_clone3_flags(parent, child);
	return 0;
}
