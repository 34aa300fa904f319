// The event table: every kind the probe can record, declared once. scripts/gen-events.ts reads it
// and writes the C kind ids and generic-encoder descriptors (native/events.gen.h), the TypeScript
// event types and decoders (agent/events/kinds.gen.ts) and the tables of docs/EVENTS.md;
// test/events/generated.test.ts fails when a generated file is older than this table.
//
// Rules for changing it: kind ids are never renumbered or reused; parameters are only appended
// (a record from an older probe is shorter and the decoder fills the missing tail with each
// parameter's `default`).

/** How a value travels in the record. Integers use MessagePack's smallest encoding. */
export type WireType =
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  /** str16, a NUL-terminated string read by the probe. */
  | "str"
  /** bin16 of NUL-separated strings (argv, environ), decoded to string[]. */
  | "argv"
  /** array16 of cgroup names leaf first, decoded to "/a/b". */
  | "cgroup"
  /** array16 of path components leaf first, decoded to "/a/b" (the cwd walk). */
  | "dentry_path"
  /** array16 [family, local addr, local port, remote addr, remote port] from the kernel socket. */
  | "tuple"
  /** array16 [family, addr, port] read from a user sockaddr. */
  | "sockaddr";

/** Where the probe reads a parameter. */
export type Source =
  /** The syscall's return value. */
  | { from: "ret" }
  /** Syscall argument `arg` (0-based), from the saved user registers, read at exit. */
  | { from: "arg"; arg: number }
  /** A NUL-terminated string in user memory at argument `arg`. */
  | { from: "user_str"; arg: number }
  /** The `index`-th int32 of an int array in user memory at argument `arg` (pipe, socketpair). */
  | { from: "user_i32"; arg: number; index: number }
  /** The first u64 of a struct in user memory at argument `arg` (clone3's clone_args.flags), read
   * by the caller; a child (return value 0) reports what its parent's struct held, as the fork
   * tracepoint read it (0 if unknown). */
  | { from: "user_u64"; arg: number }
  /** The socket behind an fd (argument `arg`, or the return value when `arg` is "ret"). */
  | { from: "sock"; fd: number | "ret"; inbound: boolean }
  /** A struct sockaddr in user memory at argument `arg`. */
  | { from: "user_sockaddr"; arg: number }
  /** The calling task's credentials after the syscall: a capability set. */
  | { from: "cred_cap"; set: "inheritable" | "permitted" | "effective" }
  /** A hand-written reader in native/lanner.bpf.c, named here. */
  | { from: "reader"; reader: string };

export interface ParamSpec {
  /** The field of the decoded event. */
  name: string;
  /** Falco's parameter name: what evt.arg.NAME / evt.rawarg.NAME look up. */
  falco: string;
  type: WireType;
  source: Source;
  /** Largest value in bytes (strings, blobs) or elements (lists); longer values are cut. */
  bound?: number;
  /** Whether the probe can cut it (then its bit in `cut` says so). */
  cuttable?: boolean;
  /** The value a record from an older probe that lacks this parameter decodes to. */
  default: number | string | null;
  /** Falco's text rendering for evt.arg; absent: the value as is. */
  render?: Rendering;
  /** A file path Falco resolves when evt.arg shows it (evt.rawarg keeps it as passed): "cwd" for
   * its PT_FSPATH parameters (relative to the working directory), else the Falco name of the
   * directory-fd parameter of its PT_FSRELPATH ones (AT_FDCWD: the working directory). */
  base?: string;
  /** Schema version that appended it (absent: there from the start). Appended parameters are
   * optional in the TypeScript type, for events built by hand; the decoder always sets them. */
  since?: number;
  doc: string;
}

/** How Falco renders a parameter for evt.arg (evt.rawarg is always the raw value): a flag set
 * or enum named after the constants' prefix, a user or group id, a chmod mode as S_I* names, a
 * number printed octal or hexadecimal, or a result that is an errno name when negative.
 * agent/events/render.ts holds each rendering's table. */
