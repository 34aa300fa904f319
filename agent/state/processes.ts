// The process table: what the agent knows about each live process, keyed by pid (the kernel's
// tgid). Filled from exec and fork events and from the host's /proc (seed at start, repair of a
// process first seen mid-life), emptied by exit events, and capped: when full, the least recently
// used entry is evicted and counted, so memory stays bounded however many processes a node runs.

import type { ExecEvent, ExitEvent, ForkEvent } from "../events/index.ts";
import { containerIdFromCgroup } from "./containers.ts";
import { FdTable } from "./fd-table.ts";
import { FdBudget } from "./fds.ts";
import { joinAndNormalize } from "./paths.ts";

/** Where an entry's facts came from; kernel events win over /proc data read at another time. */
export type ProcessSource = "exec" | "fork" | "proc";

/** Facts about the executable file, read lazily (only when a rule asks) and kept until the next exec. */
export interface ExeFileFacts {
  /** The kernel's path of the running executable names a memfd. */
  memfd: boolean;
  ino: number;
  ctimeNs: bigint;
  mtimeNs: bigint;
  writable: boolean;
  /** The overlayfs layer holding the executable; "none" off overlayfs. */
  layer: ExeLayer;
}

/** Which overlayfs layer holds an executable (proc.is_exe_upper_layer / is_exe_lower_layer). */
export type ExeLayer = "upper" | "lower" | "none";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** pid inside the process's own pid namespace (proc.vpid); equals pid on the host. */
  vpid: number;
  /** Kernel comm: at most 15 characters (proc.name). */
  comm: string;
  /** argv[0] as the program was invoked (proc.exe). */
  exe: string;
  /** The executable's full path (proc.exepath): the kernel's path for /proc entries, else the exec filename made absolute. */
  exepath: string;
  /** argv[1..]. */
  args: string[];
  /** proc.args: argv[1..] joined by spaces; computed once per exec. */
  argsText: string;
  /** proc.cmdline: comm then the args; computed once per exec. */
  cmdline: string;
  uid: number;
  gid: number;
  /** Audit login uid; -1 when unset (4294967295 in /proc), as Falco shows it. */
  loginuid: number;
  cwd: string | undefined;
  /** Environment, bounded (see ENV_MAX_*); empty when unknown. */
  env: readonly string[];
  /** Controlling terminal device number, 0 for none. */
  tty: number;
  sid: number;
  pgid: number;
  /** Process group id in the process's pid namespace. */
  vpgid: number;
  capPermitted: bigint | undefined;
  capEffective: bigint | undefined;
  capInheritable: bigint | undefined;
  exeFromMemfd: boolean;
  /** undefined until read; null when it could not be read. */
  exeFile: ExeFileFacts | null | undefined;
  /** The probe's word on the exe's overlayfs layer (exec flags), when it looked. */
  exeLayerFromKernel: ExeLayer | undefined;
  /** cgroup path (the hierarchy that names the container on hybrid hosts), at exec. */
  cgroup: string;
  /** 12-hex container id, or "host". */
  containerId: string;
  /** When the process was created (fork), boot time in ns (a float: ns precision is not needed here). */
  pidTsBootNs: number;
  /** When the process last exec'd (or was forked, before any exec). */
  startBootNs: number;
  fds: FdTable;
  source: ProcessSource;
  /** Set when an exit event for the main thread was seen; the entry is removed right after. */
  exited: boolean;
  /** Table tick of the last use, for least-recently-used eviction. */
  touched: number;
}

/** Bounds on what one process keeps of its environment. */
export const ENV_MAX_ENTRIES = 64;
export const ENV_MAX_BYTES = 4096;

export interface ProcessLookup {
  get(pid: number): ProcessInfo | undefined;
}

export interface ProcessTableStats {
  size: number;
  capacity: number;
  /** Entries dropped to stay under the cap. */
  evicted: number;
  /** Events for a process the table did not know (started before the agent, or evicted). */
  misses: number;
}

/**
 * What the kernel may add to an exec record, used when present. The probe's names (camelCase)
 * and Falco's parameter names are both accepted.
 */
export interface ExecExtras {
  cwd?: string;
  env?: string[];
  tty?: number;
  pgid?: number;
  vpgid?: number;
  sid?: number;
  /** 4294967295 (unset) reads as -1. */
  loginuid?: number;
  capEffective?: bigint | number;
  capPermitted?: bigint | number;
  capInheritable?: bigint | number;
  cap_permitted?: bigint | number;
  cap_effective?: bigint | number;
  cap_inheritable?: bigint | number;
  /** Bit 0: the exe is a memfd; bit 1: on an overlayfs upper layer; bit 2: on a lower layer;
   * bit 3: the probe read the layer (bits 1-2 are meaningful). */
  exeFlags?: number;
  trusted_exepath?: string;
}

