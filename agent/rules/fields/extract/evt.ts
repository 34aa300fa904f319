// evt.*: the event's own facts and parameters (evt.arg.NAME / evt.arg[N] use Falco's parameter
// names and renderings, e.g. flags as O_RDONLY|O_CLOEXEC and a failed result as ENOENT).

import {
  clockTime,
  type Event,
  type EventKind,
  EVT_PARAMS,
  type EvtParam,
  falcoExeFlags,
  isOpenForRead,
  isOpenForWrite,
  isoTime,
  octal,
  rendererFor,
  RENDERERS,
  renderExeFlags,
  renderOpenFlags,
  resultName,
  toWallTime,
  wallTimeNs,
} from "../../../events/index.ts";
import { type EventContext, joinAndNormalize, type L4Proto } from "../../../state/index.ts";
import type { FieldValue } from "../values.ts";
import { type Binder, type Extractor, FieldArgumentError, indexArg, plain } from "./types.ts";

interface Param {
  name: string;
  /** The value as evt.rawarg gives it. */
  raw: (e: Event) => FieldValue;
  /** The value as evt.arg renders it (an fd or an id may need the process's state). */
  text: (e: Event, ctx: EventContext) => string;
}

function param(name: string, raw: (e: Event) => FieldValue, text?: (e: Event) => string): Param {
  return { name, raw, text: text ?? ((e) => String(raw(e))) };
}

/** libsinsp's PT_FD: an open fd of the thread shows as <typechar[l4]>name, AT_FDCWD and a
 * -errno by name, anything else as the number. */
function fdText(fd: number, ctx: EventContext): string {
  const info = fd >= 0 ? ctx.process?.fds.get(fd) : undefined;
  if (info === undefined) return RENDERERS.fd(fd);
  const inet = info.type === "ipv4" || info.type === "ipv6";
  const l4 = inet && info.socket?.l4proto !== undefined ? L4_CHAR[info.socket.l4proto] : "";
  return `<${info.typechar}${l4}>${info.name ?? ""}`;
}
const L4_CHAR: Readonly<Record<L4Proto, string>> = { tcp: "t", udp: "u", icmp: "i", raw: "r" };

const AT_FDCWD = -100;

/** libsinsp's PT_FSPATH / PT_FSRELPATH text: a relative path joined to its directory (the cwd,
 * or the path of the directory fd `dirfd`, AT_FDCWD meaning the cwd) and normalized; an absolute
 * or empty path, or one whose directory the state does not know, as passed. */
function resolvedPath(path: string, dirfd: number, ctx: EventContext): string {
  if (path === "" || path.startsWith("/")) return path;
  const dir = dirfd === AT_FDCWD ? ctx.process?.cwd : ctx.process?.fds.get(dirfd)?.name;
  return dir === undefined || !dir.startsWith("/") ? path : joinAndNormalize(dir, path);
}

/** A string parameter evt.arg shows resolved against the cwd (`dirfdOf` undefined) or a dirfd. */
function pathParam(name: string, path: (e: Event) => string, dirfdOf?: (e: Event) => number): Param {
  return {
    name,
    raw: path,
    text: (e, ctx) => resolvedPath(path(e), dirfdOf === undefined ? AT_FDCWD : dirfdOf(e), ctx),
  };
}

/** libsinsp's PT_UID / PT_GID: the name in the process's user database, <NA> when unknown,
 * <NONE> for -1. */
function uidText(uid: number, ctx: EventContext): string {
  if (uid >>> 0 === 0xffffffff || ctx.process === undefined)
    return uid >>> 0 === 0xffffffff ? "<NONE>" : "<NA>";
  return ctx.facts.usersOf(ctx.process).user(uid >>> 0)?.name ?? "<NA>";
}
function gidText(gid: number, ctx: EventContext): string {
  if (gid >>> 0 === 0xffffffff || ctx.process === undefined)
    return gid >>> 0 === 0xffffffff ? "<NONE>" : "<NA>";
  return ctx.facts.usersOf(ctx.process).groupName(gid >>> 0) ?? "<NA>";
}

type NumberText = (v: number, ctx: EventContext) => string;
/** The text of a rendering: the state-aware ones here, the rest from the events stage's tables. */
function textOf(render: string | undefined): NumberText | undefined {
  if (render === "fd") return fdText;
  if (render === "uid") return uidText;
  if (render === "gid") return gidText;
  return rendererFor(render);
}

