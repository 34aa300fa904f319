// watch_config_files (agent/ops/watch.ts) on real files: an edit, a new file in a watched
// directory, and a Kubernetes-style ConfigMap update (a symlink swapped under the file).

import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileWatcher } from "../../agent/ops/watch.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-watch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function watcher(paths: string[]) {
  const changes: string[] = [];
  const w = new FileWatcher({ paths, onChange: (p) => changes.push(p), intervalMs: 60_000 });
  return { w, changes };
}

test("an edited file is one change; an unchanged poll is none", () => {
  const f = join(dir, "lanner.yaml");
  writeFileSync(f, "a: 1\n");
  const { w, changes } = watcher([f]);
  try {
    w.poll();
    expect(changes).toEqual([]);
    writeFileSync(f, "a: 22\n");
    w.poll();
    w.poll();
    expect(changes).toEqual([f]);
  } finally {
    w.stop();
  }
});

test("a new file in a watched directory, and a file that disappears, are changes", () => {
  const d = join(dir, "rules.d");
  mkdirSync(d);
  const f = join(dir, "gone.yaml");
  writeFileSync(f, "x");
  const { w, changes } = watcher([d, f]);
  try {
    writeFileSync(join(d, "new.yaml"), "- list: x\n  items: []\n");
    w.poll();
    rmSync(f);
    w.poll();
    expect(changes).toEqual([d, f]);
  } finally {
    w.stop();
  }
});

test("a ConfigMap update (the ..data symlink swapped to a new directory) is a change", () => {
  // What the kubelet does: files live in a timestamped dir; ..data points at it; the file is a
  // symlink through ..data; an update writes a new dir and renames a new ..data link over the old.
  mkdirSync(join(dir, "v1"));
  writeFileSync(join(dir, "v1/lanner.yaml"), "priority: debug\n");
  symlinkSync("v1", join(dir, "..data"));
  symlinkSync("..data/lanner.yaml", join(dir, "lanner.yaml"));
  const { w, changes } = watcher([join(dir, "lanner.yaml")]);
  try {
    mkdirSync(join(dir, "v2"));
    writeFileSync(join(dir, "v2/lanner.yaml"), "priority: error\n");
    symlinkSync("v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    w.poll();
    expect(changes).toEqual([join(dir, "lanner.yaml")]);
  } finally {
    w.stop();
  }
});

test("the timer polls by itself, and rebase() moves the watch", async () => {
  const a = join(dir, "a.yaml");
  const b = join(dir, "b.yaml");
  writeFileSync(a, "1");
  writeFileSync(b, "1");
  const changes: string[] = [];
  const w = new FileWatcher({ paths: [a], onChange: (p) => changes.push(p), intervalMs: 20 });
  try {
    w.rebase([b]);
    writeFileSync(a, "changed but no longer watched");
    writeFileSync(b, "22");
    const deadline = Date.now() + 5000;
    while (changes.length === 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(changes).toEqual([b]);
  } finally {
    w.stop();
  }
});
