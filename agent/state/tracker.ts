// Applies each decoded event to the state tables, then hands out the context the rules see.
// Owns every table (processes with their fds, containers, the caches) and their counters.

import { readlinkSync } from "node:fs";
import { type MetricSample, type MetricSource, type MonotonicClock, TokenBucket } from "../common/index.ts";
import type { Event } from "../events/index.ts";
import { ContainerMetadataStore, type ContainerEngineDirs, type ContainerMeta } from "./container-meta.ts";
import { ContainerUserTables } from "./container-users.ts";
import { ContainerIdCache, cgroupPathFromProcFile } from "./containers.ts";
import type { EventContext, HostInfo, LazyFacts } from "./context.ts";
import { applyFdSyscall, type FdEventHost, type SyscallParams } from "./fd-events.ts";
import { FdBudget, type FdInfo, fdFromOpen, type PathBaseResolver } from "./fds.ts";
import {
  overlayLayerOf,
  listPids,
  type ProcSnapshot,
  readExeStat,
  readProcFd,
  readProcFds,
  readProcSnapshot,
} from "./proc-reader.ts";
import { type ExeFileFacts, type ProcessInfo, ProcessTable } from "./processes.ts";
import { SocketIndex } from "./sockets.ts";
import type { UserLookup } from "./users.ts";

export interface StateOptions {
  processCapacity: number;
  users: UserLookup;
  host: HostInfo;
  /**
   * Where the host's root is mounted ("/" on a node, "/host" in a pod); prefixes every host path.
   * Without it the tracker reads nothing of the host: no /proc seed or repair, no container files.
   */
  hostRoot?: string;
  /** Resolves the base of relative paths the tables do not know; defaults to reading the host's /proc. */
  pathBases?: PathBaseResolver;
  fdsPerProcess?: number;
  fdsTotal?: number;
  containerCapacity?: number;
  /** Runtime state directories, already below host_root; undefined entries are not looked at. */
  containerEngines?: Partial<ContainerEngineDirs>;
  /** Repairs of processes first seen mid-life: per second and burst. */
  repairRate?: number;
  repairBurst?: number;
  clock?: MonotonicClock;
}

export interface SeedReport {
  processes: number;
  fds: number;
  /** Processes the kernel's events had already described (theirs is newer; kept). */
  alreadyKnown: number;
  /** Processes that exited while being read. */
  vanished: number;
  ms: number;
}

/** Default container runtime state directories below a host root. */
export function defaultContainerEngineDirs(hostRoot: string): ContainerEngineDirs {
  const root = hostRoot.endsWith("/") ? hostRoot.slice(0, -1) : hostRoot;
  return {
    containerd: `${root}/run/containerd/io.containerd.runtime.v2.task`,
    crio: `${root}/var/lib/containers/storage/overlay-containers`,
    docker: `${root}/var/lib/docker`,
  };
}

class MutableContext implements EventContext {
  event!: Event;
  process: ProcessInfo | undefined = undefined;
  fd: FdInfo | undefined = undefined;
  constructor(
    readonly processes: ProcessTable,
    readonly users: UserLookup,
    readonly host: HostInfo,
    readonly facts: LazyFacts,
  ) {}
}

/** Bounded set of pids a repair was tried for: each is tried once (cleared when full). */
const REPAIR_MEMORY = 8192;

export class StateTracker implements MetricSource {
  readonly processes: ProcessTable;
  readonly containers: ContainerMetadataStore;
  /** The host's /proc; undefined when the tracker was given no host root. */
  readonly procRoot: string | undefined;
  readonly hostRoot: string;
  private readonly ctx: MutableContext;
  private readonly pathBases: PathBaseResolver;
  private readonly containerIds = new ContainerIdCache();
  private readonly sockets: SocketIndex;
  private readonly repairBucket: TokenBucket;
  private readonly repairTried = new Set<number>();
  /** Host with cgroup v1 hierarchies: an exec whose v2 path names no container reads /proc/PID/cgroup. */
  private readonly counts = {
    repaired: 0,
    repairGone: 0,
    repairDenied: 0,
    fdRepaired: 0,
    seeded: 0,
  };
  private readonly fdHost: FdEventHost;
  private readonly containerUsers: ContainerUserTables | undefined;
  /** A chdir/fchdir event arrived: the capture follows cwd changes, so tracked cwds are current. */
  private chdirSeen = false;

