// How Falco (libsinsp) shows a parameter in evt.arg: one table per vocabulary, keyed by the
// Linux (x86_64) value the probe records. libsinsp's driver first maps the kernel value to its
// own numbering (dropping bits it has no name for), then prints:
// - an enum: every name whose value equals it, joined by '|' (AF_LOCAL|AF_UNIX share 1);
// - a flag set: the names whose bits are all set, in the table's order, joined by '|';
// - the number itself when no name applies (for a mapped flag set that is 0, the mapped value).
// evt.rawarg always keeps the raw value; only evt.arg and evt.args use these texts.

import { resultName } from "./errno.ts";
import { renderOpenFlags } from "./open-flags.ts";
import type { Rendering } from "./table.ts";

/** [value, name] in libsinsp's table order (the order decides how joined names read). */
type Names = readonly (readonly [number, string])[];

/** An enum: value -> all names with that value, joined; `unknown` prints any other value. */
function enumRenderer(names: Names, unknown: (v: number) => string): (v: number) => string {
  const joined = new Map<number, string>();
  for (const [value, name] of names) {
    const prior = joined.get(value);
    joined.set(value, prior === undefined ? name : `${prior}|${name}`);
  }
  return (v) => joined.get(v) ?? unknown(v);
}

/** A flag set. `mapped`: the driver renumbers the bits and drops unnamed ones, so a value with
 * no named bit prints as 0; otherwise the raw value prints. */
function flagRenderer(names: Names, mapped: boolean): (v: number) => string {
  return (v) => {
    let rest = v >>> 0;
    let out = "";
    for (const [bits, name] of names) {
      if (rest !== 0 && (rest & bits) >>> 0 === bits) {
        out = out === "" ? name : `${out}|${name}`;
        rest = (rest & ~bits) >>> 0;
      }
    }
    if (out !== "") return out;
    return mapped ? "0" : String(v >>> 0);
  };
}

/** ptrace(2) requests; the driver maps any other request to PTRACE_UNKNOWN. */
export const PTRACE_REQUESTS: Names = [
  [33, "PTRACE_SINGLEBLOCK"],
  [32, "PTRACE_SYSEMU_SINGLESTEP"],
  [31, "PTRACE_SYSEMU"],
  [30, "PTRACE_ARCH_PRCTL"],
  [26, "PTRACE_SET_THREAD_AREA"],
  [25, "PTRACE_GET_THREAD_AREA"],
  [21, "PTRACE_OLDSETOPTIONS"],
  [19, "PTRACE_SETFPXREGS"],
  [18, "PTRACE_GETFPXREGS"],
  [15, "PTRACE_SETFPREGS"],
  [14, "PTRACE_GETFPREGS"],
  [13, "PTRACE_SETREGS"],
  [12, "PTRACE_GETREGS"],
  [0x420b, "PTRACE_SETSIGMASK"],
  [0x420a, "PTRACE_GETSIGMASK"],
  [0x4209, "PTRACE_PEEKSIGINFO"],
  [0x4208, "PTRACE_LISTEN"],
  [0x4207, "PTRACE_INTERRUPT"],
  [0x4206, "PTRACE_SEIZE"],
  [0x4205, "PTRACE_SETREGSET"],
  [0x4204, "PTRACE_GETREGSET"],
  [0x4203, "PTRACE_SETSIGINFO"],
  [0x4202, "PTRACE_GETSIGINFO"],
  [0x4201, "PTRACE_GETEVENTMSG"],
  [0x4200, "PTRACE_SETOPTIONS"],
  [24, "PTRACE_SYSCALL"],
  [17, "PTRACE_DETACH"],
  [16, "PTRACE_ATTACH"],
  [9, "PTRACE_SINGLESTEP"],
  [8, "PTRACE_KILL"],
  [7, "PTRACE_CONT"],
  [6, "PTRACE_POKEUSR"],
  [5, "PTRACE_POKEDATA"],
  [4, "PTRACE_POKETEXT"],
  [3, "PTRACE_PEEKUSR"],
  [2, "PTRACE_PEEKDATA"],
  [1, "PTRACE_PEEKTEXT"],
  [0, "PTRACE_TRACEME"],
];

