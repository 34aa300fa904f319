// The fd table's part of each syscall, by Falco's event names and parameter names (fd, res,
// tuple, addr, newfd, oldfd, fd1, fd2, cmd, flags, domain, type, proto, path, name, dirfd): what
// each call creates, copies, closes or changes, and which fd the rules see for it.
// Kinds the capture does not deliver yet are handled as soon as their records carry these names.

import type { FdTable } from "./fd-table.ts";
import type { FdInfo, PathBaseResolver, SocketEnds } from "./fds.ts";
import { AT_FDCWD, FD_TYPE_CHAR, type FdType, newFd, resolveAtPath, socketName } from "./fds.ts";
import { joinAndNormalize } from "./paths.ts";
import type { ProcessInfo } from "./processes.ts";

/** A record's parameters by Falco name. */
export type SyscallParams = Readonly<Record<string, unknown>>;

const O_CLOEXEC = 0o2000000;
const SOCK_CLOEXEC = 0o2000000;
const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;
const CLOSE_RANGE_CLOEXEC = 4;
const CLONE_FILES = 0x400;
const CLONE_THREAD = 0x10000;
const EINPROGRESS = -115;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

export const FD_CREATING_ANON: Readonly<Record<string, FdType>> = {
  eventfd: "event",
  eventfd2: "event",
  signalfd: "signalfd",
  signalfd4: "signalfd",
  inotify_init: "inotify",
  inotify_init1: "inotify",
  timerfd_create: "timerfd",
  epoll_create: "eventpoll",
  epoll_create1: "eventpoll",
  userfaultfd: "userfaultfd",
  io_uring_setup: "io_uring",
  pidfd_open: "pidfd",
};

