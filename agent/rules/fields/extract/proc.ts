// proc.*, thread.* and the ancestor fields, from the process table.

import type { EventContext } from "../../../state/context.ts";
import type { ProcessInfo, ProcessLookup } from "../../../state/processes.ts";
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
  return Math.max(0, Math.round(now - ctx.process.startBootNs));
};

export const PROC_FIELDS: Readonly<Record<string, Binder>> = {
  "proc.pid": self((p) => p.pid),
  "proc.ppid": self((p) => p.ppid),
  "proc.name": self((p) => p.comm),
  "proc.exe": self((p) => p.exe),
  "proc.exepath": self((p) => p.exepath),
  "proc.cmdline": self(cmdline),
  "proc.args": self((p) => p.argsText),
  "proc.cmdnargs": self((p) => p.args.length),
  "proc.cmdlenargs": self((p) => p.args.reduce((n, a) => n + a.length, 0)),
  "proc.duration": plain(durationNs),
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