/** A numeric parameter shown through a rendering. */
function rendered(name: string, raw: (e: Event) => number, text: NumberText): Param {
  return { name, raw, text: (e, ctx) => text(raw(e), ctx) };
}

const RES_FD = rendered("fd", (e) => ("res" in e ? e.res : 0), fdText);
const RES = rendered("res", (e) => ("res" in e ? e.res : 0), RENDERERS.errno);

const OPEN_COMMON: Param[] = [
  // open's name is a PT_FSPATH (its dirfd is AT_FDCWD), openat's and openat2's a PT_FSRELPATH.
  pathParam(
    "name",
    (e) => (e.kind.startsWith("open") ? (e as { path: string }).path : ""),
    (e) => (e.kind.startsWith("open") ? (e as { dirfd: number }).dirfd : AT_FDCWD),
  ),
  param(
    "flags",
    (e) => (e as { flags: number }).flags,
    (e) => renderOpenFlags((e as { flags: number }).flags),
  ),
  param(
    "mode",
    (e) => (e as { mode: number }).mode,
    (e) => octal((e as { mode: number }).mode),
  ),
];
const DIRFD = rendered("dirfd", (e) => (e as { dirfd: number }).dirfd, fdText);

const EXEC_PARAMS: Param[] = [
  RES,
  param("exe", (e) => (e.kind === "execve" || e.kind === "execveat" ? (e.args[0] ?? e.filename) : "")),
  param("args", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.args.slice(1).join(" ") : "")),
  param("tid", (e) => e.tid),
  param("pid", (e) => e.pid),
  param("ptid", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.ppid : 0)),
  param("comm", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.comm : "")),
  param("cgroups", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.cgroup : "")),
  rendered("uid", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.uid : 0), uidText),
  rendered("gid", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.gid : 0), gidText),
  pathParam("filename", (e) => (e.kind === "execve" || e.kind === "execveat" ? e.filename : "")),
  // PPM_EXE_* numbering and names, as Falco's exe_flags outputs show them.
  rendered(
    "flags",
    (e) => (e.kind === "execve" || e.kind === "execveat" ? falcoExeFlags(e.exeFlags ?? 0) : 0),
    renderExeFlags,
  ),
];

const HAND_PARAMS: Readonly<Partial<Record<EventKind, readonly Param[]>>> = {
  open: [RES_FD, ...OPEN_COMMON],
  openat: [RES_FD, DIRFD, ...OPEN_COMMON],
  openat2: [RES_FD, DIRFD, ...OPEN_COMMON, param("resolve", (e) => (e as { resolve: number }).resolve)],
  execve: EXEC_PARAMS,
  execveat: EXEC_PARAMS,
  procexit: [
    rendered("status", (e) => (e.kind === "procexit" ? e.exitCode : 0), RENDERERS.errno),
    rendered("ret", (e) => (e.kind === "procexit" ? e.exitCode >> 8 : 0), RENDERERS.errno),
    rendered("sig", (e) => (e.kind === "procexit" ? e.exitCode & 0x7f : 0), RENDERERS.signal),
    // libsinsp's core is a uint8: 1 or 0.
    param(
      "core",
      (e) => (e.kind === "procexit" ? (e.exitCode & 0x80) !== 0 : false),
      (e) => (e.kind === "procexit" && (e.exitCode & 0x80) !== 0 ? "1" : "0"),
    ),
  ],
  procfork: [
    param("child_tid", (e) => (e.kind === "procfork" ? e.childTid : 0)),
    param("child_pid", (e) => (e.kind === "procfork" ? e.childPid : 0)),
  ],
};

/** A table parameter: its raw value, and its text through its rendering when it has one (a path
 * with a base: resolved against it). */
function tableParam(p: EvtParam, kindParams: readonly EvtParam[]): Param {
  const raw = (e: Event): FieldValue => (e as unknown as Record<string, FieldValue>)[p.field] ?? null;
  if (p.base !== undefined) {
    const dirfdField = kindParams.find((q) => q.falco === p.base)?.field;
    const str = (e: Event) => String(raw(e) ?? "");
    if (p.base === "cwd") return pathParam(p.falco, str);
    if (dirfdField === undefined) throw new Error(`event table: ${p.falco}'s base ${p.base} is no parameter`);
    return pathParam(p.falco, str, (e) => Number((e as unknown as Record<string, FieldValue>)[dirfdField]));
  }
  const text = textOf(p.render);
  if (text === undefined) return param(p.falco, raw);
  return {
    name: p.falco,
    raw,
    text: (e, ctx) => {
      const v = raw(e);
      return typeof v === "number" ? text(v, ctx) : String(v);
    },
  };
}

