// The process table: what the agent knows about each live process, keyed by pid (the kernel's
// tgid). Filled from exec and fork events, emptied by exit events, and capped: when full, the
// entry inserted longest ago is evicted and counted, so memory stays bounded however many
// processes a node runs.

import type { ExecEvent, ExitEvent, ForkEvent } from "../events/types.ts";
import { containerIdFromCgroup } from "./containers.ts";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Kernel comm: at most 15 characters (proc.name). */
  comm: string;
  /** argv[0] as the program was invoked (proc.exe). */
  exe: string;
  /** The executable's path as passed to execve (proc.exepath). */
  exepath: string;
  /** argv[1..]. */
  args: string[];
  /** proc.args: argv[1..] joined by spaces; computed once per exec. */
  argsText: string;
  /** proc.cmdline: comm then the args; computed once per exec. */
  cmdline: string;
  uid: number;
  gid: number;
  /** cgroup v2 path, "/"-joined from the root. */
  cgroup: string;
  /** 12-hex container id, or "host". */
  containerId: string;
  /** When the process was last exec'd or forked, boot time in ns (a float: ns precision is not needed here). */
  startBootNs: number;
  /** Set when an exit event for the main thread was seen; the entry is removed right after. */
  exited: boolean;
}

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

export class ProcessTable implements ProcessLookup {
  private readonly byPid = new Map<number, ProcessInfo>();
  private evicted = 0;
  private misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("process table capacity must be >= 1");
  }

  get(pid: number): ProcessInfo | undefined {
    return this.byPid.get(pid);
  }

  /** Looks up the process of an event, counting a miss when it is unknown. */
  lookupForEvent(pid: number): ProcessInfo | undefined {
    const info = this.byPid.get(pid);
    if (info === undefined) this.misses++;
    return info;
  }

  onExec(event: ExecEvent): ProcessInfo | undefined {
    if (event.res !== 0) return this.lookupForEvent(event.pid);
    const [argv0 = event.filename, ...rest] = event.args;
    const argsText = rest.join(" ");
    const info: ProcessInfo = {
      pid: event.pid,
      ppid: event.ppid,
      comm: event.comm,
      exe: argv0,
      exepath: event.filename,
      args: rest,
      argsText,
      cmdline: rest.length === 0 ? event.comm : `${event.comm} ${argsText}`,
      uid: event.uid,
      gid: event.gid,
      cgroup: event.cgroup,
      containerId: containerIdFromCgroup(event.cgroup),
      startBootNs: event.bootSec * 1e9 + event.bootNsec,
      exited: false,
    };
    this.insert(info);
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
    this.insert({
      ...parent,
      args: parent.args,
      pid: event.childPid,
      ppid: event.pid,
      startBootNs: event.bootSec * 1e9 + event.bootNsec,
      exited: false,
    });
  }

  onExit(event: ExitEvent): void {
    if (event.tid !== event.pid) return;
    const info = this.byPid.get(event.pid);
    if (info !== undefined) {
      info.exited = true;
      this.byPid.delete(event.pid);
    }
  }

  /** Every entry, oldest first (for state snapshots). */
  entries(): IterableIterator<ProcessInfo> {
    return this.byPid.values();
  }

  /** Puts an entry restored from a snapshot, under the same cap as any other insert. */
  restore(info: ProcessInfo): void {
    this.insert(info);
  }

  stats(): ProcessTableStats {
    return { size: this.byPid.size, capacity: this.capacity, evicted: this.evicted, misses: this.misses };
  }

  private insert(info: ProcessInfo): void {
    // Re-inserting moves the pid to the young end of the map's insertion order.
    this.byPid.delete(info.pid);
    while (this.byPid.size >= this.capacity) {
      const oldest = this.byPid.keys().next();
      if (oldest.done === true) break;
      this.byPid.delete(oldest.value);
      this.evicted++;
    }
    this.byPid.set(info.pid, info);
  }
}