const EXE_FLAG_MEMFD = 1;
const EXE_FLAG_UPPER = 2;
const EXE_FLAG_LOWER = 4;
const EXE_FLAG_LAYER_READ = 8;

/** The layer the exec flags name; undefined when the probe did not look (older probes). */
export function exeLayerOfFlags(flags: number | undefined): ExeLayer | undefined {
  if (flags === undefined || (flags & EXE_FLAG_LAYER_READ) === 0) return undefined;
  return (flags & EXE_FLAG_UPPER) !== 0 ? "upper" : (flags & EXE_FLAG_LOWER) !== 0 ? "lower" : "none";
}
const UNSET_LOGINUID = 0xffffffff;

export interface ProcessTableOptions {
  /** Container id of a cgroup path ("host" outside containers). */
  containerIdOf?: (cgroup: string) => string;
  fdBudget?: FdBudget;
}

/** Keeps `env` within ENV_MAX_ENTRIES entries and ENV_MAX_BYTES characters. */
export function boundEnv(env: readonly string[]): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (const entry of env) {
    if (out.length >= ENV_MAX_ENTRIES || bytes + entry.length > ENV_MAX_BYTES) break;
    out.push(entry);
    bytes += entry.length;
  }
  return out;
}

const bootNs = (e: { bootSec: number; bootNsec: number }): number => e.bootSec * 1e9 + e.bootNsec;

const FD_PATH = /^\/(?:proc\/(?:self|\d+)|dev)\/fd\/(\d+)$/;

/** fexecve (exec of /proc/self/fd/N or /dev/fd/N): the path of fd N, e.g. /memfd:NAME, when the table knows it. */
function fexecvePath(filename: string, before: ProcessInfo | undefined): string | undefined {
  if (before === undefined) return undefined;
  const m = FD_PATH.exec(filename);
  if (m === null) return undefined;
  const fd = before.fds.get(Number(m[1]));
  return fd?.type === "file" || fd?.type === "memfd" ? fd.name : undefined;
}
const asBig = (v: bigint | number | undefined): bigint | undefined =>
  v === undefined ? undefined : typeof v === "bigint" ? v : BigInt(v);

export class ProcessTable implements ProcessLookup {
  private readonly byPid = new Map<number, ProcessInfo>();
  private evicted = 0;
  private misses = 0;
  private tick = 0;
  /** An entry used again after this many table uses moves to the young end (cheap approximate LRU). */
  private readonly refreshDistance: number;
  readonly fdBudget: FdBudget;
  private readonly containerIdOf: (cgroup: string) => string;

  constructor(
    readonly capacity: number,
    options: ProcessTableOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("process table capacity must be >= 1");
    this.refreshDistance = Math.max(1, capacity >> 3);
    this.fdBudget = options.fdBudget ?? new FdBudget(1024, 1 << 20);
    this.containerIdOf = options.containerIdOf ?? containerIdFromCgroup;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.byPid.get(pid);
  }

  get size(): number {
    return this.byPid.size;
  }

  values(): IterableIterator<ProcessInfo> {
    return this.byPid.values();
  }

  /** Looks up the process of an event, counting a miss when it is unknown, and marks it used. */
  lookupForEvent(pid: number): ProcessInfo | undefined {
    const info = this.byPid.get(pid);
    if (info === undefined) {
      this.misses++;
      return undefined;
    }
    this.touch(info);
    return info;
  }

  onExec(event: ExecEvent): ProcessInfo | undefined {
    if (event.res !== 0) return this.lookupForEvent(event.pid);
    const x = event as ExecEvent & ExecExtras;
    const before = this.byPid.get(event.pid);
    // Index and slice, not destructuring: the iterator protocol is slow on this hot path.
    const argv0 = event.args.length > 0 ? event.args[0] : event.filename;
    const rest = event.args.slice(1);
    const argsText = rest.join(" ");
    const cwd = x.cwd ?? before?.cwd;
    const filename = event.filename;
    const exepath =
      x.trusted_exepath ??
      fexecvePath(filename, before) ??
      (filename.startsWith("/") || cwd === undefined ? filename : joinAndNormalize(cwd, filename));
    let fds: FdTable;
    if (before !== undefined) {
      fds = before.fds;
      fds.closeOnExec();
    } else {
      fds = new FdTable(this.fdBudget);
    }
    const info: ProcessInfo = {
      pid: event.pid,
      ppid: event.ppid,
      vpid: before?.vpid ?? event.pid,
      comm: event.comm,
      exe: argv0,
      exepath,
      args: rest,
      argsText,
      cmdline: rest.length === 0 ? event.comm : `${event.comm} ${argsText}`,
      uid: event.uid,
      gid: event.gid,
      loginuid:
        x.loginuid === undefined
          ? (before?.loginuid ?? -1)
          : x.loginuid === UNSET_LOGINUID || x.loginuid < 0
            ? -1
            : x.loginuid,
      cwd,
      env: x.env !== undefined ? boundEnv(x.env) : (before?.env ?? []),
      tty: x.tty ?? before?.tty ?? 0,
      sid: x.sid ?? before?.sid ?? 0,
      pgid: x.pgid ?? before?.pgid ?? 0,
      vpgid: x.vpgid ?? before?.vpgid ?? 0,
      capPermitted: asBig(x.capPermitted ?? x.cap_permitted) ?? before?.capPermitted,
      capEffective: asBig(x.capEffective ?? x.cap_effective) ?? before?.capEffective,
      capInheritable: asBig(x.capInheritable ?? x.cap_inheritable) ?? before?.capInheritable,
      exeFromMemfd:
        (x.exeFlags !== undefined && (x.exeFlags & EXE_FLAG_MEMFD) !== 0) || exepath.startsWith("/memfd:"),
      exeFile: undefined,
      exeLayerFromKernel: exeLayerOfFlags(x.exeFlags),
      cgroup: event.cgroup,
      containerId: this.containerIdOf(event.cgroup),
      pidTsBootNs: before?.pidTsBootNs ?? bootNs(event),
      startBootNs: bootNs(event),
      fds,
      source: "exec",
      exited: false,
      touched: 0,
    };
    this.insert(info, before);
    return info;
  }

