// Users and groups of the host, from its passwd and group files: uid -> name, home, shell and
// gid -> name. Read once at start; a file that cannot be read leaves the names missing.

import { readFileSync } from "node:fs";

export interface UserEntry {
  name: string;
  home: string;
  shell: string;
}

export interface UserLookup {
  user(uid: number): UserEntry | undefined;
  groupName(gid: number): string | undefined;
}

export class UserTable implements UserLookup {
  private readonly users = new Map<number, UserEntry>();
  private readonly groups = new Map<number, string>();

  /** `root` is the host's root directory as this process sees it ("/" on a node, "/host" in a pod). */
  static load(root = "/"): UserTable {
    const table = new UserTable();
    table.parsePasswd(readOptional(joinRoot(root, "etc/passwd")));
    table.parseGroup(readOptional(joinRoot(root, "etc/group")));
    return table;
  }

  parsePasswd(text: string): void {
    for (const line of text.split("\n")) {
      const f = line.split(":");
      if (f.length < 7 || line.startsWith("#")) continue;
      const uid = parseId(f[2]);
      // The first entry for an id wins, as getpwuid() answers.
      if (uid !== undefined && !this.users.has(uid))
        this.users.set(uid, { name: f[0], home: f[5], shell: f[6] });
    }
  }

  parseGroup(text: string): void {
    for (const line of text.split("\n")) {
      const f = line.split(":");
      if (f.length < 3 || line.startsWith("#")) continue;
      const gid = parseId(f[2]);
      if (gid !== undefined && !this.groups.has(gid)) this.groups.set(gid, f[0]);
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
    return this.users.get(uid);
  }

  groupName(gid: number): string | undefined {
    return this.groups.get(gid);
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
