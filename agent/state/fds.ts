// File descriptors: what one fd refers to (FdInfo), each process's fd table (FdTable), and the
// budget all tables share (FdBudget) so the total stays under a cap however many processes a node
// runs. Types and type characters are Falco's (fd.type / fd.typechar).

import { O_DIRECTORY, type OpenEvent } from "../events/index.ts";
import { basename, dirname, joinAndNormalize } from "./paths.ts";

export type FdType =
  | "file"
  | "directory"
  | "ipv4"
  | "ipv6"
  | "unix"
  | "pipe"
  | "event"
  | "signalfd"
  | "eventpoll"
  | "inotify"
  | "timerfd"
  | "netlink"
  | "bpf"
  | "userfaultfd"
  | "io_uring"
  | "memfd"
  | "pidfd"
  | "unknown";

/** fd.typechar for each fd.type, as Falco prints them. */
export const FD_TYPE_CHAR: Readonly<Record<FdType, string>> = {
  file: "f",
  directory: "d",
  ipv4: "4",
  ipv6: "6",
  unix: "u",
  pipe: "p",
  event: "e",
  signalfd: "s",
  eventpoll: "l",
  inotify: "i",
  timerfd: "t",
  netlink: "n",
  bpf: "b",
  userfaultfd: "u",
  io_uring: "r",
  memfd: "m",
  pidfd: "P",
  unknown: "o",
};

export type L4Proto = "tcp" | "udp" | "icmp" | "raw";

/** The two ends of a socket as the process sees them. */
export interface SocketEnds {
  family: "ipv4" | "ipv6" | "unix" | "netlink" | "other";
  l4proto: L4Proto | undefined;
  localIp: string | undefined;
  localPort: number | undefined;
  remoteIp: string | undefined;
  remotePort: number | undefined;
  /** The process is the server side (it accepted, or the socket listens). */
  isServer: boolean;
  connected: boolean;
}

export interface FdInfo {
  /** The fd number, or -1 when the call failed. */
  num: number;
  type: FdType;
  typechar: string;
  /** fd.name: absolute normalised path, `cip:cport->sip:sport`, a unix path, or pipe:[ino]; undefined when unknown. */
  name: string | undefined;
  /** The name exactly as the program passed it. */
  nameRaw: string;
  openFlags: number;
  /** Closed when the process execs (O_CLOEXEC, FD_CLOEXEC, SOCK_CLOEXEC, ...). */
  cloexec: boolean;
  /** Inode number when known (pipes, sockets, files from /proc). */
  ino: number | undefined;
  socket: SocketEnds | undefined;
  /** Caches of fd.directory / fd.filename, filled on first use. */
  directory?: string;
  filename?: string;
}

/** Where a relative path starts: the process's cwd, or the directory an fd refers to. */
export interface PathBaseResolver {
  cwd(pid: number): string | undefined;
  fdPath(pid: number, fd: number): string | undefined;
}

export const AT_FDCWD = -100;
const O_CLOEXEC = 0o2000000;

export function newFd(num: number, type: FdType, name: string | undefined, nameRaw: string): FdInfo {
  return {
    num,
    type,
    typechar: FD_TYPE_CHAR[type],
    name,
    nameRaw,
    openFlags: 0,
    cloexec: false,
    ino: undefined,
    socket: undefined,
    directory: undefined,
    filename: undefined,
  };
}

/** The path an *at call names: absolute as is, else against the dirfd's path or the cwd. */
export function resolveAtPath(
  pid: number,
  dirfd: number,
  path: string,
  bases: PathBaseResolver,
): string | undefined {
  if (path.startsWith("/")) return joinAndNormalize("/", path);
  const base = dirfd === AT_FDCWD ? bases.cwd(pid) : bases.fdPath(pid, dirfd);
  return base === undefined ? undefined : joinAndNormalize(base, path);
}

export function fdFromOpen(event: OpenEvent, bases: PathBaseResolver): FdInfo {
  const isDir = (event.flags & O_DIRECTORY) !== 0;
  const fd = newFd(
    event.res >= 0 ? event.res : -1,
    isDir ? "directory" : "file",
    resolveAtPath(event.pid, event.dirfd, event.path, bases),
    event.path,
  );
  fd.openFlags = event.flags;
  fd.cloexec = (event.flags & O_CLOEXEC) !== 0;
  return fd;
}

/** fd.name of a connected inet socket: client ip:port -> server ip:port (IPv6 addresses unbracketed, as Falco). */
export function socketName(s: SocketEnds): string | undefined {
  if (s.localIp === undefined || s.localPort === undefined) return undefined;
  if (!s.connected || s.remoteIp === undefined || s.remotePort === undefined)
    return `${s.localIp}:${s.localPort}`;
  const client = s.isServer ? `${s.remoteIp}:${s.remotePort}` : `${s.localIp}:${s.localPort}`;
  const server = s.isServer ? `${s.localIp}:${s.localPort}` : `${s.remoteIp}:${s.remotePort}`;
  return `${client}->${server}`;
}

/** fd.directory: the fd's directory (itself, for a directory). Computed once per fd. */
export function fdDirectory(fd: FdInfo): string | undefined {
  if (fd.name === undefined || (fd.type !== "file" && fd.type !== "directory")) return undefined;
  fd.directory ??= fd.type === "directory" ? fd.name : dirname(fd.name);
  return fd.directory;
}

/** fd.filename: the last path component (none for a directory). Computed once per fd. */
export function fdFilename(fd: FdInfo): string | undefined {
  if (fd.name === undefined || fd.type !== "file") return undefined;
  fd.filename ??= basename(fd.name);
  return fd.filename;
}

/** The cap on fds across all processes, and what was dropped to keep it. Owned by the tracker. */
export class FdBudget {
  total = 0;
  /** fds dropped because a process's table or the total was full. */
  evicted = 0;
  constructor(
    readonly perProcess: number,
    readonly totalCap: number,
  ) {
    if (!Number.isInteger(perProcess) || perProcess < 1) throw new RangeError("fds per process must be >= 1");
    if (!Number.isInteger(totalCap) || totalCap < perProcess)
      throw new RangeError("total fd cap must be >= the per-process cap");
  }
}
