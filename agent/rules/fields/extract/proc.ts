// proc.*, thread.* and the ancestor fields, from the process table.

import { renderCapabilities } from "../../../common/index.ts";
import { toWallTime, wallTimeNs } from "../../../events/index.ts";
import type { EventContext, ProcessInfo, ProcessLookup } from "../../../state/index.ts";
import type { FieldValue } from "../values.ts";
import { type Binder, type Extractor, FieldArgumentError, indexArg, plain } from "./types.ts";

/** Ancestor walks stop here, so a corrupt (cyclic) parent chain cannot loop. */
const MAX_ANCESTORS = 64;

const cmdline = (p: ProcessInfo): string => p.cmdline;

function parentOf(p: ProcessInfo, processes: ProcessLookup): ProcessInfo | undefined {
  if (p.ppid === p.pid || p.ppid <= 0) return undefined;
  return processes.get(p.ppid);
}

/** The Nth ancestor: 0 is the process itself, 1 its parent. */
function ancestor(ctx: EventContext, n: number): ProcessInfo | undefined {
  let p = ctx.process;
  for (let i = 0; i < n && p !== undefined; i++) p = parentOf(p, ctx.processes);
  return p;
}

/** Every ancestor's value, parent first (the process itself excluded), as Falco's unindexed forms. */
function allAncestors(ctx: EventContext, read: (p: ProcessInfo) => FieldValue | undefined): FieldValue[] {
  const out: FieldValue[] = [];
  let p = ctx.process === undefined ? undefined : parentOf(ctx.process, ctx.processes);
  for (let i = 0; p !== undefined && i < MAX_ANCESTORS; i++) {
    const v = read(p);
    if (v !== undefined) out.push(v);
    p = parentOf(p, ctx.processes);
  }
  return out;
}

/** `proc.aX[N]` reads ancestor N; `proc.aX` yields all ancestors (any of which may match). */
function ancestorField(read: (p: ProcessInfo) => FieldValue | undefined): Binder {
  return (arg) => {
    if (arg === undefined) return (ctx) => allAncestors(ctx, read) as FieldValue;
    const n = indexArg(arg);
    return (ctx) => {
      const p = ancestor(ctx, n);
      return p === undefined ? undefined : read(p);
    };
  };
}

function self(read: (p: ProcessInfo) => FieldValue | undefined): Binder {
  return plain((ctx) => (ctx.process === undefined ? undefined : read(ctx.process)));
}

function parent(read: (p: ProcessInfo) => FieldValue | undefined): Binder {
  return plain((ctx) => {
    const p = ctx.process === undefined ? undefined : parentOf(ctx.process, ctx.processes);
    return p === undefined ? undefined : read(p);
  });
}

const durationNs: Extractor = (ctx) => {
  if (ctx.process === undefined) return undefined;
  const now = ctx.event.bootSec * 1e9 + ctx.event.bootNsec;
  return Math.max(0, Math.round(now - ctx.process.pidTsBootNs));
};

/** Boot-clock ns to wall-clock epoch ns (exact bigint). */
function wallNs(ctx: EventContext, bootNs: number): bigint {
  const sec = Math.floor(bootNs / 1e9);
  return wallTimeNs(toWallTime(ctx.host.clock, sec, Math.round(bootNs - sec * 1e9)));
}

/** A process found by a pid it refers to (session or group leader). */
function byPid(
  read: (p: ProcessInfo) => number,
  value: (leader: ProcessInfo) => FieldValue | undefined,
): Binder {
  return plain((ctx) => {
    if (ctx.process === undefined) return undefined;
    const leader = ctx.processes.get(read(ctx.process));
    return leader === undefined ? undefined : value(leader);
  });
}

/** proc.env: the whole environment, or proc.env[NAME]: one variable's value. */
function envField(pick: (ctx: EventContext) => ProcessInfo | undefined): Binder {
  return (arg) => {
    if (arg === undefined)
      return (ctx) => {
        const p = pick(ctx);
        return p === undefined || p.env.length === 0 ? undefined : p.env.join(" ");
      };
    const prefix = `${arg}=`;
    return (ctx) => {
      const entry = pick(ctx)?.env.find((e) => e.startsWith(prefix));
      return entry === undefined ? undefined : entry.slice(prefix.length);
    };
  };
}

