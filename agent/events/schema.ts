// The record schema as the probe writes it: mirrors native/schema.h number for number
// (test/events/schema.test.ts parses the header and compares). Kinds and their parameters come
// from the event table (table.ts, generated into kinds.gen.ts). Layouts: docs/EVENTS.md.
import { EVENT_TABLE, KIND_SLOTS } from "./table.ts";
import type { EventKind } from "./types.ts";

export { EVT_PARAMS, type EvtParam, KIND_ID, PARAM_COUNT } from "./kinds.gen.ts";
export { HEADER_FIELDS } from "./table.ts";

/** Every `#define` of native/schema.h, by name. Change both files together. */
export const NATIVE_SCHEMA = {
  LANNER_SCHEMA_VERSION: 3,
  LANNER_PATH_MAX: 4096,
  LANNER_ARGS_MAX: 4096,
  LANNER_ENV_MAX: 2048,
  LANNER_ARGV_STRINGS_MAX: 64,
  LANNER_CGROUP_DEPTH: 16,
  LANNER_CGROUP_NAME_MAX: 255,
  LANNER_CWD_DEPTH: 16,
  LANNER_CWD_NAME_MAX: 255,
  LANNER_COMM_MAX: 15,
  LANNER_UNIX_PATH_MAX: 108,
  LANNER_RECORD_MAX: 32768,
  LANNER_COUNTER_SEEN: 0,
  LANNER_COUNTER_WRITTEN: 1,
  LANNER_COUNTER_RING_FULL: 2,
  LANNER_COUNTER_TOO_BIG: 3,
  LANNER_COUNTER_READ_FAULT: 4,
  LANNER_COUNTER_PREFILTERED: 5,
  LANNER_COUNTER_FD_TRACK_FULL: 6,
  LANNER_COUNTER_OPEN_PREFILTERED: 7,
  LANNER_COUNTER_KIND_WRITTEN: 8,
  LANNER_COUNTER_KIND_DROPPED: 136,
  LANNER_COUNTERS: 264,
  LANNER_RING_DEFAULT_BYTES: 8388608,
  LANNER_FD_TRACK_FDS: 512,
  LANNER_FD_TRACK_PROCS: 8192,
  LANNER_PREFILTER_SLOT: 511,
  LANNER_PREFILTER_CLOSE: 1,
  LANNER_PREFILTER_OPEN: 2,
  LANNER_PREFILTER_OPEN_BUFFER: 4,
  LANNER_OPEN_FILTER_ENTRIES: 16,
  LANNER_OPEN_FILTER_PREFIX: 64,
  LANNER_OPEN_FILTER_PATH: 256,
  LANNER_OPEN_READ: 1,
  LANNER_OPEN_WRITE: 2,
  LANNER_OPEN_CREATE: 4,
  LANNER_OPEN_SUCCESS: 8,
  LANNER_OPEN_FAILED: 16,
  LANNER_OPEN_UNCLEAN: 32,
} as const;

const S = NATIVE_SCHEMA;

export const SCHEMA_VERSION = S.LANNER_SCHEMA_VERSION;
/** Versions whose records this agent decodes: version 1 records are version 2 records of the
 * first seven kinds with fewer exec parameters (fixarray headers), and version 2 records are
 * version 3 records without procfork's shares_fds; the defaults fill what they lack. */
export const SCHEMA_VERSIONS_READ: readonly number[] = [1, 2, 3];

/** Kind id (record element 0) to the event kind it decodes to. */
export const KIND_BY_ID: ReadonlyMap<number, EventKind> = new Map(
  EVENT_TABLE.map((k) => [k.id, k.name as EventKind]),
);

/** Parameter positions (0 = first after the header), i.e. the bit numbers of `cut`. */
function positions(kind: string): Readonly<Record<string, number>> {
  const spec = EVENT_TABLE.find((k) => k.name === kind);
  if (spec === undefined) throw new Error(`no kind ${kind} in the event table`);
  return Object.fromEntries(spec.params.map((p, i) => [p.name, i]));
}
export const EXEC_PARAM = positions("execve");
export const OPEN_PARAM = positions("openat");

export const BOUNDS = {
  path: S.LANNER_PATH_MAX,
  args: S.LANNER_ARGS_MAX,
  /** Strings a failed exec's argv array is read for. */
  argvStrings: S.LANNER_ARGV_STRINGS_MAX,
  env: S.LANNER_ENV_MAX,
  cgroupDepth: S.LANNER_CGROUP_DEPTH,
  cgroupName: S.LANNER_CGROUP_NAME_MAX,
  cwdDepth: S.LANNER_CWD_DEPTH,
  comm: S.LANNER_COMM_MAX,
  record: S.LANNER_RECORD_MAX,
} as const;

/** The close prefilter's fd tracker bounds, and its switch's slot in the selection map. */
export const FD_TRACK = {
  fds: S.LANNER_FD_TRACK_FDS,
  processes: S.LANNER_FD_TRACK_PROCS,
  switchSlot: S.LANNER_PREFILTER_SLOT,
} as const;

/** The switch slot's bits (FD_TRACK.switchSlot's value in the selection map). */
export const PREFILTER_SWITCH = {
  close: S.LANNER_PREFILTER_CLOSE,
  open: S.LANNER_PREFILTER_OPEN,
  openBuffer: S.LANNER_PREFILTER_OPEN_BUFFER,
} as const;

/** The open prefilter's bounds and class bits (docs/EVENTS.md, "Open prefilter"). */
export const OPEN_FILTER = {
  entries: S.LANNER_OPEN_FILTER_ENTRIES,
  prefixBytes: S.LANNER_OPEN_FILTER_PREFIX,
  pathWindow: S.LANNER_OPEN_FILTER_PATH,
  read: S.LANNER_OPEN_READ,
  write: S.LANNER_OPEN_WRITE,
  create: S.LANNER_OPEN_CREATE,
  success: S.LANNER_OPEN_SUCCESS,
  failed: S.LANNER_OPEN_FAILED,
  unclean: S.LANNER_OPEN_UNCLEAN,
} as const;

/** Order of the kernel counters as the shim returns them. */
export const COUNTER = {
  seen: S.LANNER_COUNTER_SEEN,
  written: S.LANNER_COUNTER_WRITTEN,
  ringFull: S.LANNER_COUNTER_RING_FULL,
  tooBig: S.LANNER_COUNTER_TOO_BIG,
  readFault: S.LANNER_COUNTER_READ_FAULT,
  prefiltered: S.LANNER_COUNTER_PREFILTERED,
  openPrefiltered: S.LANNER_COUNTER_OPEN_PREFILTERED,
  fdTrackFull: S.LANNER_COUNTER_FD_TRACK_FULL,
  kindWritten: S.LANNER_COUNTER_KIND_WRITTEN,
  kindDropped: S.LANNER_COUNTER_KIND_DROPPED,
  count: S.LANNER_COUNTERS,
} as const;

if (
  COUNTER.kindDropped - COUNTER.kindWritten !== KIND_SLOTS ||
  COUNTER.count - COUNTER.kindDropped !== KIND_SLOTS
) {
  throw new Error("native/schema.h per-kind counters do not match the event table's KIND_SLOTS");
}

export const RING_DEFAULT_BYTES = S.LANNER_RING_DEFAULT_BYTES;