export type Rendering =
  | "errno"
  | "fd"
  | "mode"
  | "octal"
  | "hex"
  | "uid"
  | "gid"
  | "open_flags"
  | "clone_flags"
  | "ptrace_request"
  | "mount_flags"
  | "umount_flags"
  | "unlinkat_flags"
  | "linkat_flags"
  | "rename_flags"
  | "socket_family"
  | "socket_type"
  | "memfd_flags"
  | "signal"
  | "prctl_option"
  | "fcntl_cmd"
  | "bpf_cmd"
  | "close_range_flags";

/** Where a kind is recorded. */
export type Hook = "sys_exit" | "sched_process_exec" | "sched_process_exit" | "sched_process_fork";

/** Which encoder writes the record: `generic` and `sock` follow the descriptors generated from
 * this table; the others are hand-written programs in native/lanner.bpf.c. */
export type Encoder = "generic" | "sock" | "open" | "exec" | "procexit" | "procfork";

export interface KindSpec {
  id: number;
  /** Falco's event name (evt.type). */
  name: string;
  /** Syscall numbers; null where the architecture has no such syscall. */
  nr: { x86_64: number | null; arm64: number | null };
  hooks: Hook[];
  encoder: Encoder;
  /** Recorded when nothing else is asked for (the read/write family is off unless selected). */
  selectedByDefault: boolean;
  /** The fds a successful call creates, which the state's fd table follows and the probe's close
   * prefilter marks: the return value ("ret"), or the two ints its user_i32 parameters read
   * ("pair"). Absent: it creates none. */
  createsFds?: "ret" | "pair";
  params: ParamSpec[];
  doc: string;
}

// Parameter shorthands; each keeps Falco's name as the field name unless told otherwise.
const res = (falco = "res", name = "res"): ParamSpec => ({
  name,
  falco,
  type: "i64",
  source: { from: "ret" },
  default: 0,
  render: falco === "fd" ? "fd" : "errno",
  doc: "return value: -errno on failure",
});
/** A parameter with Falco's text rendering. */
const rendered = (p: ParamSpec, render: Rendering): ParamSpec => ({ ...p, render });
const argI32 = (arg: number, falco: string, doc: string): ParamSpec => ({
  name: falco,
  falco,
  type: "i32",
  source: { from: "arg", arg },
  default: 0,
  doc,
});
const argU32 = (arg: number, falco: string, doc: string): ParamSpec => ({
  name: falco,
  falco,
  type: "u32",
  source: { from: "arg", arg },
  default: 0,
  doc,
});
const argU64 = (arg: number, falco: string, doc: string): ParamSpec => ({
  name: falco,
  falco,
  type: "u64",
  source: { from: "arg", arg },
  default: 0,
  doc,
});
const PATH_MAX = 4096;
/** A string in user memory; `base` marks a path Falco resolves for evt.arg (see ParamSpec.base). */
const userPath = (arg: number, falco: string, doc: string, base?: string): ParamSpec => ({
  name: falco,
  falco,
  type: "str",
  source: { from: "user_str", arg },
  bound: PATH_MAX,
  cuttable: true,
  default: "",
  ...(base === undefined ? {} : { base }),
  doc,
});
const fd = (arg: number, falco = "fd"): ParamSpec => rendered(argI32(arg, falco, "file descriptor"), "fd");
const dirfd = (arg: number, falco = "dirfd"): ParamSpec =>
  rendered(argI32(arg, falco, "directory fd the path is relative to (AT_FDCWD = -100)"), "fd");
