// The decoded form of one kernel record: what the state tracker and the rule engine see.
// The wire layout of each kind (MessagePack arrays) is in docs/EVENTS.md and agent/events/schema.ts;
// this file is the in-memory shape, independent of how the record arrived (live ring or capture file).

/** Event kinds, named as Falco names the event type (`evt.type`). */
export type EventKind = "execve" | "execveat" | "open" | "openat" | "openat2" | "procexit" | "procfork";

interface EventBase {
  kind: EventKind;
  /** Monotonic sequence number assigned by the agent on decode (`evt.num`), starting at 1. */
  num: number;
  /** Kernel time, CLOCK_BOOTTIME: whole seconds and the nanoseconds within that second. */
  bootSec: number;
  bootNsec: number;
  /** Thread id and thread-group id (process id) of the thread the event happened in, as the host sees them. */
  tid: number;
  pid: number;
  /** Bit i set: parameter i of the record (0 = first after the header) was cut to its bound. */
  cut: number;
}

/** execve/execveat: from sched_process_exec on success (res = 0), from sys_exit on failure (res < 0). */
export interface ExecEvent extends EventBase {
  kind: "execve" | "execveat";
  /** 0 on success, -errno on failure. */
  res: number;
  ppid: number;
  /** Effective uid and gid of the process after exec. */
  uid: number;
  gid: number;
  /** Kernel comm (at most 15 bytes) after exec. */
  comm: string;
  /** The filename passed to execve (bprm->filename on success), as the caller wrote it. */
  filename: string;
  /** argv, from the new process's memory, argv[0] first. Empty on failure. */
  args: string[];
  /** The process's cgroup v2 path, "/" joined from the root (e.g. /kubepods/.../cri-containerd-<id>.scope). */
  cgroup: string;
}

/** open/openat/openat2, read at syscall exit. */
export interface OpenEvent extends EventBase {
  kind: "open" | "openat" | "openat2";
  /** The new fd, or -errno. */
  res: number;
  /** Directory fd the path is relative to; AT_FDCWD (-100) for open. */
  dirfd: number;
  /** The path as the caller passed it (not resolved). */
  path: string;
  /** Raw Linux O_* flags (open_how.flags for openat2). */
  flags: number;
  /** Creation mode bits. */
  mode: number;
  /** openat2 open_how.resolve (RESOLVE_*), 0 for open/openat. */
  resolve: number;
}

/** A thread ended (sched_process_exit). The process ends when tid === pid. */
export interface ExitEvent extends EventBase {
  kind: "procexit";
  /** task->exit_code: (status << 8) | signal, as wait(2) encodes it. */
  exitCode: number;
}

/** A new thread or process was created (sched_process_fork), seen from the parent. */
export interface ForkEvent extends EventBase {
  kind: "procfork";
  childTid: number;
  childPid: number;
}

export type Event = ExecEvent | OpenEvent | ExitEvent | ForkEvent;