  constructor(options: StateOptions) {
    this.hostRoot = options.hostRoot ?? "/";
    const root = this.hostRoot.endsWith("/") ? this.hostRoot.slice(0, -1) : this.hostRoot;
    this.procRoot = options.hostRoot === undefined ? undefined : `${root}/proc`;
    const budget = new FdBudget(options.fdsPerProcess ?? 1024, options.fdsTotal ?? 262_144);
    this.processes = new ProcessTable(options.processCapacity, {
      containerIdOf: this.containerIds.idOf,
      fdBudget: budget,
    });
    const dirs =
      options.hostRoot === undefined
        ? { containerd: undefined, crio: undefined, docker: undefined, ...options.containerEngines }
        : { ...defaultContainerEngineDirs(this.hostRoot), ...options.containerEngines };
    this.containers = new ContainerMetadataStore(dirs, options.containerCapacity ?? 4096);
    this.sockets = new SocketIndex(this.procRoot ?? "/proc");
    this.repairBucket = new TokenBucket({
      rate: options.repairRate ?? 200,
      maxBurst: options.repairBurst ?? 1000,
      clock: options.clock,
    });
    const containerUsers = this.procRoot === undefined ? undefined : new ContainerUserTables(this.procRoot);
    this.containerUsers = containerUsers;
    const facts: LazyFacts = {
      container: (p) => this.containerOf(p),
      exeFile: (p) => this.exeFileOf(p),
      usersOf: (p) =>
        containerUsers === undefined || p.containerId === "host"
          ? options.users
          : containerUsers.tableFor(p.containerId, p.pid),
    };
    this.ctx = new MutableContext(this.processes, options.users, options.host, facts);
    const fallback = options.pathBases ?? procPathBases(this.procRoot ?? "/proc");
    this.pathBases = {
      cwd: (pid) => {
        const p = this.processes.get(pid);
        // Until the capture shows it follows chdir, a tracked cwd may be stale: ask /proc first.
        if (p?.cwd !== undefined && this.chdirSeen) return p.cwd;
        const cwd = fallback.cwd(pid);
        if (p !== undefined && cwd !== undefined) p.cwd = cwd;
        return cwd ?? p?.cwd;
      },
      fdPath: (pid, fd) => {
        const p = this.processes.get(pid);
        const known = p?.fds.get(fd);
        if (known !== undefined) return known.name;
        return fallback.fdPath(pid, fd);
      },
    };
    this.fdHost = {
      fdOf: (p, n) => this.fdOf(p, n),
      bases: this.pathBases,
      shareFds: (parent, child) => this.processes.shareFds(parent, child),
    };
  }

  /** Updates the state with `event` and returns the context to evaluate it in. */
  apply(event: Event): EventContext {
    const ctx = this.ctx;
    ctx.event = event;
    ctx.fd = undefined;
    switch (event.kind) {
      case "execve":
      case "execveat": {
        // A failed exec changes nothing (libsinsp's parser returns before touching the thread):
        // its fields are the caller's, so an unknown caller is repaired like any other.
        if (this.processes.get(event.pid) === undefined) this.repair(event.pid);
        const p = this.processes.onExec(event);
        if (p !== undefined && p.containerId !== "host") this.containerUsers?.notePid(p.containerId, p.pid);
        ctx.process = p;
        break;
      }
      case "open":
      case "openat":
      case "openat2": {
        const p = this.lookup(event.pid);
        ctx.process = p;
        const fd = fdFromOpen(event, this.pathBases);
        if (p !== undefined && fd.num >= 0) p.fds.set(fd);
        ctx.fd = fd;
        break;
      }
      case "procfork":
        // A fork of an unknown parent: repair the parent, so the child is known too.
        if (this.processes.get(event.pid) === undefined) this.repair(event.pid);
        ctx.process = this.processes.get(event.pid);
        this.processes.onFork(event);
        break;
      case "procexit":
        // The rules see the process as it was; the table forgets it now.
        ctx.process = this.processes.lookupForEvent(event.pid);
        this.processes.onExit(event);
        break;
      default: {
        // Kinds the fd table follows by Falco's parameter names (see fd-events.ts).
        const other = event as unknown as { kind: string; pid: number } & SyscallParams;
        if (other.kind === "chdir" || other.kind === "fchdir") this.chdirSeen = true;
        const p = this.lookup(other.pid);
        ctx.process = p;
        if (p !== undefined) ctx.fd = applyFdSyscall(other.kind, other, p, this.fdHost);
      }
    }
    return ctx;
  }