const tuple = (fdFrom: number | "ret", inbound = false): ParamSpec => ({
  name: "tuple",
  falco: "tuple",
  type: "tuple",
  source: { from: "sock", fd: fdFrom, inbound },
  bound: 108,
  cuttable: false,
  default: null,
  doc: inbound
    ? "both ends from the kernel socket, the peer as source; null if not a socket"
    : "both ends from the kernel socket, this end as source; null if not a socket",
});
const sockaddr = (arg: number, falco = "addr"): ParamSpec => ({
  name: falco,
  falco,
  type: "sockaddr",
  source: { from: "user_sockaddr", arg },
  bound: 108,
  default: null,
  doc: "the address the caller passed; null if unreadable or not AF_INET/AF_INET6/AF_UNIX",
});
const userFd = (arg: number, index: number, falco: string): ParamSpec => ({
  name: falco,
  falco,
  type: "i32",
  source: { from: "user_i32", arg, index },
  default: -1,
  render: "fd",
  doc: `fd ${index} of the int[2] the kernel filled (-1 if unreadable)`,
});
const credCap = (set: "inheritable" | "permitted" | "effective"): ParamSpec => ({
  name: `cap_${set}`,
  falco: `cap_${set}`,
  type: "u64",
  source: { from: "cred_cap", set },
  default: 0,
  doc: `the ${set} capability set after the call (bit n = capability n)`,
});
const reader = (
  name: string,
  falco: string,
  type: WireType,
  readerName: string,
  dflt: number | string | null,
  doc: string,
  bound?: number,
  since?: number,
): ParamSpec => ({
  name,
  falco,
  type,
  source: { from: "reader", reader: readerName },
  ...(bound === undefined ? {} : { bound, cuttable: true }),
  ...(since === undefined ? {} : { since }),
  default: dflt,
  doc,
});

const EXEC_PARAMS: ParamSpec[] = [
  reader("res", "res", "i32", "ret", 0, "0 on success, -errno on failure"),
  reader("ppid", "ptid", "u32", "real_parent->tgid", 0, "parent process id"),
  reader("uid", "uid", "u32", "cred->euid", 0, "effective uid after exec"),
  reader("gid", "gid", "u32", "cred->egid", 0, "effective gid after exec"),
  { ...reader("comm", "comm", "str", "task->comm", "", "kernel comm after exec", 15), cuttable: false },
  reader(
    "filename",
    "filename",
    "str",
    "bprm->filename / user arg",
    "",
    "the filename as the caller passed it",
    PATH_MAX,
  ),
  reader(
    "args",
    "args",
    "argv",
    "mm->arg_start..arg_end",
    null,
    "argv, argv[0] first; empty on failure",
    4096,
  ),
  reader(
    "cgroup",
    "cgroups",
    "cgroup",
    "task->cgroups->dfl_cgrp, else subsys[memory]->cgroup",
    "/",
    "cgroup path at exec: v2, or the memory controller's v1 path when the v2 one is the root",
    16,
  ),
  reader(
    "env",
    "env",
    "argv",
    "mm->env_start..env_end",
    null,
    "environment, NAME=value each; empty on failure",
    2048,
    2,
  ),
  reader(
    "cwd",
    "cwd",
    "dentry_path",
    "fs->pwd walk",
    "",
    "working directory, walked up to 16 components",
    16,
    2,
  ),
  reader(
    "tty",
    "tty",
    "u32",
    "signal->tty",
    0,
    "controlling terminal as a device number (0: none)",
    undefined,
    2,
  ),
  reader(
    "loginuid",
    "loginuid",
    "u32",
    "task->loginuid",
    0xffffffff,
    "audit login uid (4294967295: unset)",
    undefined,
    2,
  ),
  reader(
    "sid",
    "sid",
    "u32",
    "signal->pids[PIDTYPE_SID]",
    0,
    "session id (host pid namespace)",
    undefined,
    2,
  ),
  reader(
    "pgid",
    "pgid",
    "u32",
    "signal->pids[PIDTYPE_PGID]",
    0,
    "process group id (host pid namespace)",
    undefined,
    2,
  ),
  reader(
    "capEffective",
    "cap_effective",
    "u64",
    "cred->cap_effective",
    0,
    "effective capabilities after exec",
    undefined,
    2,
  ),
  reader(
    "exeFlags",
    "flags",
    "u32",
    "exe_file",
    0,
    "bit 0: exe is a memfd; bit 1: on an overlayfs upper layer; bit 2: on a lower layer; bit 3: layer read",
    undefined,
    2,
  ),
];

