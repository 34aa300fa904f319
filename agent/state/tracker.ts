// Applies each decoded event to the state tables, then hands out the context the rules see.

import { readlinkSync } from "node:fs";
import type { Event } from "../events/types.ts";
import type { EventContext, HostInfo } from "./context.ts";
import { type FdInfo, fdFromOpen, type PathBaseResolver } from "./fds.ts";
import { type ProcessInfo, ProcessTable } from "./processes.ts";
import type { UserLookup } from "./users.ts";

export interface StateOptions {
  processCapacity: number;
  users: UserLookup;
  host: HostInfo;
  /** Resolves the base of relative paths; defaults to reading the live /proc. */
  pathBases?: PathBaseResolver;
}

class MutableContext implements EventContext {
  event!: Event;
  process: ProcessInfo | undefined = undefined;
  fd: FdInfo | undefined = undefined;
  constructor(
    readonly processes: ProcessTable,
    readonly users: UserLookup,
    readonly host: HostInfo,
  ) {}
}

export class StateTracker {
  readonly processes: ProcessTable;
  private readonly ctx: MutableContext;
  private readonly pathBases: PathBaseResolver;

  constructor(options: StateOptions) {
    this.processes = new ProcessTable(options.processCapacity);
    this.ctx = new MutableContext(this.processes, options.users, options.host);
    this.pathBases = options.pathBases ?? procPathBases("/proc");
  }

  /** Updates the state with `event` and returns the context to evaluate it in. */
  apply(event: Event): EventContext {
    const ctx = this.ctx;
    ctx.event = event;
    ctx.fd = undefined;
    switch (event.kind) {
      case "execve":
      case "execveat":
        ctx.process = this.processes.onExec(event);
        break;
      case "open":
      case "openat":
      case "openat2":
        ctx.process = this.processes.lookupForEvent(event.pid);
        ctx.fd = fdFromOpen(event, this.pathBases);
        break;
      case "procfork":
        // onFork counts an unknown parent as the miss.
        ctx.process = this.processes.get(event.pid);
        this.processes.onFork(event);
        break;
      case "procexit":
        // The rules see the process as it was; the table forgets it now.
        ctx.process = this.processes.lookupForEvent(event.pid);
        this.processes.onExit(event);
        break;
    }
    return ctx;
  }
}

/** Finds cwd and fd paths through /proc (racy for short-lived processes; tracked state replaces it later). */
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
