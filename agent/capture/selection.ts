// Which kinds the probe records: turned into the kernel's syscall selection map (syscall number ->
// kind id). Kinds not fed by a syscall (procexit, procfork) and successful execs come from
// tracepoints and are always recorded; everything else unselected is dropped in the kernel before
// any record is built.
import { EVENT_TABLE, type EventKind, FD_TRACK, type KindSpec, SYSCALL_SLOTS } from "../events/index.ts";

export type Arch = "x86_64" | "arm64";

export function hostArch(): Arch {
  if (process.arch === "x64") return "x86_64";
  if (process.arch === "arm64") return "arm64";
  throw new Error(`unsupported architecture ${process.arch}`);
}

const BY_NAME: ReadonlyMap<string, KindSpec> = new Map(EVENT_TABLE.map((k) => [k.name, k]));

/** Every kind the probe can record. */
export const ALL_KINDS: readonly EventKind[] = EVENT_TABLE.map((k) => k.name as EventKind);

/** What is recorded when nothing else is asked for: all but the read/write family and receives. */
export const DEFAULT_SELECTION: readonly EventKind[] = EVENT_TABLE.filter((k) => k.selectedByDefault).map(
  (k) => k.name as EventKind,
);

/** Kinds the state layer needs whatever the rules ask for: process tree, fd table, cwd, users.
 * Not clone, clone3, fork or vfork: procfork makes the child and says whether it shares the fd
 * table, so those are recorded only for a rule that runs on them (two records per fork saved). */
export const STATE_KINDS: readonly EventKind[] = [
  "execve",
  "execveat",
  "procexit",
  "procfork",
  "open",
  "openat",
  "openat2",
  "creat",
  "close",
  "close_range",
  "dup",
  "dup2",
  "dup3",
  "fcntl",
  "pipe",
  "pipe2",
  "socket",
  "socketpair",
  "connect",
  "accept",
  "accept4",
  "bind",
  "memfd_create",
  "chdir",
  "fchdir",
  "setuid",
  "setgid",
  "setreuid",
  "setregid",
  "setresuid",
  "setresgid",
  "capset",
];

/** Whether `name` is a kind of the event table. */
export function isEventKind(name: string): name is EventKind {
  return BY_NAME.has(name);
}

/** The selection for a set of rule event types: those the table knows, plus the state set.
 * Names the probe cannot record are returned apart, so callers can say so. */
export function selectionFor(ruleKinds: Iterable<string>): { kinds: EventKind[]; unknown: string[] } {
  const kinds = new Set<EventKind>(STATE_KINDS);
  const unknown: string[] = [];
  for (const name of ruleKinds) {
    if (isEventKind(name)) kinds.add(name);
    else unknown.push(name);
  }
  return { kinds: [...kinds].sort(), unknown };
}

/** The selection map's contents: entry nr = kind id to record, 0 = drop; the slot no syscall has
 * (FD_TRACK.switchSlot) holds the prefilter switch bits (open-filter.ts, prefilterSwitch). Throws
 * on a name the event table does not have. */
export function selectionMap(
  kinds: Iterable<string>,
  arch: Arch = hostArch(),
  prefilterSwitch = 0,
): Uint32Array {
  const map = new Uint32Array(SYSCALL_SLOTS);
  for (const name of kinds) {
    const spec = BY_NAME.get(name);
    if (spec === undefined) throw new RangeError(`"${name}" is not an event kind the probe knows`);
    const nr = spec.nr[arch];
    if (nr === FD_TRACK.switchSlot) throw new RangeError(`syscall ${nr} collides with the prefilter switch`);
    if (nr !== null) map[nr] = spec.id;
  }
  map[FD_TRACK.switchSlot] = prefilterSwitch;
  return map;
}

/** Whether the close prefilter may run for these rule event types: only when no rule can match a
 * close (a rule on close, or on every type, needs them all). Configured off: never. */
export function closePrefilterFor(ruleTypes: ReadonlySet<string> | "all", enabled: boolean): boolean {
  return enabled && ruleTypes !== "all" && !ruleTypes.has("close");
}

/** The kinds `run` records in the kernel for the active rules' event types: what they run on plus
 * what the state needs; a rule on every event type gets the default selection (the read/write
 * family stays off). */
export function captureSelection(ruleTypes: ReadonlySet<string> | "all"): readonly EventKind[] {
  if (ruleTypes === "all") return [...new Set([...DEFAULT_SELECTION, ...STATE_KINDS])].sort();
  return selectionFor(ruleTypes).kinds;
}