const OPEN_COMMON = (withDirfd: boolean, withResolve: boolean): ParamSpec[] => [
  reader("res", "fd", "i32", "ret", 0, "the new fd, or -errno"),
  reader("dirfd", "dirfd", "i32", withDirfd ? "arg0" : "AT_FDCWD", -100, "directory fd (AT_FDCWD = -100)"),
  reader("path", "name", "str", "user path argument", "", "the path as passed (not resolved)", PATH_MAX),
  reader(
    "flags",
    "flags",
    "u32",
    withResolve ? "open_how.flags" : "flags argument",
    0,
    "raw Linux O_* flags",
  ),
  reader("mode", "mode", "u32", "mode, only with O_CREAT/O_TMPFILE", 0, "creation mode bits"),
  reader("resolve", "resolve", "u32", withResolve ? "open_how.resolve" : "0", 0, "openat2 RESOLVE_* flags"),
];

const K = (
  id: number,
  name: string,
  x86_64: number | null,
  arm64: number | null,
  params: ParamSpec[],
  doc: string,
  extra: Partial<Pick<KindSpec, "encoder" | "hooks" | "selectedByDefault" | "createsFds">> = {},
): KindSpec => ({
  id,
  name,
  nr: { x86_64, arm64 },
  hooks: extra.hooks ?? ["sys_exit"],
  encoder: extra.encoder ?? "generic",
  selectedByDefault: extra.selectedByDefault ?? true,
  ...(extra.createsFds === undefined ? {} : { createsFds: extra.createsFds }),
  params,
  doc,
});

const SOCK = { encoder: "sock" } as const;
const OFF = { selectedByDefault: false } as const;
const SOCK_OFF = { encoder: "sock", selectedByDefault: false } as const;
/** Kinds that create fds: the return value, or a pair written to user memory. */
const FD_RET = { createsFds: "ret" } as const;
const FD_PAIR = { createsFds: "pair" } as const;

