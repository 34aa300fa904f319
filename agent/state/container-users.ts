// Users and groups inside containers: as Falco does, a process in a container gets its user and
// group names from the container's own /etc/passwd and /etc/group (read through
// /proc/PID/root), not the host's. One table per container, read once, capped. A container whose
// files could not be read (the process was gone, or the image has none) is tried again later
// through another of its processes.

import { UserTable } from "./users.ts";

/** How long an empty (unreadable) container table is kept before a new read is tried. */
const EMPTY_RETRY_MS = 30_000;

export class ContainerUserTables {
  private readonly byContainer = new Map<string, { table: UserTable; retryAt: number }>();
  loads = 0;
  evicted = 0;

  constructor(
    private readonly procRoot: string,
    readonly capacity = 256,
    private readonly maxEntries = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  /** The table of container `containerId`, read through process `pid` when not known. */
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
    const table = UserTable.load(`${this.procRoot}/${pid}/root`, this.maxEntries, Number.POSITIVE_INFINITY);
    this.loads++;
    const empty = table.stats().users === 0 && table.stats().groups === 0;
    this.byContainer.set(containerId, {
      table,
      retryAt: empty ? this.now() + EMPTY_RETRY_MS : Number.POSITIVE_INFINITY,
    });
    return table;
  }
}