/** clone(2)/unshare(2)/setns(2) CLONE_* bits; the low byte (exit signal) and bits libsinsp
 * has no name for (CLONE_PIDFD, CLONE_DETACHED, ...) are dropped by the driver. */
export const CLONE_FLAGS: Names = [
  [0x400, "CLONE_FILES"],
  [0x200, "CLONE_FS"],
  [0x80000000, "CLONE_IO"],
  [0x08000000, "CLONE_NEWIPC"],
  [0x40000000, "CLONE_NEWNET"],
  [0x20000, "CLONE_NEWNS"],
  [0x20000000, "CLONE_NEWPID"],
  [0x04000000, "CLONE_NEWUTS"],
  [0x8000, "CLONE_PARENT"],
  [0x100000, "CLONE_PARENT_SETTID"],
  [0x2000, "CLONE_PTRACE"],
  [0x800, "CLONE_SIGHAND"],
  [0x40000, "CLONE_SYSVSEM"],
  [0x10000, "CLONE_THREAD"],
  [0x800000, "CLONE_UNTRACED"],
  [0x100, "CLONE_VM"],
  [0x10000000, "CLONE_NEWUSER"],
  [0x200000, "CLONE_CHILD_CLEARTID"],
  [0x1000000, "CLONE_CHILD_SETTID"],
  [0x80000, "CLONE_SETTLS"],
  [0x4000, "CLONE_VFORK"],
  [0x02000000, "CLONE_NEWCGROUP"],
];

/** Address families libsinsp names; the driver maps any other family to AF_UNSPEC. */
export const SOCKET_FAMILIES: Names = [
  [39, "AF_NFC"],
  [38, "AF_ALG"],
  [37, "AF_CAIF"],
  [36, "AF_IEEE802154"],
  [35, "AF_PHONET"],
  [34, "AF_ISDN"],
  [33, "AF_RXRPC"],
  [32, "AF_IUCV"],
  [31, "AF_BLUETOOTH"],
  [30, "AF_TIPC"],
  [29, "AF_CAN"],
  [26, "AF_LLC"],
  [25, "AF_WANPIPE"],
  [24, "AF_PPPOX"],
  [23, "AF_IRDA"],
  [22, "AF_SNA"],
  [21, "AF_RDS"],
  [20, "AF_ATMSVC"],
  [19, "AF_ECONET"],
  [18, "AF_ASH"],
  [17, "AF_PACKET"],
  [16, "AF_ROUTE"],
  [16, "AF_NETLINK"],
  [15, "AF_KEY"],
  [14, "AF_SECURITY"],
  [13, "AF_NETBEUI"],
  [12, "AF_DECnet"],
  [11, "AF_ROSE"],
  [10, "AF_INET6"],
  [9, "AF_X25"],
  [8, "AF_ATMPVC"],
  [7, "AF_BRIDGE"],
  [6, "AF_NETROM"],
  [5, "AF_APPLETALK"],
  [4, "AF_IPX"],
  [3, "AF_AX25"],
  [2, "AF_INET"],
  [1, "AF_LOCAL"],
  [1, "AF_UNIX"],
  [0, "AF_UNSPEC"],
];