/** Every kind, in id order. */
export const EVENT_TABLE: readonly KindSpec[] = [
  K(1, "execve", 59, 221, EXEC_PARAMS, "program execution", {
    hooks: ["sched_process_exec", "sys_exit"],
    encoder: "exec",
  }),
  K(2, "execveat", 322, 281, EXEC_PARAMS, "program execution through a dirfd", {
    hooks: ["sched_process_exec", "sys_exit"],
    encoder: "exec",
  }),
  K(3, "open", 2, null, OPEN_COMMON(false, false), "open a file", { encoder: "open", ...FD_RET }),
  K(4, "openat", 257, 56, OPEN_COMMON(true, false), "open a file relative to a dirfd", {
    encoder: "open",
    ...FD_RET,
  }),
  K(5, "openat2", 437, 437, OPEN_COMMON(true, true), "open with struct open_how", {
    encoder: "open",
    ...FD_RET,
  }),
  K(
    6,
    "procexit",
    null,
    null,
    [reader("exitCode", "status", "i32", "task->exit_code", 0, "(status << 8) | signal, as wait(2)")],
    "a thread ended",
    { hooks: ["sched_process_exit"], encoder: "procexit" },
  ),
  K(
    7,
    "procfork",
    null,
    null,
    [
      reader("childTid", "child_tid", "u32", "child->pid", 0, "the new thread's id"),
      reader("childPid", "child_pid", "u32", "child->tgid", 0, "the new thread's process id"),
      reader(
        "sharesFds",
        "shares_fds",
        "u32",
        "child->files == parent->files",
        0,
        "1: a new process sharing its parent's fd table (clone with CLONE_FILES, not CLONE_THREAD); else 0",
        undefined,
        3,
      ),
    ],
    "a thread or process was created (header: the parent)",
    { hooks: ["sched_process_fork"], encoder: "procfork" },
  ),
  K(
    8,
    "creat",
    85,
    null,
    [res("fd"), userPath(0, "name", "path", "cwd"), rendered(argU32(1, "mode", "creation mode"), "octal")],
    "create a file",
    FD_RET,
  ),
  K(9, "close", 3, 57, [res(), fd(0)], "close an fd"),
  K(
    10,
    "socket",
    41,
    198,
    [
      res("fd"),
      rendered(argU32(0, "domain", "AF_*"), "socket_family"),
      rendered(argU32(1, "type", "SOCK_* with flags"), "socket_type"),
      argU32(2, "proto", "protocol"),
    ],
    "create a socket",
    FD_RET,
  ),
  K(
    11,
    "socketpair",
    53,
    199,
    [
      res(),
      rendered(argU32(0, "domain", "AF_*"), "socket_family"),
      rendered(argU32(1, "type", "SOCK_*"), "socket_type"),
      argU32(2, "proto", "protocol"),
      userFd(3, 0, "fd1"),
      userFd(3, 1, "fd2"),
    ],
    "create a connected socket pair",
    FD_PAIR,
  ),
  K(12, "connect", 42, 203, [res(), tuple(0), fd(0), sockaddr(1)], "connect a socket", SOCK),
  K(13, "accept", 43, 202, [res("fd"), tuple("ret", true)], "accept a connection", { ...SOCK, ...FD_RET }),
  K(
    14,
    "accept4",
    288,
    242,
    [res("fd"), tuple("ret", true), argU32(3, "flags", "SOCK_* flags")],
    "accept a connection",
    { ...SOCK, ...FD_RET },
  ),
  K(15, "bind", 49, 200, [res(), fd(0), sockaddr(1)], "bind a socket to an address", SOCK),
  K(16, "listen", 50, 201, [res(), fd(0), argI32(1, "backlog", "queue length")], "listen on a socket"),
  K(
    17,
    "sendto",
    44,
    206,
    [res(), fd(0), argU32(2, "size", "bytes asked"), tuple(0)],
    "send on a socket",
    SOCK,
  ),
  K(18, "sendmsg", 46, 211, [res(), fd(0), tuple(0)], "send a message on a socket", SOCK),
  K(
    19,
    "recvfrom",
    45,
    207,
    [res(), fd(0), argU32(2, "size", "buffer size"), tuple(0, true)],
    "receive on a socket",
    SOCK_OFF,
  ),
  K(20, "recvmsg", 47, 212, [res(), fd(0), tuple(0, true)], "receive a message on a socket", SOCK_OFF),
  K(21, "dup", 32, 23, [res(), fd(0, "oldfd")], "duplicate an fd", FD_RET),
  K(22, "dup2", 33, null, [res(), fd(0, "oldfd"), fd(1, "newfd")], "duplicate an fd onto another", FD_RET),
  K(
    23,
    "dup3",
    292,
    24,
    [res(), fd(0, "oldfd"), fd(1, "newfd"), rendered(argU32(2, "flags", "O_CLOEXEC"), "open_flags")],
    "duplicate an fd onto another",
    FD_RET,
  ),
  K(
    24,
    "fcntl",
    72,
    25,
    [
      res(),
      fd(0),
      rendered(
        argU32(1, "cmd", "F_DUPFD (0) or F_DUPFD_CLOEXEC (1030): other commands are not recorded"),
        "fcntl_cmd",
      ),
    ],
    "fcntl F_DUPFD and F_DUPFD_CLOEXEC",
    FD_RET,
  ),
  K(25, "pipe", 22, null, [res(), userFd(0, 0, "fd1"), userFd(0, 1, "fd2")], "create a pipe", FD_PAIR),
  K(
    26,
    "pipe2",
    293,
    59,
    [
      res(),
      userFd(0, 0, "fd1"),
      userFd(0, 1, "fd2"),
      rendered(argU32(1, "flags", "O_* flags"), "open_flags"),
    ],
    "create a pipe",
    FD_PAIR,
  ),
  K(
    27,
    "symlink",
    88,
    null,
    [res(), userPath(0, "target", "what the link points to"), userPath(1, "linkpath", "the new link", "cwd")],
    "make a symbolic link",
  ),
  K(
    28,
    "symlinkat",
    266,
    36,
    [
      res(),
      userPath(0, "target", "what the link points to"),
      dirfd(1, "linkdirfd"),
      userPath(2, "linkpath", "the new link", "linkdirfd"),
    ],
    "make a symbolic link",
  ),
  K(
    29,
    "link",
    86,
    null,
    [res(), userPath(0, "oldpath", "existing file", "cwd"), userPath(1, "newpath", "new name", "cwd")],
    "make a hard link",
  ),
  K(
    30,
    "linkat",
    265,
    37,
    [
      res(),
      dirfd(0, "olddir"),
      userPath(1, "oldpath", "existing file", "olddir"),
      dirfd(2, "newdir"),
      userPath(3, "newpath", "new name", "newdir"),
      rendered(argU32(4, "flags", "AT_* flags"), "linkat_flags"),
    ],
    "make a hard link",
  ),
  K(31, "unlink", 87, null, [res(), userPath(0, "path", "removed name", "cwd")], "remove a name"),
  K(
    32,
    "unlinkat",
    263,
    35,
    [
      res(),
      dirfd(0),
      userPath(1, "name", "removed name", "dirfd"),
      rendered(argU32(2, "flags", "AT_REMOVEDIR"), "unlinkat_flags"),
    ],
    "remove a name",
  ),
  K(
    33,
    "rename",
    82,
    null,
    [res(), userPath(0, "oldpath", "old name", "cwd"), userPath(1, "newpath", "new name", "cwd")],
    "rename a file",
  ),
  K(
    34,
    "renameat",
    264,
    38,
    [
      res(),
      dirfd(0, "olddirfd"),
      userPath(1, "oldpath", "old name", "olddirfd"),
      dirfd(2, "newdirfd"),
      userPath(3, "newpath", "new name", "newdirfd"),
    ],
    "rename a file",
  ),
  K(
    35,
    "renameat2",
    316,
    276,
    [
      res(),
      dirfd(0, "olddirfd"),
      userPath(1, "oldpath", "old name", "olddirfd"),
      dirfd(2, "newdirfd"),
      userPath(3, "newpath", "new name", "newdirfd"),
      rendered(argU32(4, "flags", "RENAME_* flags"), "rename_flags"),
    ],
    "rename a file",
  ),
  K(
    36,
    "mkdir",
    83,
    null,
    [res(), userPath(0, "path", "new directory", "cwd"), rendered(argU32(1, "mode", "mode"), "hex")],
    "make a directory",
  ),
  K(
    37,
    "mkdirat",
    258,
    34,
    [
      res(),
      dirfd(0),
      userPath(1, "path", "new directory", "dirfd"),
      rendered(argU32(2, "mode", "mode"), "hex"),
    ],
    "make a directory",
  ),
  K(38, "rmdir", 84, null, [res(), userPath(0, "path", "removed directory", "cwd")], "remove a directory"),
  K(
    39,
    "chmod",
    90,
    null,
    [res(), userPath(0, "filename", "file", "cwd"), rendered(argU32(1, "mode", "mode"), "mode")],
    "change mode",
  ),
  K(40, "fchmod", 91, 52, [res(), fd(0), rendered(argU32(1, "mode", "mode"), "mode")], "change mode"),
  K(
    41,
    "fchmodat",
    268,
    53,
    [res(), dirfd(0), userPath(1, "filename", "file", "dirfd"), rendered(argU32(2, "mode", "mode"), "mode")],
    "change mode",
  ),
  K(
    42,
    "chown",
    92,
    null,
    [res(), userPath(0, "path", "file", "cwd"), argU32(1, "uid", "owner"), argU32(2, "gid", "group")],
    "change owner",
  ),
  K(
    43,
    "lchown",
    94,
    null,
    [res(), userPath(0, "path", "file", "cwd"), argU32(1, "uid", "owner"), argU32(2, "gid", "group")],
    "change owner of a link",
  ),
  K(
    44,
    "fchown",
    93,
    55,
    [res(), fd(0), argU32(1, "uid", "owner"), argU32(2, "gid", "group")],
    "change owner",
  ),
  K(
    45,
    "fchownat",
    260,
    54,
    [
      res(),
      dirfd(0),
      userPath(1, "pathname", "file", "dirfd"),
      argU32(2, "uid", "owner"),
      argU32(3, "gid", "group"),
      argU32(4, "flags", "AT_* flags"),
    ],
    "change owner",
  ),
  K(46, "chdir", 80, 49, [res(), userPath(0, "path", "new working directory")], "change directory"),
  K(47, "fchdir", 81, 50, [res(), fd(0)], "change directory"),
  K(48, "setuid", 105, 146, [res(), rendered(argU32(0, "uid", "uid"), "uid")], "set uid"),
  K(49, "setgid", 106, 144, [res(), rendered(argU32(0, "gid", "gid"), "gid")], "set gid"),
  K(50, "setreuid", 113, 145, [res(), argU32(0, "ruid", "real"), argU32(1, "euid", "effective")], "set uids"),
  K(51, "setregid", 114, 143, [res(), argU32(0, "rgid", "real"), argU32(1, "egid", "effective")], "set gids"),
  K(
    52,
    "setresuid",
    117,
    147,
    [res(), argU32(0, "ruid", "real"), argU32(1, "euid", "effective"), argU32(2, "suid", "saved")],
    "set uids",
  ),
  K(
    53,
    "setresgid",
    119,
    149,
    [res(), argU32(0, "rgid", "real"), argU32(1, "egid", "effective"), argU32(2, "sgid", "saved")],
    "set gids",
  ),
  K(
    54,
    "ptrace",
    101,
    117,
    [
      res(),
      rendered(argU32(0, "request", "PTRACE_*"), "ptrace_request"),
      { ...argI32(1, "pid", "target pid"), name: "targetPid" },
      argU64(2, "addr", "address"),
      argU64(3, "data", "data"),
    ],
    "trace a process",
  ),
  K(
    55,
    "mount",
    165,
    40,
    [
      res(),
      userPath(0, "dev", "source"),
      userPath(1, "dir", "mount point", "cwd"),
      userPath(2, "type", "filesystem type"),
      rendered(argU32(3, "flags", "MS_* flags"), "mount_flags"),
    ],
    "mount a filesystem",
  ),
  K(
    56,
    "umount2",
    166,
    39,
    [
      res(),
      userPath(0, "name", "mount point", "cwd"),
      rendered(argU32(1, "flags", "MNT_* flags"), "umount_flags"),
    ],
    "unmount",
  ),
  K(
    57,
    "setns",
    308,
    268,
    [res(), fd(0), rendered(argU32(1, "nstype", "CLONE_NEW* or 0"), "clone_flags")],
    "join a namespace",
  ),
  K(
    58,
    "unshare",
    272,
    97,
    [res(), rendered(argU32(0, "flags", "CLONE_* flags"), "clone_flags")],
    "leave namespaces",
  ),
  K(
    59,
    "bpf",
    321,
    280,
    [res(), rendered(argI32(0, "cmd", "BPF_* command"), "bpf_cmd")],
    "a bpf(2) call",
    FD_RET,
  ),
  K(
    60,
    "init_module",
    175,
    105,
    [res(), argU64(1, "length", "image length"), userPath(2, "uargs", "module parameters")],
    "load a kernel module",
  ),
  K(
    61,
    "finit_module",
    313,
    273,
    [res(), fd(0), userPath(1, "uargs", "module parameters"), argU32(2, "flags", "MODULE_INIT_* flags")],
    "load a kernel module from an fd",
  ),
  K(
    62,
    "memfd_create",
    319,
    279,
    [res("fd"), userPath(0, "name", "name"), rendered(argU32(1, "flags", "MFD_* flags"), "memfd_flags")],
    "create an anonymous file",
    FD_RET,
  ),
  K(
    63,
    "userfaultfd",
    323,
    282,
    [res(), rendered(argU32(0, "flags", "O_* flags"), "open_flags")],
    "create a userfaultfd",
    FD_RET,
  ),
  K(
    64,
    "prctl",
    157,
    167,
    [
      res(),
      rendered(argU32(0, "option", "PR_* option"), "prctl_option"),
      argU64(1, "arg2_int", "second argument as an integer"),
    ],
    "process control",
  ),
  K(
    65,
    "kill",
    62,
    129,
    [
      res(),
      { ...argI32(0, "pid", "target"), name: "targetPid" },
      rendered(argU32(1, "sig", "signal"), "signal"),
    ],
    "send a signal",
  ),
  K(
    66,
    "tkill",
    200,
    130,
    [
      res(),
      { ...argI32(0, "tid", "target thread"), name: "targetTid" },
      rendered(argU32(1, "sig", "signal"), "signal"),
    ],
    "signal a thread",
  ),
  K(
    67,
    "tgkill",
    234,
    131,
    [
      res(),
      { ...argI32(0, "pid", "target"), name: "targetPid" },
      { ...argI32(1, "tid", "target thread"), name: "targetTid" },
      rendered(argU32(2, "sig", "signal"), "signal"),
    ],
    "signal a thread",
  ),
  K(
    68,
    "clone",
    56,
    220,
    [res(), rendered(argU64(0, "flags", "CLONE_* flags"), "clone_flags")],
    "create a thread or process (0 in the child)",
  ),
  K(
    69,
    "clone3",
    435,
    435,
    [
      res(),
      {
        name: "flags",
        falco: "flags",
        type: "u64",
        source: { from: "user_u64", arg: 0 },
        default: 0,
        render: "clone_flags",
        doc: "clone_args.flags; in the child, the parent's (read at fork; 0 before Linux 5.15)",
      },
    ],
    "create a thread or process (0 in the child)",
  ),
  K(70, "fork", 57, null, [res()], "create a process (0 in the child)"),
  K(71, "vfork", 58, null, [res()], "create a process (0 in the child)"),
  K(
    72,
    "capset",
    126,
    91,
    [res(), credCap("inheritable"), credCap("permitted"), credCap("effective")],
    "set capabilities",
  ),
  K(73, "read", 0, 63, [res(), fd(0), argU64(2, "size", "bytes asked")], "read", OFF),
  K(74, "write", 1, 64, [res(), fd(0), argU64(2, "size", "bytes asked")], "write", OFF),
  K(
    75,
    "pread",
    17,
    67,
    [res(), fd(0), argU64(2, "size", "bytes asked"), argU64(3, "pos", "offset")],
    "pread64",
    OFF,
  ),
  K(
    76,
    "pwrite",
    18,
    68,
    [res(), fd(0), argU64(2, "size", "bytes asked"), argU64(3, "pos", "offset")],
    "pwrite64",
    OFF,
  ),
  K(77, "readv", 19, 65, [res(), fd(0)], "readv", OFF),
  K(78, "writev", 20, 66, [res(), fd(0)], "writev", OFF),
  K(
    79,
    "close_range",
    436,
    436,
    [
      res(),
      argU32(0, "first", "lowest fd closed"),
      argU32(1, "last", "highest fd closed (~0: every fd above first)"),
      rendered(argU32(2, "flags", "CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC"), "close_range_flags"),
    ],
    "close (or mark close-on-exec) every fd in a range",
  ),
];

/** Elements before the parameters: kind, boot_sec, boot_nsec, tid, pid. */
export const HEADER_FIELDS = 5;
/** Most parameters a generic-encoder kind may have (the probe's unrolled loop). */
export const GENERIC_MAX_PARAMS = 8;
/** Highest kind id the probe's tables hold (ids are < this). */
export const KIND_SLOTS = 128;
/** Highest syscall number + 1 the selection map holds. */
export const SYSCALL_SLOTS = 512;
