// The state stage's entry module: the tracker, its tables and the context the rules read.

export type { ContainerMeta } from "./container-meta.ts";
export type { EventContext, HostInfo } from "./context.ts";
export {
  type FdInfo,
  fdDirectory,
  fdFilename,
  type L4Proto,
  type PathBaseResolver,
  type SocketEnds,
} from "./fds.ts";
export { joinAndNormalize } from "./paths.ts";
export type { ProcessInfo, ProcessLookup, ProcessTableStats } from "./processes.ts";
export {
  parseSnapshot,
  restoreState,
  SNAPSHOT_BOUNDS,
  SnapshotError,
  type StateSnapshot,
  snapshotState,
} from "./snapshot.ts";
export { procPathBases, type StateOptions, StateTracker } from "./tracker.ts";
export { type UserEntry, type UserLookup, UserTable } from "./users.ts";