/** mount(2) MS_* bits (libsinsp's names drop the MS_ prefix); same numbering as Linux. */
export const MOUNT_FLAGS: Names = [
  [1 << 0, "RDONLY"],
  [1 << 1, "NOSUID"],
  [1 << 2, "NODEV"],
  [1 << 3, "NOEXEC"],
  [1 << 4, "SYNCHRONOUS"],
  [1 << 5, "REMOUNT"],
  [1 << 6, "MANDLOCK"],
  [1 << 7, "DIRSYNC"],
  [1 << 10, "NOATIME"],
  [1 << 11, "NODIRATIME"],
  [1 << 12, "BIND"],
  [1 << 13, "MOVE"],
  [1 << 14, "REC"],
  [1 << 15, "SILENT"],
  [1 << 16, "POSIXACL"],
  [1 << 17, "UNBINDABLE"],
  [1 << 18, "PRIVATE"],
  [1 << 19, "SLAVE"],
  [1 << 20, "SHARED"],
  [1 << 21, "RELATIME"],
  [1 << 22, "KERNMOUNT"],
  [1 << 23, "I_VERSION"],
  [1 << 24, "STRICTATIME"],
  [1 << 25, "LAZYTIME"],
  [1 << 28, "NOSEC"],
  [1 << 29, "BORN"],
  [1 << 30, "ACTIVE"],
  [0x80000000, "NOUSER"],
];
/** The old mount(2) magic number in the high half, which the driver strips. */
const MS_MGC_MASK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;

/** umount2(2) flags (libsinsp's names drop the MNT_/UMOUNT_ prefix); same numbering as Linux. */
export const UMOUNT_FLAGS: Names = [
  [1, "FORCE"],
  [2, "DETACH"],
  [4, "EXPIRE"],
  [8, "NOFOLLOW"],
];

export const UNLINKAT_FLAGS: Names = [[0x200, "AT_REMOVEDIR"]];
export const LINKAT_FLAGS: Names = [
  [0x400, "AT_SYMLINK_FOLLOW"],
  [0x1000, "AT_EMPTY_PATH"],
];
export const RENAME_FLAGS: Names = [
  [1, "RENAME_NOREPLACE"],
  [2, "RENAME_EXCHANGE"],
  [4, "RENAME_WHITEOUT"],
];
/** close_range(2) flags (the driver's PPM_CLOSE_RANGE_* have the kernel's values). */
export const CLOSE_RANGE_FLAGS: Names = [
  [2, "CLOSE_RANGE_UNSHARE"],
  [4, "CLOSE_RANGE_CLOEXEC"],
];
export const MEMFD_FLAGS: Names = [
  [1, "MFD_CLOEXEC"],
  [2, "MFD_ALLOW_SEALING"],
  [4, "MFD_HUGETLB"],
];
/** The exec event's flags as Falco numbers and names them (PPM_EXE_*). */
export const EXE_FLAGS: Names = [
  [1, "EXE_WRITABLE"],
  [2, "EXE_UPPER_LAYER"],
  [4, "EXE_FROM_MEMFD"],
  [8, "EXE_LOWER_LAYER"],
];

/** The probe's exec flags (bit 0 memfd, 1 upper layer, 2 lower layer; docs/EVENTS.md) in
 * Falco's numbering. EXE_WRITABLE is never set: the probe does not check write permission. */
export function falcoExeFlags(probeFlags: number): number {
  return ((probeFlags & 1) << 2) | (probeFlags & 2) | ((probeFlags & 4) << 1);
}

/** Falco's evt.arg text of exec flags (Falco-numbered): names joined by |, "0" when none. */
export const renderExeFlags = flagRenderer(EXE_FLAGS, true);

/** chmod(2) mode bits, lowest first as libsinsp lists them; file-type bits are dropped. */
export const MODE_BITS: Names = [
  [0o1, "S_IXOTH"],
  [0o2, "S_IWOTH"],
  [0o4, "S_IROTH"],
  [0o10, "S_IXGRP"],
  [0o20, "S_IWGRP"],
  [0o40, "S_IRGRP"],
  [0o100, "S_IXUSR"],
  [0o200, "S_IWUSR"],
  [0o400, "S_IRUSR"],
  [0o1000, "S_ISVTX"],
  [0o2000, "S_ISGID"],
  [0o4000, "S_ISUID"],
];