export function num(p: SyscallParams, name: string): number | undefined {
  const v = p[name];
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function text(p: SyscallParams, name: string): string | undefined {
  const v = p[name];
  return typeof v === "string" ? v : undefined;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface Tuple {
  family: "ipv4" | "ipv6" | "unix";
  src: Endpoint | undefined;
  dst: Endpoint | undefined;
  /** Unix socket path. */
  path: string | undefined;
}

/** "1.2.3.4:80", "::1:80" (Falco prints IPv6 unbracketed; the port is after the last colon) or "[::1]:80". */
export function parseEndpoint(s: string): Endpoint | undefined {
  const colon = s.lastIndexOf(":");
  if (colon <= 0) return undefined;
  let ip = s.slice(0, colon);
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  const port = Number(s.slice(colon + 1));
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? { ip, port } : undefined;
}

function endpointFrom(v: unknown, ipKeys: string[], portKeys: string[]): Endpoint | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const ip = ipKeys.map((k) => o[k]).find((x) => typeof x === "string");
  const port = portKeys.map((k) => o[k]).find((x) => typeof x === "number");
  return typeof ip === "string" && typeof port === "number" ? { ip, port } : undefined;
}

const familyOf = (ip: string): "ipv4" | "ipv6" => (ip.includes(":") ? "ipv6" : "ipv4");

/** A socket tuple as Falco renders it ("sip:sport->dip:dport", or a unix path) or as an object. */
export function parseTuple(v: unknown): Tuple | undefined {
  if (typeof v === "string") {
    const arrow = v.indexOf("->");
    if (arrow < 0)
      return v.startsWith("/") ? { family: "unix", src: undefined, dst: undefined, path: v } : undefined;
    const src = parseEndpoint(v.slice(0, arrow));
    const rest = v.slice(arrow + 2);
    const dst = parseEndpoint(rest);
    if (src === undefined || dst === undefined) {
      // unix: "ffff...->ffff... /path"
      const space = rest.indexOf(" ");
      return {
        family: "unix",
        src: undefined,
        dst: undefined,
        path: space < 0 ? undefined : rest.slice(space + 1),
      };
    }
    return { family: familyOf(dst.ip), src, dst, path: undefined };
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const fam = o.family;
  if (fam === AF_UNIX) {
    // The probe's unix tuple: the path is in an address field ("" when unnamed).
    const named = [o.dstAddr, o.srcAddr, o.path].find((x) => typeof x === "string" && x !== "");
    return {
      family: "unix",
      src: undefined,
      dst: undefined,
      path: typeof named === "string" ? named : undefined,
    };
  }
  const src = endpointFrom(
    o,
    ["srcAddr", "sip", "saddr", "src_ip", "srcIp"],
    ["srcPort", "sport", "src_port"],
  );
  const dst = endpointFrom(
    o,
    ["dstAddr", "dip", "daddr", "dst_ip", "dstIp"],
    ["dstPort", "dport", "dst_port"],
  );
  const path = typeof o.path === "string" ? o.path : undefined;
  const family =
    fam === AF_UNIX || fam === "unix" || (path !== undefined && dst === undefined)
      ? "unix"
      : fam === AF_INET6 || fam === "ipv6"
        ? "ipv6"
        : dst !== undefined
          ? familyOf(dst.ip)
          : "ipv4";
  return { family, src, dst, path };
}

/** What the fd table needs from the tracker. */
export interface FdEventHost {
  /** The process's fd, from the table or, once, from /proc. */
  fdOf(process: ProcessInfo, fd: number): FdInfo | undefined;
  bases: PathBaseResolver;
  shareFds(parentPid: number, childPid: number): void;
}

function socketType(
  domain: number | undefined,
  type: number | undefined,
): { fdType: FdType; ends: SocketEnds | undefined } {
  const base = (type ?? 0) & 0xf;
  const l4proto = base === 1 ? "tcp" : base === 2 ? "udp" : base === 3 ? "raw" : undefined;
  const family =
    domain === AF_INET
      ? "ipv4"
      : domain === AF_INET6
        ? "ipv6"
        : domain === AF_UNIX
          ? "unix"
          : domain === AF_NETLINK
            ? "netlink"
            : "other";
  const fdType: FdType = family === "other" ? "unknown" : family;
  const ends: SocketEnds = {
    family,
    l4proto: family === "ipv4" || family === "ipv6" ? l4proto : undefined,
    localIp: undefined,
    localPort: undefined,
    remoteIp: undefined,
    remotePort: undefined,
    isServer: false,
    connected: false,
  };
  return { fdType, ends };
}

/** A copy of an fd under another number (dup family), with its own close-on-exec flag. */
function duplicate(fd: FdInfo, newNum: number, cloexec: boolean): FdInfo {
  return { ...fd, num: newNum, cloexec, directory: undefined, filename: undefined };
}

function withSocket(fd: FdInfo, ends: SocketEnds): FdInfo {
  const type: FdType =
    ends.family === "ipv6"
      ? "ipv6"
      : ends.family === "unix"
        ? "unix"
        : ends.family === "ipv4"
          ? "ipv4"
          : fd.type;
  const named = type === "ipv4" || type === "ipv6" ? socketName(ends) : fd.name;
  return { ...fd, type, typechar: FD_TYPE_CHAR[type], socket: ends, name: named };
}

/**
 * Applies one fd-related syscall to `process`'s table. Returns the fd the event refers to (the
 * new one for calls that create one), or undefined when the kind does not concern fds.
 */
export function applyFdSyscall(
  kind: string,
  p: SyscallParams,
  process: ProcessInfo,
  host: FdEventHost,
): FdInfo | undefined {
  const fds: FdTable = process.fds;
  const res = num(p, "res") ?? num(p, "fd");
  switch (kind) {
    case "close": {
      const n = num(p, "fd");
      if (n === undefined) return undefined;
      const fd = fds.get(n);
      if ((num(p, "res") ?? 0) >= 0) fds.delete(n);
      return fd;
    }
    case "close_range": {
      // As libsinsp: a failed call changes nothing; CLOSE_RANGE_CLOEXEC marks instead of closing.
      if ((num(p, "res") ?? -1) < 0) return undefined;
      const cloexecOnly = ((num(p, "flags") ?? 0) & CLOSE_RANGE_CLOEXEC) !== 0;
      fds.closeRange(num(p, "first") ?? 0, num(p, "last") ?? 0, cloexecOnly);
      return undefined;
    }
    case "creat": {
      const path = text(p, "name") ?? text(p, "path") ?? "";
      const fd = newFd(
        num(p, "fd") ?? num(p, "res") ?? -1,
        "file",
        resolveAtPath(process.pid, AT_FDCWD, path, host.bases),
        path,
      );
      fds.set(fd);
      return fd;
    }
    case "socket": {
      const n = num(p, "fd") ?? num(p, "res") ?? -1;
      const { fdType, ends } = socketType(num(p, "domain"), num(p, "type"));
      const fd = newFd(n, fdType, undefined, "");
      fd.socket = ends;
      fd.cloexec = ((num(p, "type") ?? 0) & SOCK_CLOEXEC) !== 0;
      fds.set(fd);
      return fd;
    }
    case "socketpair": {
      const a = num(p, "fd1");
      const b = num(p, "fd2");
      const flags = num(p, "type") ?? 0;
      for (const n of [a, b]) {
        if (n === undefined || n < 0) continue;
        const fd = newFd(n, "unix", undefined, "");
        fd.cloexec = (flags & SOCK_CLOEXEC) !== 0;
        fds.set(fd);
      }
      return a === undefined ? undefined : fds.get(a);
    }
    case "connect": {
      const n = num(p, "fd");
      if (n === undefined) return undefined;
      const fd = host.fdOf(process, n);
      const tuple = parseTuple(p.tuple);
      const r = num(p, "res") ?? 0;
      if (fd === undefined || tuple === undefined || (r < 0 && r !== EINPROGRESS)) return fd;
      const ends: SocketEnds = {
        family: tuple.family,
        l4proto: fd.socket?.l4proto ?? (tuple.family === "unix" ? undefined : "tcp"),
        localIp: tuple.src?.ip,
        localPort: tuple.src?.port,
        remoteIp: tuple.dst?.ip,
        remotePort: tuple.dst?.port,
        isServer: false,
        connected: true,
      };
      const updated = withSocket(fd, ends);
      if (tuple.family === "unix" && tuple.path !== undefined) updated.name = tuple.path;
      fds.set(updated);
      return updated;
    }
    case "accept":
    case "accept4": {
      const n = num(p, "fd") ?? num(p, "res");
      if (n === undefined || n < 0) return undefined;
      const tuple = parseTuple(p.tuple);
      const family = tuple?.family ?? "ipv4";
      // Falco's accept tuple is client -> server: the peer first, this end second.
      const ends: SocketEnds = {
        family,
        l4proto: family === "unix" ? undefined : "tcp",
        localIp: tuple?.dst?.ip,
        localPort: tuple?.dst?.port,
        remoteIp: tuple?.src?.ip,
        remotePort: tuple?.src?.port,
        isServer: true,
        connected: true,
      };
      const type: FdType = family;
      const fd = newFd(
        n,
        type,
        family === "unix" ? tuple?.path : socketName(ends),
        typeof p.tuple === "string" ? p.tuple : "",
      );
      fd.socket = ends;
      fd.cloexec = ((num(p, "flags") ?? 0) & SOCK_CLOEXEC) !== 0;
      fds.set(fd);
      return fd;
    }
    case "bind": {
      const n = num(p, "fd");
      if (n === undefined) return undefined;
      const fd = host.fdOf(process, n);
      if (fd === undefined || (num(p, "res") ?? 0) < 0) return fd;
      const raw = p.addr;
      const unixPath =
        typeof raw === "object" && raw !== null && (raw as { family?: unknown }).family === AF_UNIX
          ? (raw as { addr?: unknown }).addr
          : undefined;
      const addr = typeof unixPath === "string" ? unixPath : raw;
      if (typeof addr === "string" && addr.startsWith("/")) {
        const updated = { ...fd, type: "unix" as FdType, typechar: FD_TYPE_CHAR.unix, name: addr };
        fds.set(updated);
        return updated;
      }
      const at =
        typeof addr === "string" ? parseEndpoint(addr) : endpointFrom(addr, ["ip", "addr"], ["port"]);
      if (at === undefined) return fd;
      const base = fd.socket;
      const updated = withSocket(fd, {
        family: familyOf(at.ip),
        l4proto: base?.l4proto,
        localIp: at.ip,
        localPort: at.port,
        remoteIp: undefined,
        remotePort: undefined,
        isServer: base?.isServer ?? false,
        connected: false,
      });
      fds.set(updated);
      return updated;
    }
    case "listen": {
      const n = num(p, "fd");
      if (n === undefined) return undefined;
      const fd = host.fdOf(process, n);
      if (fd?.socket === undefined) return fd;
      const updated = { ...fd, socket: { ...fd.socket, isServer: true } };
      fds.set(updated);
      return updated;
    }
    case "dup":
    case "dup2":
    case "dup3": {
      const oldfd = num(p, "oldfd") ?? num(p, "fd");
      const r = num(p, "res");
      if (oldfd === undefined || r === undefined || r < 0) return undefined;
      const src = host.fdOf(process, oldfd);
      if (src === undefined) return undefined;
      const copy = duplicate(src, r, kind === "dup3" && ((num(p, "flags") ?? 0) & O_CLOEXEC) !== 0);
      fds.set(copy);
      return copy;
    }
    case "fcntl": {
      const n = num(p, "fd");
      const cmd = num(p, "cmd");
      if (n === undefined) return undefined;
      const src = host.fdOf(process, n);
      const r = num(p, "res") ?? -1;
      if (src !== undefined && r >= 0 && (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC)) {
        fds.set(duplicate(src, r, cmd === F_DUPFD_CLOEXEC));
      }
      return src;
    }
    case "pipe":
    case "pipe2": {
      const a = num(p, "fd1");
      const b = num(p, "fd2");
      const ino = num(p, "ino");
      const cloexec = ((num(p, "flags") ?? 0) & O_CLOEXEC) !== 0;
      for (const n of [a, b]) {
        if (n === undefined || n < 0) continue;
        const name = ino === undefined ? "pipe" : `pipe:[${ino}]`;
        const fd = newFd(n, "pipe", name, name);
        fd.ino = ino;
        fd.cloexec = cloexec;
        fds.set(fd);
      }
      return a === undefined ? undefined : fds.get(a);
    }
    case "memfd_create": {
      const n = num(p, "fd") ?? num(p, "res") ?? -1;
      // As the kernel names it in /proc/PID/fd and /proc/PID/exe (without " (deleted)").
      const name = `/memfd:${text(p, "name") ?? ""}`;
      const fd = newFd(n, "memfd", name, name);
      fd.cloexec = ((num(p, "flags") ?? 0) & 1) !== 0; // MFD_CLOEXEC
      fds.set(fd);
      return fd;
    }
    case "chdir": {
      const path = text(p, "path");
      if ((num(p, "res") ?? -1) === 0 && path !== undefined) {
        const next = path.startsWith("/")
          ? joinAndNormalize("/", path)
          : process.cwd === undefined
            ? undefined
            : joinAndNormalize(process.cwd, path);
        process.cwd = next;
      }
      return undefined;
    }
    case "fchdir": {
      const n = num(p, "fd");
      if ((num(p, "res") ?? -1) === 0 && n !== undefined) {
        const fd = host.fdOf(process, n);
        if (fd?.name !== undefined) process.cwd = fd.name;
        return fd;
      }
      return undefined;
    }
    case "clone":
    case "clone3":
    case "fork":
    case "vfork": {
      const flags = num(p, "flags") ?? 0;
      const child = num(p, "res");
      if (child !== undefined && child > 0 && (flags & CLONE_FILES) !== 0 && (flags & CLONE_THREAD) === 0)
        host.shareFds(process.pid, child);
      return undefined;
    }
  }
  if (applyCredentials(kind, p, process)) return undefined;
  const anon = FD_CREATING_ANON[kind];
  if (anon !== undefined) {
    const n = res ?? -1;
    const fd = newFd(n, anon, undefined, "");
    fds.set(fd);
    return fd;
  }
  // Any other event naming an fd (read, write, sendto, ...): the rules see that fd.
  const n = num(p, "fd");
  return n === undefined || n < 0 ? undefined : host.fdOf(process, n);
}

/** setuid family and capset: the process's ids and capabilities after a successful call. */
function applyCredentials(kind: string, p: SyscallParams, process: ProcessInfo): boolean {
  const ok = (num(p, "res") ?? -1) === 0;
  const set = (v: number | undefined, apply: (x: number) => void) => {
    // -1 (as u32: 4294967295) leaves the id unchanged.
    if (ok && v !== undefined && v >= 0 && v !== 0xffffffff) apply(v);
  };
  switch (kind) {
    case "setuid":
      set(num(p, "uid"), (v) => {
        process.uid = v;
      });
      return true;
    case "setreuid":
    case "setresuid":
      set(num(p, "euid"), (v) => {
        process.uid = v;
      });
      return true;
    case "setgid":
      set(num(p, "gid"), (v) => {
        process.gid = v;
      });
      return true;
    case "setregid":
    case "setresgid":
      set(num(p, "egid"), (v) => {
        process.gid = v;
      });
      return true;
    case "capset":
      if (ok) {
        const big = (name: string) => {
          const v = p[name];
          return typeof v === "bigint" ? v : typeof v === "number" ? BigInt(v) : undefined;
        };
        process.capInheritable = big("cap_inheritable") ?? process.capInheritable;
        process.capPermitted = big("cap_permitted") ?? process.capPermitted;
        process.capEffective = big("cap_effective") ?? process.capEffective;
      }
      return true;
  }
  return false;
}