/** Kinds without hand-written parameters: the event table's, each through its rendering. */
const PARAMS = Object.fromEntries(
  Object.entries(EVT_PARAMS).map(([kind, list]) => [
    kind,
    HAND_PARAMS[kind as EventKind] ?? list.map((p) => tableParam(p, list)),
  ]),
) as Readonly<Record<EventKind, readonly Param[]>>;

/** Every parameter name any event kind has, for argument validation and docs. */
export const KNOWN_PARAM_NAMES: ReadonlySet<string> = new Set(
  Object.values(PARAMS).flatMap((params) => params.map((p) => p.name)),
);

function paramBinder(render: "raw" | "text"): Binder {
  return (arg) => {
    if (arg === undefined || arg === "")
      throw new FieldArgumentError("expected a parameter name (evt.arg.NAME) or index (evt.arg[N])");
    const byIndex = /^[0-9]+$/.test(arg) ? indexArg(arg) : -1;
    return (ctx) => {
      const params = PARAMS[ctx.event.kind];
      const p = byIndex >= 0 ? params[byIndex] : params.find((q) => q.name === arg);
      if (p === undefined) return undefined;
      return render === "raw" ? p.raw(ctx.event) : p.text(ctx.event, ctx);
    };
  };
}

const wall = (ctx: EventContext) => toWallTime(ctx.host.clock, ctx.event.bootSec, ctx.event.bootNsec);
const res = (ctx: EventContext): number | undefined => ("res" in ctx.event ? ctx.event.res : undefined);
const openFlags = (ctx: EventContext): number | undefined =>
  ctx.event.kind.startsWith("open") ? (ctx.event as { flags: number }).flags : undefined;

/** evt.args as libsinsp prints it: name=value, and name=value(rendering) when a rendering
 * differs from the value. */
const allArgs: Extractor = (ctx) =>
  PARAMS[ctx.event.kind]
    .map((p) => {
      const raw = String(p.raw(ctx.event));
      const text = p.text(ctx.event, ctx);
      return text === raw ? `${p.name}=${raw}` : `${p.name}=${raw}(${text})`;
    })
    .join(" ");

export const EVT_FIELDS: Readonly<Record<string, Binder>> = {
  "evt.num": plain((ctx) => ctx.event.num),
  "evt.type": plain((ctx) => ctx.event.kind),
  "evt.dir": plain(() => "<"),
  "evt.source": plain(() => "syscall"),
  "evt.hostname": plain((ctx) => ctx.host.hostname),
  "evt.time": plain((ctx) => wallTimeNs(wall(ctx))),
  "evt.time.s": plain((ctx) => clockTime(wall(ctx)).slice(0, 8)),
  "evt.time.iso8601": plain((ctx) => isoTime(wall(ctx))),
  "evt.datetime": plain((ctx) => isoTime(wall(ctx)).slice(0, 29).replace("T", " ")),
  "evt.datetime.s": plain((ctx) => isoTime(wall(ctx)).slice(0, 19).replace("T", " ")),
  "evt.rawtime": plain((ctx) => wallTimeNs(wall(ctx))),
  "evt.rawtime.s": plain((ctx) => wall(ctx).sec),
  "evt.rawtime.ns": plain((ctx) => wall(ctx).nsec),
  "evt.res": plain((ctx) => {
    const r = res(ctx);
    return r === undefined ? undefined : resultName(r);
  }),
  "evt.rawres": plain(res),
  "evt.failed": plain((ctx) => {
    const r = res(ctx);
    return r === undefined ? undefined : r < 0;
  }),
  "evt.is_open_read": plain((ctx) => {
    const f = openFlags(ctx);
    return f === undefined ? undefined : isOpenForRead(f);
  }),
  "evt.is_open_write": plain((ctx) => {
    const f = openFlags(ctx);
    return f === undefined ? undefined : isOpenForWrite(f);
  }),
  "evt.is_open_exec": plain((ctx) => (openFlags(ctx) === undefined ? undefined : false)),
  "evt.arg": paramBinder("text"),
  "evt.rawarg": paramBinder("raw"),
  "evt.args": plain(allArgs),
};

/** Fields whose text form differs from their value: evt.time prints as a clock time. */
export const EVT_TEXT_RENDERERS: Readonly<Record<string, (ctx: EventContext) => string>> = {
  "evt.time": (ctx) => clockTime(wall(ctx)),
};