/** prctl(2) options libsinsp names (PR_MCE_KILL appears twice in its table, so prints twice). */
export const PRCTL_OPTIONS: Names = [
  [3, "PR_GET_DUMPABLE"],
  [4, "PR_SET_DUMPABLE"],
  [7, "PR_GET_KEEPCAPS"],
  [8, "PR_SET_KEEPCAPS"],
  [15, "PR_SET_NAME"],
  [16, "PR_GET_NAME"],
  [21, "PR_GET_SECCOMP"],
  [22, "PR_SET_SECCOMP"],
  [23, "PR_CAPBSET_READ"],
  [24, "PR_CAPBSET_DROP"],
  [27, "PR_GET_SECUREBITS"],
  [28, "PR_SET_SECUREBITS"],
  [33, "PR_MCE_KILL"],
  [33, "PR_MCE_KILL"],
  [35, "PR_SET_MM"],
  [36, "PR_SET_CHILD_SUBREAPER"],
  [37, "PR_GET_CHILD_SUBREAPER"],
  [38, "PR_SET_NO_NEW_PRIVS"],
  [39, "PR_GET_NO_NEW_PRIVS"],
  [40, "PR_GET_TID_ADDRESS"],
  [41, "PR_SET_THP_DISABLE"],
  [42, "PR_GET_THP_DISABLE"],
  [47, "PR_CAP_AMBIENT"],
];

/** fcntl(2) commands (x86_64); the driver maps any other command to UNKNOWN. */
export const FCNTL_COMMANDS: Names = [
  [1032, "F_GETPIPE_SZ"],
  [1031, "F_SETPIPE_SZ"],
  [1026, "F_NOTIFY"],
  [1030, "F_DUPFD_CLOEXEC"],
  [1029, "F_CANCELLK"],
  [1025, "F_GETLEASE"],
  [1024, "F_SETLEASE"],
  [16, "F_GETOWN_EX"],
  [15, "F_SETOWN_EX"],
  [11, "F_GETSIG"],
  [10, "F_SETSIG"],
  [9, "F_GETOWN"],
  [8, "F_SETOWN"],
  [7, "F_SETLKW"],
  [6, "F_SETLK"],
  [5, "F_GETLK"],
  [4, "F_SETFL"],
  [3, "F_GETFL"],
  [2, "F_SETFD"],
  [1, "F_GETFD"],
  [0, "F_DUPFD"],
  [36, "F_OFD_GETLK"],
  [37, "F_OFD_SETLK"],
  [38, "F_OFD_SETLKW"],
];

/** bpf(2) commands (uapi/linux/bpf.h, same numbering everywhere; BPF_PROG_RUN aliases 10). */
export const BPF_COMMANDS: Names = [
  "BPF_MAP_CREATE",
  "BPF_MAP_LOOKUP_ELEM",
  "BPF_MAP_UPDATE_ELEM",
  "BPF_MAP_DELETE_ELEM",
  "BPF_MAP_GET_NEXT_KEY",
  "BPF_PROG_LOAD",
  "BPF_OBJ_PIN",
  "BPF_OBJ_GET",
  "BPF_PROG_ATTACH",
  "BPF_PROG_DETACH",
  "BPF_PROG_TEST_RUN",
  "BPF_PROG_RUN",
  "BPF_PROG_GET_NEXT_ID",
  "BPF_MAP_GET_NEXT_ID",
  "BPF_PROG_GET_FD_BY_ID",
  "BPF_MAP_GET_FD_BY_ID",
  "BPF_OBJ_GET_INFO_BY_FD",
  "BPF_PROG_QUERY",
  "BPF_RAW_TRACEPOINT_OPEN",
  "BPF_BTF_LOAD",
  "BPF_BTF_GET_FD_BY_ID",
  "BPF_TASK_FD_QUERY",
  "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
  "BPF_MAP_FREEZE",
  "BPF_BTF_GET_NEXT_ID",
  "BPF_MAP_LOOKUP_BATCH",
  "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
  "BPF_MAP_UPDATE_BATCH",
  "BPF_MAP_DELETE_BATCH",
  "BPF_LINK_CREATE",
  "BPF_LINK_UPDATE",
  "BPF_LINK_GET_FD_BY_ID",
  "BPF_LINK_GET_NEXT_ID",
  "BPF_ENABLE_STATS",
  "BPF_ITER_CREATE",
  "BPF_LINK_DETACH",
  "BPF_PROG_BIND_MAP",
].map((name, i): [number, string] => [i > 10 ? i - 1 : i, name]);

