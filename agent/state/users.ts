// Users and groups of the host, from its passwd and group files: uid -> name, home, shell and
// gid -> name. Re-read when a file changes (its mtime, size or inode, checked at most once per
// `checkIntervalMs`); each table is capped. A file that cannot be read leaves the names missing.

import { readFileSync, statSync } from "node:fs";

export interface UserEntry {
  name: string;
  home: string;
  shell: string;
}

export interface UserLookup {
  user(uid: number): UserEntry | undefined;
  groupName(gid: number): string | undefined;
}

export interface UserTableStats {
  users: number;
  groups: number;
  /** Times the files were re-read after a change. */
  reloads: number;
  /** Entries not kept because a table was full. */
  dropped: number;
}

/** Most entries kept per table. */
export const DEFAULT_MAX_USERS = 65_536;

export class UserTable implements UserLookup {
  private users = new Map<number, UserEntry>();
  private groups = new Map<number, string>();
  private reloads = 0;
  private dropped = 0;
  private passwdPath: string | undefined;
  private groupPath: string | undefined;
  private signature = "";
  private nextCheck = 0;

  constructor(
    private readonly maxEntries = DEFAULT_MAX_USERS,
    private readonly checkIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `root` is the host's root directory as this process sees it ("/" on a node, "/host" in a pod). */
  static load(root = "/", maxEntries = DEFAULT_MAX_USERS, checkIntervalMs = 1000): UserTable {
    const table = new UserTable(maxEntries, checkIntervalMs);
    table.passwdPath = joinRoot(root, "etc/passwd");
    table.groupPath = joinRoot(root, "etc/group");
    table.reloadIfChanged(true);
    return table;
  }

  parsePasswd(text: string): void {
    for (const line of text.split("\n")) {
      const f = line.split(":");
      if (f.length < 7 || line.startsWith("#")) continue;
      const uid = parseId(f[2]);
      // The first entry for an id wins, as getpwuid() answers.
      if (uid === undefined || this.users.has(uid)) continue;
      if (this.users.size >= this.maxEntries) {
        this.dropped++;
        continue;
      }
      this.users.set(uid, { name: f[0], home: f[5], shell: f[6] });
    }
  }

  parseGroup(text: string): void {
    for (const line of text.split("\n")) {
      const f = line.split(":");
      if (f.length < 3 || line.startsWith("#")) continue;
      const gid = parseId(f[2]);
      if (gid === undefined || this.groups.has(gid)) continue;
      if (this.groups.size >= this.maxEntries) {
        this.dropped++;
        continue;
      }
      this.groups.set(gid, f[0]);
    }
  }

  /** Every user and group, for state snapshots. */
  entries(): { users: [number, UserEntry][]; groups: [number, string][] } {
    return { users: [...this.users], groups: [...this.groups] };
  }

  /** A table holding exactly these entries (restored from a snapshot). */
  static fromEntries(users: readonly [number, UserEntry][], groups: readonly [number, string][]): UserTable {
    const table = new UserTable();
    for (const [uid, entry] of users) if (!table.users.has(uid)) table.users.set(uid, entry);
    for (const [gid, name] of groups) if (!table.groups.has(gid)) table.groups.set(gid, name);
    return table;
  }

  user(uid: number): UserEntry | undefined {
    this.maybeCheck();
    return this.users.get(uid);
  }

  groupName(gid: number): string | undefined {
    this.maybeCheck();
    return this.groups.get(gid);
  }

  stats(): UserTableStats {
    return { users: this.users.size, groups: this.groups.size, reloads: this.reloads, dropped: this.dropped };
  }

  /** Re-reads both files when either changed since the last read. Returns whether it re-read. */
  reloadIfChanged(force = false): boolean {
    if (this.passwdPath === undefined || this.groupPath === undefined) return false;
    const signature = `${fileSignature(this.passwdPath)}|${fileSignature(this.groupPath)}`;
    if (!force && signature === this.signature) return false;
    this.signature = signature;
    this.users = new Map();
    this.groups = new Map();
    this.parsePasswd(readOptional(this.passwdPath));
    this.parseGroup(readOptional(this.groupPath));
    if (!force) this.reloads++;
    return true;
  }

  private maybeCheck(): void {
    if (this.passwdPath === undefined) return;
    const t = this.now();
    if (t < this.nextCheck) return;
    this.nextCheck = t + this.checkIntervalMs;
    this.reloadIfChanged();
  }
}

function fileSignature(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return "missing";
  }
}

/** A decimal uid/gid; NIS lines ("+::::::") and anything else are not ids. */
function parseId(text: string): number | undefined {
  return /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function joinRoot(root: string, relative: string): string {
  return root.endsWith("/") ? root + relative : `${root}/${relative}`;
}