function capField(read: (p: ProcessInfo) => bigint | undefined): Binder {
  return self((p) => {
    const mask = read(p);
    return mask === undefined ? undefined : renderCapabilities(mask);
  });
}

function exeFact(
  read: (
    f: NonNullable<ReturnType<EventContext["facts"]["exeFile"]>>,
    ctx: EventContext,
    p: ProcessInfo,
  ) => FieldValue,
): Binder {
  return plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    const facts = ctx.facts.exeFile(p);
    return facts === undefined ? undefined : read(facts, ctx, p);
  });
}

/** Whether the executable is on that overlayfs layer: the probe's word from exec time when it
 * gave one (no /proc read, still right after the process exited), else the lazy file facts. */
function exeLayerIs(layer: "upper" | "lower"): Binder {
  return plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    const known = p.exeLayerFromKernel ?? ctx.facts.exeFile(p)?.layer;
    return known === undefined ? undefined : known === layer;
  });
}

export const PROC_FIELDS: Readonly<Record<string, Binder>> = {
  // The record carries the pid even when the process is unknown.
  "proc.pid": plain((ctx) => ctx.process?.pid ?? ctx.event.pid),
  "proc.ppid": self((p) => p.ppid),
  "proc.vpid": self((p) => p.vpid),
  "proc.pvpid": parent((p) => p.vpid),
  "proc.name": self((p) => p.comm),
  "proc.exe": self((p) => p.exe),
  "proc.exepath": self((p) => p.exepath),
  "proc.exeline": self((p) => (p.argsText === "" ? p.exe : `${p.exe} ${p.argsText}`)),
  "proc.cmdline": self(cmdline),
  "proc.args": self((p) => p.argsText),
  "proc.cmdnargs": self((p) => p.args.length),
  "proc.cmdlenargs": self((p) => p.args.reduce((n, a) => n + a.length, 0)),
  "proc.cwd": self((p) => (p.cwd === undefined ? undefined : p.cwd.endsWith("/") ? p.cwd : `${p.cwd}/`)),
  "proc.tty": self((p) => p.tty),
  "proc.sid": self((p) => p.sid),
  "proc.sname": byPid(
    (p) => p.sid,
    (l) => l.comm,
  ),
  "proc.sid.exe": byPid(
    (p) => p.sid,
    (l) => l.exe,
  ),
  "proc.sid.exepath": byPid(
    (p) => p.sid,
    (l) => l.exepath,
  ),
  "proc.vpgid": self((p) => p.vpgid),
  "proc.vpgid.name": byPid(
    (p) => p.pgid,
    (l) => l.comm,
  ),
  "proc.vpgid.exe": byPid(
    (p) => p.pgid,
    (l) => l.exe,
  ),
  "proc.vpgid.exepath": byPid(
    (p) => p.pgid,
    (l) => l.exepath,
  ),
  "proc.pgid": self((p) => p.pgid),
  "proc.pgid.name": byPid(
    (p) => p.pgid,
    (l) => l.comm,
  ),
  "proc.pgid.exe": byPid(
    (p) => p.pgid,
    (l) => l.exe,
  ),
  "proc.pgid.exepath": byPid(
    (p) => p.pgid,
    (l) => l.exepath,
  ),
  "proc.is_sid_leader": self((p) => p.sid === p.vpid || p.sid === p.pid),
  "proc.is_vpgid_leader": self((p) => p.vpgid === p.vpid),
  "proc.is_pgid_leader": self((p) => p.pgid === p.pid),
  "proc.env": envField((ctx) => ctx.process),
  "proc.aenv": (arg) => {
    // proc.aenv[N] is ancestor N's whole environment; proc.aenv[NAME] the first ancestor's value.
    if (arg !== undefined && /^[0-9]+$/.test(arg)) {
      const n = indexArg(arg);
      return (ctx) => {
        const p = ancestor(ctx, n);
        return p === undefined || p.env.length === 0 ? undefined : p.env.join(" ");
      };
    }
    if (arg === undefined)
      return (ctx) =>
        allAncestors(ctx, (p) => (p.env.length === 0 ? undefined : p.env.join(" "))) as FieldValue;
    const prefix = `${arg}=`;
    return (ctx) => {
      const values = allAncestors(ctx, (p) => p.env.find((e) => e.startsWith(prefix))?.slice(prefix.length));
      return values.length === 0 ? undefined : values[0];
    };
  },
  "proc.duration": plain(durationNs),
  "proc.pid.ts": plain((ctx) =>
    ctx.process === undefined ? undefined : wallNs(ctx, ctx.process.pidTsBootNs),
  ),
  "proc.ppid.ts": plain((ctx) => {
    const p = ctx.process === undefined ? undefined : parentOf(ctx.process, ctx.processes);
    return p === undefined ? undefined : wallNs(ctx, p.pidTsBootNs);
  }),
  "proc.ppid.duration": plain((ctx) => {
    const p = ctx.process === undefined ? undefined : parentOf(ctx.process, ctx.processes);
    if (p === undefined) return undefined;
    return Math.max(0, Math.round(ctx.event.bootSec * 1e9 + ctx.event.bootNsec - p.pidTsBootNs));
  }),
  // The exec record's word when the probe looked at the exe file (its layer-read bit says so: it
  // reads the file's own name, so an fexecve of /proc/self/fd/N is seen too); else (a process
  // seeded from /proc, a record from an older probe) what the kernel's exe link says. Asked on
  // every exec by Falco's "Fileless execution via memfd_create": the link costs a stat per exec.
  "proc.is_exe_from_memfd": plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    if (p.exeFromMemfd) return true;
    if (p.exeLayerFromKernel !== undefined) return false;
    return ctx.facts.exeFile(p)?.memfd ?? false;
  }),
  "proc.is_exe_writable": exeFact((f) => f.writable),
  "proc.is_exe_upper_layer": exeLayerIs("upper"),
  "proc.is_exe_lower_layer": exeLayerIs("lower"),
  "proc.exe_ino": exeFact((f) => f.ino),
  "proc.exe_ino.ctime": exeFact((f) => f.ctimeNs),
  "proc.exe_ino.mtime": exeFact((f) => f.mtimeNs),
  "proc.exe_ino.ctime_duration_proc_start": exeFact((f, ctx, p) => {
    const d = wallNs(ctx, p.pidTsBootNs) - f.ctimeNs;
    return d > 0n ? d : 0n;
  }),
  "proc.fdopencount": self((p) => p.fds.size),
  "proc.pname": parent((p) => p.comm),
  "proc.pexe": parent((p) => p.exe),
  "proc.pexepath": parent((p) => p.exepath),
  "proc.pcmdline": parent(cmdline),
  "proc.aname": ancestorField((p) => p.comm),
  "proc.apid": ancestorField((p) => p.pid),
  "proc.aexe": ancestorField((p) => p.exe),
  "proc.aexepath": ancestorField((p) => p.exepath),
  "proc.acmdline": ancestorField(cmdline),
  "thread.tid": plain((ctx) => ctx.event.tid),
  "thread.ismain": plain((ctx) => ctx.event.tid === ctx.event.pid),
  "thread.cap_permitted": capField((p) => p.capPermitted),
  "thread.cap_effective": capField((p) => p.capEffective),
  "thread.cap_inheritable": capField((p) => p.capInheritable),
};

/** Fields whose unindexed form matches when any ancestor matches (Falco's compare_full_a*). */
export const ANY_ANCESTOR_FIELDS: ReadonlySet<string> = new Set([
  "proc.aname",
  "proc.apid",
  "proc.aexe",
  "proc.aexepath",
  "proc.acmdline",
  "proc.aenv",
]);

export function assertNoArg(arg: string | undefined): void {
  if (arg !== undefined) throw new FieldArgumentError("this field takes no argument");
}
