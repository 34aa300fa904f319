// The record schema as the probe writes it: mirrors native/schema.h number for number
// (test/events/schema.test.ts parses the header and compares). Layouts: docs/EVENTS.md.
import type { EventKind } from "./types.ts";

/** Every `#define` of native/schema.h, by name. Change both files together. */
export const NATIVE_SCHEMA = {
  LANNER_SCHEMA_VERSION: 1,
  LANNER_KIND_EXECVE: 1,
  LANNER_KIND_EXECVEAT: 2,
  LANNER_KIND_OPEN: 3,
  LANNER_KIND_OPENAT: 4,
  LANNER_KIND_OPENAT2: 5,
  LANNER_KIND_PROCEXIT: 6,
  LANNER_KIND_PROCFORK: 7,
  LANNER_HEADER_FIELDS: 5,
  LANNER_EXEC_PARAMS: 8,
  LANNER_OPEN_PARAMS: 6,
  LANNER_PROCEXIT_PARAMS: 1,
  LANNER_PROCFORK_PARAMS: 2,
  LANNER_EXEC_PARAM_FILENAME: 5,
  LANNER_EXEC_PARAM_ARGS: 6,
  LANNER_EXEC_PARAM_CGROUP: 7,
  LANNER_OPEN_PARAM_PATH: 2,
  LANNER_PATH_MAX: 4096,
  LANNER_ARGS_MAX: 4096,
  LANNER_CGROUP_DEPTH: 16,
  LANNER_CGROUP_NAME_MAX: 255,
  LANNER_COMM_MAX: 15,
  LANNER_RECORD_MAX: 16384,
  LANNER_COUNTER_SEEN: 0,
  LANNER_COUNTER_WRITTEN: 1,
  LANNER_COUNTER_RING_FULL: 2,
  LANNER_COUNTER_TOO_BIG: 3,
  LANNER_COUNTERS: 4,
  LANNER_RING_DEFAULT_BYTES: 8388608,
} as const;

const S = NATIVE_SCHEMA;

export const SCHEMA_VERSION = S.LANNER_SCHEMA_VERSION;

/** Kind id (record element 0) to the event kind it decodes to. */
export const KIND_BY_ID: ReadonlyMap<number, EventKind> = new Map<number, EventKind>([
  [S.LANNER_KIND_EXECVE, "execve"],
  [S.LANNER_KIND_EXECVEAT, "execveat"],
  [S.LANNER_KIND_OPEN, "open"],
  [S.LANNER_KIND_OPENAT, "openat"],
  [S.LANNER_KIND_OPENAT2, "openat2"],
  [S.LANNER_KIND_PROCEXIT, "procexit"],
  [S.LANNER_KIND_PROCFORK, "procfork"],
]);

export const KIND_ID: Readonly<Record<EventKind, number>> = {
  execve: S.LANNER_KIND_EXECVE,
  execveat: S.LANNER_KIND_EXECVEAT,
  open: S.LANNER_KIND_OPEN,
  openat: S.LANNER_KIND_OPENAT,
  openat2: S.LANNER_KIND_OPENAT2,
  procexit: S.LANNER_KIND_PROCEXIT,
  procfork: S.LANNER_KIND_PROCFORK,
};

export const HEADER_FIELDS = S.LANNER_HEADER_FIELDS;

/** Parameters after the header, per kind; a record has HEADER_FIELDS + params + 1 (cut) elements. */
export const PARAM_COUNT: Readonly<Record<EventKind, number>> = {
  execve: S.LANNER_EXEC_PARAMS,
  execveat: S.LANNER_EXEC_PARAMS,
  open: S.LANNER_OPEN_PARAMS,
  openat: S.LANNER_OPEN_PARAMS,
  openat2: S.LANNER_OPEN_PARAMS,
  procexit: S.LANNER_PROCEXIT_PARAMS,
  procfork: S.LANNER_PROCFORK_PARAMS,
};

/** Parameter positions (0 = first after the header), i.e. the bit numbers of `cut`. */
export const EXEC_PARAM = {
  res: 0,
  ppid: 1,
  uid: 2,
  gid: 3,
  comm: 4,
  filename: S.LANNER_EXEC_PARAM_FILENAME,
  args: S.LANNER_EXEC_PARAM_ARGS,
  cgroup: S.LANNER_EXEC_PARAM_CGROUP,
} as const;

export const OPEN_PARAM = {
  res: 0,
  dirfd: 1,
  path: S.LANNER_OPEN_PARAM_PATH,
  flags: 3,
  mode: 4,
  resolve: 5,
} as const;

export const BOUNDS = {
  path: S.LANNER_PATH_MAX,
  args: S.LANNER_ARGS_MAX,
  cgroupDepth: S.LANNER_CGROUP_DEPTH,
  cgroupName: S.LANNER_CGROUP_NAME_MAX,
  comm: S.LANNER_COMM_MAX,
  record: S.LANNER_RECORD_MAX,
} as const;

/** Order of the kernel counters as the shim returns them. */
export const COUNTER = {
  seen: S.LANNER_COUNTER_SEEN,
  written: S.LANNER_COUNTER_WRITTEN,
  ringFull: S.LANNER_COUNTER_RING_FULL,
  tooBig: S.LANNER_COUNTER_TOO_BIG,
  count: S.LANNER_COUNTERS,
} as const;

export const RING_DEFAULT_BYTES = S.LANNER_RING_DEFAULT_BYTES;