  /**
   * Reads every process of the host from /proc into the tables. Call it once, after the probe is
   * attached (so nothing is missed in between): processes the kernel's events already described
   * are kept as the events left them.
   */
  seedFromProc(): SeedReport {
    const started = performance.now();
    const report: SeedReport = { processes: 0, fds: 0, alreadyKnown: 0, vanished: 0, ms: 0 };
    if (this.procRoot !== undefined) for (const pid of listPids(this.procRoot)) this.seedOne(pid, report);
    this.counts.seeded += report.processes;
    report.ms = Math.round(performance.now() - started);
    return report;
  }

  /**
   * The same, `step` processes at a time, letting the event loop run in between: on a node with
   * thousands of processes the seed takes a while, and the ring buffer must keep being drained
   * meanwhile (events applied in between win, as above).
   */
  async seedFromProcInSteps(step = 64): Promise<SeedReport> {
    const started = performance.now();
    const report: SeedReport = { processes: 0, fds: 0, alreadyKnown: 0, vanished: 0, ms: 0 };
    const pids = this.procRoot === undefined ? [] : listPids(this.procRoot);
    for (let i = 0; i < pids.length; i++) {
      this.seedOne(pids[i], report);
      if ((i + 1) % step === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.counts.seeded += report.processes;
    report.ms = Math.round(performance.now() - started);
    return report;
  }

  private seedOne(pid: number, report: SeedReport): void {
    if (this.processes.get(pid) !== undefined) {
      report.alreadyKnown++;
      return;
    }
    const added = this.addFromProc(pid);
    if (added === undefined) report.vanished++;
    else if (added !== null) {
      report.processes++;
      report.fds += added.fds.size;
    }
  }

  metrics(): MetricSample[] {
    const s = this.processes.stats();
    const b = this.processes.fdBudget;
    const c = this.containers.stats();
    const g = (name: string, help: string, value: number): MetricSample => ({
      name,
      type: "gauge",
      help,
      value,
    });
    const k = (name: string, help: string, value: number): MetricSample => ({
      name,
      type: "counter",
      help,
      value,
    });
    return [
      g("state_processes", "Processes in the process table", s.size),
      g("state_processes_capacity", "Process table cap (state.max_processes)", s.capacity),
      k(
        "state_processes_evicted_total",
        "Processes dropped (least recently used) to stay under the cap",
        s.evicted,
      ),
      k("state_process_misses_total", "Events of processes the table did not know", s.misses),
      k("state_processes_seeded_total", "Processes read from /proc at start", this.counts.seeded),
      k(
        "state_process_repairs_total",
        "Processes first seen mid-life and read from /proc",
        this.counts.repaired,
      ),
      k(
        "state_process_repairs_gone_total",
        "Repairs of processes already gone from /proc",
        this.counts.repairGone,
      ),
      k("state_process_repairs_denied_total", "Repairs skipped by the rate limit", this.counts.repairDenied),
      g("state_fds", "fds tracked over all processes", b.total),
      g("state_fds_capacity", "Cap on tracked fds (state.max_fds_total)", b.totalCap),
      k("state_fds_evicted_total", "fds dropped to stay under the per-process or total cap", b.evicted),
      k("state_fd_repairs_total", "fds opened before start read from /proc", this.counts.fdRepaired),
      g("state_containers", "Containers in the metadata cache", c.size),
      k("state_container_reads_total", "Container runtime files read", c.reads),
      k("state_container_missing_total", "Metadata lookups that found nothing (yet)", c.missing),
      k("state_container_errors_total", "Container runtime files that could not be parsed", c.errors),
      k("state_containers_evicted_total", "Containers dropped from the metadata cache", c.evicted),
      k(
        "state_container_user_tables_total",
        "Containers' passwd/group files read",
        this.containerUsers?.loads ?? 0,
      ),
    ];
  }

  /** The event's process, repairing (once, rate-limited) a process first seen mid-life. */
  private lookup(pid: number): ProcessInfo | undefined {
    const p = this.processes.lookupForEvent(pid);
    if (p !== undefined) return p;
    this.repair(pid);
    return this.processes.get(pid);
  }

  private repair(pid: number): void {
    if (this.procRoot === undefined || this.repairTried.has(pid)) return;
    if (!this.repairBucket.take()) {
      this.counts.repairDenied++;
      return;
    }
    if (this.repairTried.size >= REPAIR_MEMORY) this.repairTried.clear();
    this.repairTried.add(pid);
    const added = this.addFromProc(pid);
    if (added === undefined) this.counts.repairGone++;
    else if (added !== null) this.counts.repaired++;
  }

  /** undefined: not in /proc; null: a kernel thread (not tracked) or already known. */
  private addFromProc(pid: number): ProcessInfo | null | undefined {
    if (this.procRoot === undefined) return undefined;
    const snap = readProcSnapshot(this.procRoot, pid);
    if (snap === undefined) return undefined;
    if (snap.isKernelThread) return null;
    const info = this.fromSnapshot(snap);
    for (const fd of readProcFds(this.procRoot, pid, this.sockets)) info.fds.set(fd);
    if (info.containerId !== "host") this.containerUsers?.notePid(info.containerId, pid);
    return this.processes.insertFromProc(info) ? info : null;
  }

  private fromSnapshot(s: ProcSnapshot): ProcessInfo {
    const [argv0 = s.comm, ...rest] = s.argv;
    const argsText = rest.join(" ");
    const cgroup = cgroupPathFromProcFile(s.cgroupText);
    const exepath = s.exepath ?? argv0;
    return {
      pid: s.pid,
      ppid: s.ppid,
      vpid: s.vpid,
      comm: s.comm,
      exe: argv0,
      exepath,
      args: rest,
      argsText,
      cmdline: rest.length === 0 ? s.comm : `${s.comm} ${argsText}`,
      uid: s.uid,
      gid: s.gid,
      loginuid: s.loginuid,
      cwd: s.cwd,
      env: s.env,
      tty: s.tty,
      sid: s.sid,
      pgid: s.pgid,
      vpgid: s.vpgid,
      capPermitted: s.capPermitted,
      capEffective: s.capEffective,
      capInheritable: s.capInheritable,
      exeFromMemfd: exepath.startsWith("/memfd:"),
      exeFile: undefined,
      exeLayerFromKernel: undefined,
      cgroup,
      containerId: this.containerIds.idOf(cgroup),
      pidTsBootNs: s.startBootNs,
      startBootNs: s.startBootNs,
      fds: this.processes.newFdTable(),
      source: "proc",
      exited: false,
      touched: 0,
    };
  }

  /** An fd the table does not know: read once from /proc (an fd opened before the agent started). */
  private fdOf(p: ProcessInfo, n: number): FdInfo | undefined {
    const known = p.fds.get(n);
    if (known !== undefined || n < 0 || this.procRoot === undefined) return known;
    // Shares the repair budget: a flood of calls on unknown fd numbers cannot turn into /proc reads.
    if (!this.repairBucket.take()) {
      this.counts.repairDenied++;
      return undefined;
    }
    const fd = readProcFd(this.procRoot, p.pid, n, this.sockets);
    if (fd !== undefined) {
      p.fds.set(fd);
      this.counts.fdRepaired++;
    }
    return fd;
  }

  private containerOf(p: ProcessInfo): ContainerMeta | undefined {
    if (p.containerId === "host") return undefined;
    const full = this.containerIds.fullIdOf(p.cgroup);
    return full === undefined ? undefined : this.containers.get(full);
  }

  private exeFileOf(p: ProcessInfo): ExeFileFacts | undefined {
    const procRoot = this.procRoot;
    if (p.exeFile === undefined && procRoot !== undefined) {
      const s = p.exited ? undefined : readExeStat(procRoot, p.pid, p.uid, p.gid);
      if (s === undefined) p.exeFile = null;
      else {
        // The probe's word from exec time; else where mountinfo puts the path now.
        const layer =
          p.exeLayerFromKernel ?? overlayLayerOf(procRoot, this.hostRoot, p.pid, p.exepath, s.dev);
        p.exeFile = { ...s, layer };
      }
    }
    return p.exeFile ?? undefined;
  }
}

/** Finds cwd and fd paths through /proc (racy for short-lived processes; the tables are asked first). */
export function procPathBases(procRoot: string): PathBaseResolver {
  const readlink = (path: string): string | undefined => {
    try {
      const target = readlinkSync(path);
      return target.startsWith("/") ? target : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    cwd: (pid) => readlink(`${procRoot}/${pid}/cwd`),
    fdPath: (pid, fd) => (fd >= 0 ? readlink(`${procRoot}/${pid}/fd/${fd}`) : undefined),
  };
}
