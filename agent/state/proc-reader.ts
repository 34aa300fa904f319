// Reads one process of the host from /proc: identity, ids, terminal, session, capabilities, cwd,
// environment, cgroup and its fds. Every read may fail (the process may exit at any moment, or a
// file may be hidden): a missing file leaves that fact missing, never an exception.

import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from "node:fs";
import { parseCapabilityMask } from "../common/index.ts";
import { type FdInfo, type FdType, newFd, socketName } from "./fds.ts";
import type { SocketIndex } from "./sockets.ts";
import { boundEnv, ENV_MAX_BYTES, type ExeLayer } from "./processes.ts";

/** USER_HZ: /proc/PID/stat times are in these ticks on every Linux architecture Lanner targets. */
const TICKS_PER_SECOND = 100;
/** Most fds read from /proc for one process (the table's own cap applies after). */
const MAX_FDS_READ = 4096;

export interface ProcSnapshot {
  pid: number;
  ppid: number;
  vpid: number;
  comm: string;
  /** argv; empty for kernel threads and zombies. */
  argv: string[];
  exepath: string | undefined;
  cwd: string | undefined;
  env: string[];
  uid: number;
  gid: number;
  loginuid: number;
  tty: number;
  sid: number;
  pgid: number;
  vpgid: number;
  capPermitted: bigint | undefined;
  capEffective: bigint | undefined;
  capInheritable: bigint | undefined;
  /** /proc/PID/cgroup as it is, one "hierarchy:controllers:path" per line. */
  cgroupText: string;
  /** Start time, boot-clock ns. */
  startBootNs: number;
  isKernelThread: boolean;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** At most `max` bytes of a file (argv and environ can be megabytes). */
export function readBounded(path: string, max: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.allocUnsafe(max);
    let got = 0;
    while (got < max) {
      const n = readSync(fd, buf, got, max - got, null);
      if (n <= 0) break;
      got += n;
    }
    return buf.toString("utf8", 0, got);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Bytes of argv kept from /proc (the kernel's record keeps 4 KiB; a seeded process gets as much). */
const CMDLINE_MAX_BYTES = 4096;

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The kernel marks a removed file's path with " (deleted)". */
function stripDeleted(path: string): string {
  return path.endsWith(" (deleted)") ? path.slice(0, -" (deleted)".length) : path;
}

function statusField(status: string, key: string): string | undefined {
  const at = status.indexOf(`\n${key}:`);
  const start = at < 0 ? (status.startsWith(`${key}:`) ? 0 : -1) : at + 1;
  if (start < 0) return undefined;
  const end = status.indexOf("\n", start);
  return status.slice(start + key.length + 1, end < 0 ? undefined : end).trim();
}

/** The last of a whitespace-separated list (NSpid etc.: the innermost namespace's value). */
function lastNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const parts = text.split(/\s+/);
  const n = Number(parts[parts.length - 1]);
  return Number.isInteger(n) ? n : undefined;
}

function nthNumber(text: string | undefined, i: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.split(/\s+/)[i]);
  return Number.isInteger(n) ? n : undefined;
}

export function splitNul(text: string): string[] {
  const parts = text.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Reads /proc/PID; undefined when the process is gone (or was never there). */
export function readProcSnapshot(procRoot: string, pid: number): ProcSnapshot | undefined {
  const dir = `${procRoot}/${pid}`;
  const stat = read(`${dir}/stat`);
  if (stat === undefined) return undefined;
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const comm = stat.slice(open + 1, close);
  const after = stat.slice(close + 2).split(" ");
  const status = read(`${dir}/status`) ?? "";
  const cmdline = readBounded(`${dir}/cmdline`, CMDLINE_MAX_BYTES) ?? "";
  const environ = readBounded(`${dir}/environ`, ENV_MAX_BYTES * 2);
  const loginuidText = read(`${dir}/loginuid`);
  const loginuidRaw = loginuidText === undefined ? undefined : Number(loginuidText.trim());
  const exe = link(`${dir}/exe`);
  const cwd = link(`${dir}/cwd`);
  const flags = Number(after[6] ?? 0);
  const capField = (k: string) => {
    const v = statusField(status, k);
    return v === undefined ? undefined : parseCapabilityMask(v);
  };
  const envText = environ ?? "";
  return {
    pid,
    ppid: Number(after[1] ?? 0),
    vpid: lastNumber(statusField(status, "NSpid")) ?? pid,
    comm,
    argv: splitNul(cmdline),
    exepath: exe === undefined ? undefined : stripDeleted(exe),
    cwd: cwd?.startsWith("/") ? stripDeleted(cwd) : undefined,
    env: boundEnv(splitNul(envText)),
    uid: nthNumber(statusField(status, "Uid"), 1) ?? 0,
    gid: nthNumber(statusField(status, "Gid"), 1) ?? 0,
    loginuid:
      loginuidRaw === undefined || !Number.isInteger(loginuidRaw) || loginuidRaw === 0xffffffff
        ? -1
        : loginuidRaw,
    tty: Number(after[4] ?? 0),
    sid: Number(after[3] ?? 0),
    pgid: Number(after[2] ?? 0),
    vpgid: lastNumber(statusField(status, "NSpgid")) ?? Number(after[2] ?? 0),
    capPermitted: capField("CapPrm"),
    capEffective: capField("CapEff"),
    capInheritable: capField("CapInh"),
    cgroupText: read(`${dir}/cgroup`) ?? "",
    startBootNs: (Number(after[19] ?? 0) * 1e9) / TICKS_PER_SECOND,
    // PF_KTHREAD
    isKernelThread: (flags & 0x00200000) !== 0,
  };
}

const ANON_TYPES: readonly [string, FdType][] = [
  ["[eventfd]", "event"],
  ["[eventpoll]", "eventpoll"],
  ["[signalfd]", "signalfd"],
  ["inotify", "inotify"],
  ["[timerfd]", "timerfd"],
  ["[userfaultfd]", "userfaultfd"],
  ["[io_uring]", "io_uring"],
  ["[pidfd]", "pidfd"],
  ["bpf", "bpf"],
];

/** One fd from its /proc link target; sockets through the index. */
export function fdFromLink(
  procRoot: string,
  pid: number,
  num: number,
  target: string,
  sockets: SocketIndex | undefined,
): FdInfo {
  const bracket = /^(socket|pipe):\[(\d+)\]$/.exec(target);
  if (bracket !== null) {
    const ino = Number(bracket[2]);
    if (bracket[1] === "pipe") {
      const fd = newFd(num, "pipe", target, target);
      fd.ino = ino;
      return fd;
    }
    const entry = sockets?.lookup(pid, ino);
    let fd: FdInfo;
    if (entry === undefined) fd = newFd(num, "unknown", target, target);
    else if (entry.kind === "unix") fd = newFd(num, "unix", entry.path, entry.path);
    else {
      fd = newFd(num, entry.ends.family === "ipv6" ? "ipv6" : "ipv4", socketName(entry.ends), target);
      fd.socket = entry.ends;
    }
    fd.ino = ino;
    return fd;
  }
  if (target.startsWith("anon_inode:")) {
    const what = target.slice("anon_inode:".length);
    const type = ANON_TYPES.find(([prefix]) => what.startsWith(prefix))?.[1] ?? "unknown";
    return newFd(num, type, target, target);
  }
  if (target.startsWith("/memfd:")) return newFd(num, "memfd", stripDeleted(target), target);
  if (target.startsWith("/")) {
    const path = stripDeleted(target);
    let isDir = false;
    try {
      isDir = statSync(`${procRoot}/${pid}/fd/${num}`).isDirectory();
    } catch {
      // Closed meanwhile: keep it as a file.
    }
    return newFd(num, isDir ? "directory" : "file", path, target);
  }
  return newFd(num, "unknown", target, target);
}

/** fdinfo's octal "flags:" (the open flags, O_CLOEXEC included). */
function fdFlags(procRoot: string, pid: number, num: number): number | undefined {
  const text = read(`${procRoot}/${pid}/fdinfo/${num}`);
  if (text === undefined) return undefined;
  const m = /^flags:\s*([0-7]+)$/m.exec(text);
  return m === null ? undefined : Number.parseInt(m[1], 8);
}

const O_CLOEXEC = 0o2000000;

/** One fd of a process, or undefined when it is not open. */
export function readProcFd(
  procRoot: string,
  pid: number,
  num: number,
  sockets: SocketIndex | undefined,
): FdInfo | undefined {
  const target = link(`${procRoot}/${pid}/fd/${num}`);
  if (target === undefined) return undefined;
  const fd = fdFromLink(procRoot, pid, num, target, sockets);
  const flags = fdFlags(procRoot, pid, num);
  if (flags !== undefined) {
    fd.openFlags = flags & ~O_CLOEXEC;
    fd.cloexec = (flags & O_CLOEXEC) !== 0;
  }
  return fd;
}

/** Every fd of a process (at most MAX_FDS_READ), lowest number first. */
export function readProcFds(procRoot: string, pid: number, sockets: SocketIndex | undefined): FdInfo[] {
  let names: string[];
  try {
    names = readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return [];
  }
  const nums = names
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0)
    .sort((a, b) => a - b)
    .slice(0, MAX_FDS_READ);
  const out: FdInfo[] = [];
  for (const n of nums) {
    const fd = readProcFd(procRoot, pid, n, sockets);
    if (fd !== undefined) out.push(fd);
  }
  return out;
}

/** Numeric entries of /proc: the pids of every process. */
export function listPids(procRoot: string): number[] {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const n of names) {
    const pid = Number(n);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

/** The mount of `path` in a process's mountinfo: its mount point, fs type and super options. */
function mountOf(
  mountinfo: string,
  path: string,
): { point: string; fstype: string; options: string } | undefined {
  let best: { point: string; fstype: string; options: string } | undefined;
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const point = (left[4] ?? "").replace(/\\040/g, " ");
    const inside = point === "/" || path === point || path.startsWith(`${point}/`);
    if (!inside) continue;
    // Later lines are mounted over earlier ones; the longest matching point wins.
    if (best === undefined || point.length >= best.point.length)
      best = { point, fstype: right[0] ?? "", options: right[2] ?? "" };
  }
  return best;
}

/** The major number of a device id as stat returns it (the kernel's new_encode_dev layout). */
export function deviceMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

/**
 * Which layer of an overlay mount holds `exepath` of process `pid`, on device `dev`, judged from
 * its mountinfo now (used when the probe did not say at exec): the upper (written) layer if the
 * path exists under upperdir, else a lower one; "none" off overlayfs or when mountinfo cannot be
 * read. Overlay files always sit on an anonymous device (major 0) on the kernels Lanner
 * supports, so a file on a block device is answered without reading the process's mountinfo,
 * which is long on a host and was most of the agent's cost per exec on a build.
 */
export function overlayLayerOf(
  procRoot: string,
  hostRoot: string,
  pid: number,
  exepath: string,
  dev: bigint,
): ExeLayer {
  if (deviceMajor(dev) !== 0) return "none";
  const mountinfo = read(`${procRoot}/${pid}/mountinfo`);
  if (mountinfo === undefined) return "none";
  const m = mountOf(mountinfo, exepath);
  if (m === undefined || m.fstype !== "overlay") return "none";
  const upper = /(?:^|,)upperdir=([^,]+)/.exec(m.options)?.[1];
  if (upper === undefined) return "lower";
  const rel = m.point === "/" ? exepath : exepath.slice(m.point.length);
  const root = hostRoot.endsWith("/") ? hostRoot.slice(0, -1) : hostRoot;
  try {
    statSync(`${root}${upper}${rel}`);
    return "upper";
  } catch {
    return "lower";
  }
}

export interface ExeStat {
  memfd: boolean;
  /** The device the file is on (st_dev). */
  dev: bigint;
  ino: number;
  ctimeNs: bigint;
  mtimeNs: bigint;
  writable: boolean;
}

/** The running executable's inode facts through /proc/PID/exe; writable as the process's uid/gid would find it. */
export function readExeStat(procRoot: string, pid: number, uid: number, gid: number): ExeStat | undefined {
  try {
    const s = statSync(`${procRoot}/${pid}/exe`, { bigint: true });
    const mode = Number(s.mode);
    const writable =
      uid === 0 ||
      (Number(s.uid) === uid && (mode & 0o200) !== 0) ||
      (Number(s.gid) === gid && (mode & 0o020) !== 0) ||
      (mode & 0o002) !== 0;
    // A memfd lives on the anonymous shmem device: a file on a block device needs no readlink.
    const anonymous = deviceMajor(s.dev) === 0;
    const target = anonymous ? (link(`${procRoot}/${pid}/exe`) ?? "") : "";
    return {
      memfd: target.startsWith("/memfd:"),
      dev: s.dev,
      ino: Number(s.ino),
      ctimeNs: s.ctimeNs,
      mtimeNs: s.mtimeNs,
      writable,
    };
  } catch {
    return undefined;
  }
}
