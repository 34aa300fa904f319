// watch_config_files: notices when a config or rules file (or a file in a watched directory)
// changes and asks for a reload. It polls stat() once a second rather than using inotify: a
// Kubernetes ConfigMap update swaps a symlink (..data) that inotify on the file never sees, and a
// handful of stat calls per second costs nothing. Changes are coalesced: one reload per burst.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** A directory is read up to this many entries per poll (a bound, not a limit anyone should reach). */
export const MAX_WATCHED_ENTRIES = 4096;

export interface WatchOptions {
  paths: readonly string[];
  onChange: (changed: string) => void;
  intervalMs?: number;
}

function signature(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return "missing";
  if (!st.isDirectory()) return `${st.ino}:${st.size}:${st.mtimeMs}`;
  let names: string[];
  try {
    names = readdirSync(path).sort().slice(0, MAX_WATCHED_ENTRIES);
  } catch {
    return "unreadable";
  }
  return names
    .map((n) => {
      const s = statSync(join(path, n), { throwIfNoEntry: false });
      return `${n}=${s === undefined ? "-" : `${s.ino}:${s.size}:${s.mtimeMs}`}`;
    })
    .join("|");
}

export class FileWatcher {
  private readonly last = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: WatchOptions) {
    this.rebase(options.paths);
    this.timer = setInterval(() => this.poll(), options.intervalMs ?? 1000);
    // Watching never keeps the process alive by itself.
    this.timer.unref?.();
  }

  /** Watches these paths from now on (after a reload changed the file list). */
  rebase(paths: readonly string[]): void {
    this.last.clear();
    for (const p of paths) this.last.set(p, signature(p));
  }

  /** Compares every path with its last signature; reports the first change of this poll. */
  poll(): void {
    let changed: string | undefined;
    for (const [p, sig] of this.last) {
      const now = signature(p);
      if (now !== sig) {
        this.last.set(p, now);
        changed ??= p;
      }
    }
    if (changed !== undefined) this.options.onChange(changed);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
