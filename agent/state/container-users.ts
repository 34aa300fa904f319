// Users and groups inside containers: as Falco does, a process in a container gets its user and
// group names from the container's own /etc/passwd and /etc/group (read through
// /proc/PID/root), not the host's. One table per container, read once, capped. A container whose
// files could not be read (the process was gone, or the image has none) is tried again later
// through another of its processes.

import { UserTable } from "./users.ts";

/** How long an empty (unreadable) container table is kept before a new read is tried. */
const EMPTY_RETRY_MS = 30_000;

/** Processes remembered per container, to read its files through one still alive. */
const PIDS_PER_CONTAINER = 4;

export class ContainerUserTables {
  private readonly byContainer = new Map<string, { table: UserTable; retryAt: number }>();
  /** Recent processes of each container (bounded like the tables). */
  private readonly pids = new Map<string, number[]>();
  loads = 0;
  evicted = 0;

  constructor(
    private readonly procRoot: string,
    readonly capacity = 256,
    private readonly maxEntries = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remembers a process of a container (exec, seed): a short-lived process may be gone when its
   * container's files are first needed, and another of its processes can be read instead. */
  notePid(containerId: string, pid: number): void {
    let list = this.pids.get(containerId);
    if (list === undefined) {
      if (this.pids.size >= this.capacity) {
        const oldest = this.pids.keys().next();
        if (oldest.done !== true) this.pids.delete(oldest.value);
      }
      list = [];
      this.pids.set(containerId, list);
    }
    if (list.includes(pid)) return;
    // The first one (often the container's init) stays; the rest rotate.
    if (list.length >= PIDS_PER_CONTAINER) list.splice(1, 1);
    list.push(pid);
  }

  /** The table of container `containerId`, read through process `pid` (or another of the container's) when not known. */
  tableFor(containerId: string, pid: number): UserTable {
    const known = this.byContainer.get(containerId);
    if (known !== undefined && this.now() < known.retryAt) return known.table;
    if (known === undefined && this.byContainer.size >= this.capacity) {
      const oldest = this.byContainer.keys().next();
      if (oldest.done !== true) {
        this.byContainer.delete(oldest.value);
        this.evicted++;
      }
    }
    // Read once (no re-reads on change): the process may exit, and a container's files rarely change.
    let table = this.load(pid);
    let empty = isEmpty(table);
    for (const other of this.pids.get(containerId) ?? []) {
      if (!empty) break;
      if (other === pid) continue;
      table = this.load(other);
      empty = isEmpty(table);
    }
    this.byContainer.set(containerId, {
      table,
      retryAt: empty ? this.now() + EMPTY_RETRY_MS : Number.POSITIVE_INFINITY,
    });
    return table;
  }

  private load(pid: number): UserTable {
    this.loads++;
    return UserTable.load(`${this.procRoot}/${pid}/root`, this.maxEntries, Number.POSITIVE_INFINITY);
  }
}

function isEmpty(table: UserTable): boolean {
  const s = table.stats();
  return s.users === 0 && s.groups === 0;
}