  /** A new process inherits everything from its parent until it execs. Threads need no entry. */
  onFork(event: ForkEvent): void {
    const parent = this.byPid.get(event.pid);
    if (parent === undefined) {
      this.misses++;
      return;
    }
    if (event.childPid === event.pid) return;
    const at = bootNs(event);
    const inHostNs = parent.vpid === parent.pid;
    this.insert(
      {
        ...parent,
        pid: event.childPid,
        ppid: event.pid,
        vpid: inHostNs ? event.childPid : 0,
        pidTsBootNs: at,
        startBootNs: at,
        // Records from schema 3 say whether the child shares the fd table; older captures say it
        // through the clone record (fd-events.ts, shareFds below).
        fds: event.sharesFds === 1 ? parent.fds.share() : parent.fds.copy(),
        source: "fork",
        exited: false,
      },
      this.byPid.get(event.childPid),
    );
  }

  /** clone(CLONE_FILES) without CLONE_THREAD: the child shares its parent's fd table. */
  shareFds(parentPid: number, childPid: number): void {
    const parent = this.byPid.get(parentPid);
    const child = this.byPid.get(childPid);
    if (parent === undefined || child === undefined || child.fds === parent.fds) return;
    child.fds.release();
    child.fds = parent.fds.share();
  }

  onExit(event: ExitEvent): void {
    if (event.tid !== event.pid) return;
    const info = this.byPid.get(event.pid);
    if (info !== undefined) {
      info.exited = true;
      this.remove(info);
    }
  }

  /** Every entry, oldest first (for state snapshots). */
  entries(): IterableIterator<ProcessInfo> {
    return this.byPid.values();
  }

  /** Puts an entry restored from a snapshot, under the same cap as any other insert. */
  restore(info: ProcessInfo): void {
    this.insert(info, undefined);
  }

  /** Adds an entry read from /proc unless the kernel's events already made one (they are newer). */
  insertFromProc(info: ProcessInfo): boolean {
    if (this.byPid.has(info.pid)) {
      info.fds.release();
      return false;
    }
    this.insert(info, undefined);
    return true;
  }

  /** A fresh fd table drawing on this table's budget. */
  newFdTable(): FdTable {
    return new FdTable(this.fdBudget);
  }

  stats(): ProcessTableStats {
    return { size: this.byPid.size, capacity: this.capacity, evicted: this.evicted, misses: this.misses };
  }

  private touch(info: ProcessInfo): void {
    this.tick++;
    if (this.tick - info.touched < this.refreshDistance) return;
    info.touched = this.tick;
    this.byPid.delete(info.pid);
    this.byPid.set(info.pid, info);
  }

  private remove(info: ProcessInfo): void {
    if (this.byPid.get(info.pid) !== info) return;
    this.byPid.delete(info.pid);
    info.fds.release();
  }

  private insert(info: ProcessInfo, before: ProcessInfo | undefined): void {
    if (before !== undefined) {
      if (before.fds !== info.fds) before.fds.release();
      this.tick++;
      if (this.tick - before.touched < this.refreshDistance) {
        // Recently used: replace in place (the runtime's Map re-inserts a deleted key slowly).
        info.touched = before.touched;
        this.byPid.set(info.pid, info);
        return;
      }
      // Re-inserting moves the pid to the young end of the map's insertion order.
      this.byPid.delete(before.pid);
    }
    while (this.byPid.size >= this.capacity) {
      const oldest = this.byPid.values().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
      this.evicted++;
    }
    this.tick++;
    info.touched = this.tick;
    this.byPid.set(info.pid, info);
  }
}