/** Signal names libsinsp knows (1..31); others print as the number. */
export const SIGNALS: Names = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
].map((name, i): [number, string] => [i + 1, name]);

const decimal = (v: number): string => String(v);
const renderMountFlags = flagRenderer(MOUNT_FLAGS, false);
/** A uid/gid of -1 ("no change") prints as <NONE>; the rules stage shows other ids by name. */
const idOrNone = (v: number): string => (v >>> 0 === 0xffffffff ? "<NONE>" : String(v >>> 0));

/** Every rendering the event table uses, as Falco prints it in evt.arg. */
export const RENDERERS: Readonly<Record<Rendering, (v: number) => string>> = {
  // PT_ERRNO: a negative result is the errno's name, anything else the number.
  errno: (v) => (v < 0 ? resultName(v) : String(v)),
  // PT_FD without the thread's fd table (the rules stage adds the fd's name when it knows it).
  fd: (v) => (v === -100 ? "AT_FDCWD" : v < 0 ? resultName(v) : String(v)),
  // PT_MODE (chmod family): the S_I* names; 0 when none applies.
  mode: flagRenderer(MODE_BITS, true),
  // PT_UINT32 printed octal (creat's and open's mode) or hexadecimal (mkdir's mode).
  octal: (v) => octal(v),
  hex: (v) => (v >>> 0).toString(16).toUpperCase(),
  uid: idOrNone,
  gid: idOrNone,
  open_flags: renderOpenFlags,
  clone_flags: flagRenderer(CLONE_FLAGS, true),
  ptrace_request: enumRenderer(PTRACE_REQUESTS, () => "PTRACE_UNKNOWN"),
  mount_flags: (v) => {
    const flags = (v & MS_MGC_MASK) >>> 0 === MS_MGC_VAL ? v & ~MS_MGC_MASK : v;
    return renderMountFlags(flags);
  },
  umount_flags: flagRenderer(UMOUNT_FLAGS, false),
  unlinkat_flags: flagRenderer(UNLINKAT_FLAGS, true),
  linkat_flags: flagRenderer(LINKAT_FLAGS, true),
  rename_flags: flagRenderer(RENAME_FLAGS, false),
  socket_family: enumRenderer(SOCKET_FAMILIES, () => "AF_UNSPEC"),
  // socket(2)'s type is a plain number in libsinsp.
  socket_type: decimal,
  memfd_flags: flagRenderer(MEMFD_FLAGS, true),
  close_range_flags: flagRenderer(CLOSE_RANGE_FLAGS, true),
  signal: enumRenderer(SIGNALS, decimal),
  prctl_option: enumRenderer(PRCTL_OPTIONS, decimal),
  fcntl_cmd: enumRenderer(FCNTL_COMMANDS, () => "UNKNOWN"),
  bpf_cmd: enumRenderer(BPF_COMMANDS, decimal),
};

/** printf's %#o: a leading 0 unless the value is 0. */
export function octal(v: number): string {
  const n = v >>> 0;
  return n === 0 ? "0" : `0${n.toString(8)}`;
}

/** The renderer for a table's `render` name; undefined for a name the table does not define. */
export function rendererFor(render: string | undefined): ((v: number) => string) | undefined {
  return render !== undefined && Object.hasOwn(RENDERERS, render)
    ? RENDERERS[render as Rendering]
    : undefined;
}
