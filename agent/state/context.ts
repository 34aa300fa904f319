// What the rule engine may know about one event: the event itself and the state around it
// (its process, the fd it refers to, users, containers, the host). One context object is reused
// for every event; it is valid until the next event is applied.

import type { BootClock, Event } from "../events/index.ts";
import type { ContainerMeta } from "./container-meta.ts";
import type { FdInfo } from "./fds.ts";
import type { ExeFileFacts, ProcessInfo, ProcessLookup } from "./processes.ts";
import type { UserLookup } from "./users.ts";

export interface HostInfo {
  hostname: string;
  clock: BootClock;
}

/** Facts read on demand (only when a rule asks), cached in the process entry. */
export interface LazyFacts {
  /** Container and pod metadata of the process's container; undefined on the host or while unknown. */
  container(process: ProcessInfo): ContainerMeta | undefined;
  /** The executable's inode facts; undefined when they cannot be read. */
  exeFile(process: ProcessInfo): ExeFileFacts | undefined;
  /** Where the process's user and group names come from: its container's files, or the host's. */
  usersOf(process: ProcessInfo): UserLookup;
}

export interface EventContext {
  readonly event: Event;
  /** The process the event happened in; undefined if the agent does not know it. */
  readonly process: ProcessInfo | undefined;
  /** The fd the event refers to, for fd-related events. */
  readonly fd: FdInfo | undefined;
  readonly processes: ProcessLookup;
  readonly users: UserLookup;
  readonly host: HostInfo;
  readonly facts: LazyFacts;
}
