// The alert file sink (agent/outputs/file.ts) on real files: mode 0600, a planted symlink, a file of
// another user and a hard link refused with a clear error, logrotate's rename and delete, SIGUSR1
// sent to a real process, rotation by size, and a real full disk (a 64 KiB tmpfs) that never leaves
// a partial line.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings, type Outputs } from "../../agent/outputs/index.ts";
import { FileTransport, openAlertFile } from "../../agent/outputs/file.ts";
import { fileLogger, makeAlert, range, until } from "./fixtures/alerts.ts";
import { metricValue, OutputsChild } from "./fixtures/child.ts";

setDefaultTimeout(60_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);
let n = 0;
const fresh = () => join(dir, `alerts-${++n}.jsonl`);
const lines = (path: string) => readFileSync(path, "utf8").split("\n").slice(0, -1);
const seqOf = (line: string) => (JSON.parse(line) as { output_fields: { seq: number } }).output_fields.seq;

function fileOutputs(
  path: string,
  file: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Outputs {
  return createOutputs(
    defaultOutputSettings({
      stdout_output: { enabled: false },
      file_output: { enabled: true, filename: path, ...file },
      ...extra,
    }),
    { log: logs.log, hostname: "node-1" },
  );
}

describe("opening the alert file", () => {
  test("creates it 0600 and appends whole JSON lines in order", async () => {
    const path = fresh();
    const out = fileOutputs(path);
    for (const i of range(0, 100)) out.publish(makeAlert(i));
    await out.shutdown(1000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(lines(path).map(seqOf)).toEqual(range(0, 100));
  });

  test("a symlink planted at the path is refused and its target untouched", () => {
    const target = join(dir, "precious");
    writeFileSync(target, "keep me\n");
    const path = fresh();
    symlinkSync(target, path);
    expect(() => fileOutputs(path)).toThrow(`refusing alert file '${path}': it is a symbolic link`);
    expect(readFileSync(target, "utf8")).toBe("keep me\n");
  });

  test("a file owned by another user is refused", () => {
    const path = fresh();
    writeFileSync(path, "");
    chownSync(path, 65534, 65534);
    expect(() => openAlertFile(path)).toThrow("it belongs to uid 65534, not to the agent's uid 0");
  });

  test("a hard link to another file is refused", () => {
    const target = join(dir, "linked-target");
    writeFileSync(target, "");
    const path = fresh();
    linkSync(target, path);
    expect(() => openAlertFile(path)).toThrow("it has 2 hard links");
  });

  test("a directory, or a missing parent, is a clear error naming the path", () => {
    const d = join(dir, "a-dir");
    mkdirSync(d);
    expect(() => openAlertFile(d)).toThrow(`cannot open alert file '${d}'`);
    expect(() => openAlertFile(join(dir, "nope", "x"))).toThrow("cannot open alert file");
  });
});

describe("logrotate and rotation", () => {
  test("after a rename, alerts go to a new file at the path; the renamed file keeps the old ones", async () => {
    const path = fresh();
    const out = fileOutputs(path);
    for (const i of range(0, 10)) out.publish(makeAlert(i));
    await until(() => existsSync(path) && lines(path).length === 10);
    renameSync(path, `${path}.rotated`);
    for (const i of range(10, 20)) out.publish(makeAlert(i));
    await until(() => existsSync(path) && lines(path).length === 10);
    expect(lines(`${path}.rotated`).map(seqOf)).toEqual(range(0, 10));
    expect(lines(path).map(seqOf)).toEqual(range(10, 20));
    unlinkSync(path);
    for (const i of range(20, 25)) out.publish(makeAlert(i));
    await until(() => existsSync(path) && lines(path).length === 5);
    expect(metricValue(out.metrics(), "output_file_reopened_moved_total")).toBe(2);
    await out.shutdown(1000);
  });

  test("rotation by size keeps N files and loses nothing", async () => {
    const path = fresh();
    const out = fileOutputs(path, { max_bytes: 4096, keep: 3 });
    for (const i of range(0, 60)) {
      out.publish(makeAlert(i));
      await Bun.sleep(0);
    }
    await out.shutdown(1000);
    expect(existsSync(`${path}.4`)).toBe(false);
    const all = [`${path}.3`, `${path}.2`, `${path}.1`, path].filter(existsSync).flatMap(lines).map(seqOf);
    for (const f of [`${path}.1`, path]) expect(statSync(f).size).toBeLessThanOrEqual(4096);
    // The oldest rotated files beyond keep=3 are deleted; what is kept is the newest, in order.
    expect(all).toEqual(range(60 - all.length, 60));
    expect(metricValue(out.metrics(), "output_file_rotations_total")).toBeGreaterThanOrEqual(3);
  });

  test("SIGUSR1 to a real process reopens the file and does not kill it", async () => {
    const path = fresh();
    const child = new OutputsChild({
      stdout_output: { enabled: false },
      file_output: { enabled: true, filename: path },
    });
    try {
      await child.wait("ready");
      await child.send("publish 0 5", "published");
      await until(() => existsSync(path) && lines(path).length === 5);
      child.signal("SIGUSR1");
      await until(() => true);
      await child.send("publish 5 10", "published");
      await until(() => lines(path).length === 10);
      const m = await child.metrics();
      expect(metricValue(m, "output_file_reopen_requests_total")).toBe(1);
      expect(lines(path).map(seqOf)).toEqual(range(0, 10));
      child.signal("SIGTERM");
      expect(await child.exited).toBe(0);
    } finally {
      child.kill();
    }
  });
});

describe("a full disk (a real 64 KiB tmpfs)", () => {
  test("never leaves a partial line; alerts wait and are written when space returns", async () => {
    const mnt = join(dir, "tmpfs");
    mkdirSync(mnt);
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
    if (mount.exitCode !== 0) throw new Error(`mount tmpfs failed: ${mount.stderr.toString()}`);
    let out: Outputs | undefined;
    try {
      const filler = join(mnt, "filler");
      writeFileSync(filler, Buffer.alloc(40 * 1024));
      const path = join(mnt, "alerts.jsonl");
      const o = fileOutputs(path);
      out = o;
      const total = 120; // about 45 KiB of alerts: more than the 24 KiB left, less than 64 KiB
      for (const i of range(0, total)) o.publish(makeAlert(i));
      await until(() => (o.stats()[0]?.failures ?? 0) > 0, 10_000, "a failed write");
      // Every line in the file is whole, and they are the first alerts in order.
      const before = readFileSync(path, "utf8");
      expect(before.endsWith("\n")).toBe(true);
      const partial = lines(path).map(seqOf);
      expect(partial).toEqual(range(0, partial.length));
      expect(partial.length).toBeLessThan(total);
      unlinkSync(filler);
      await until(() => o.stats()[0]?.delivered === total, 20_000, "all alerts after space returned");
      expect(lines(path).map(seqOf)).toEqual(range(0, total));
      expect(metricValue(o.metrics(), "output_file_truncated_writes_total")).toBeGreaterThanOrEqual(1);
    } finally {
      await out?.shutdown(100);
      Bun.spawnSync(["umount", mnt]);
    }
  });
});

describe("batch bytes", () => {
  test("each batch is written as its lines joined by newlines, UTF-8, whatever the characters and sizes", async () => {
    const path = fresh();
    const sink = new FileTransport({ path, maxBytes: 0, keep: 1, fsync: false });
    const batches: string[][] = [
      ["plain", "", "été 日本 🦀", "lone \ud800 high", "lone \udc00 low", "\ud83e\udd80 pair"],
      // Larger than the kept encoding buffer (4 MiB bound): encoded on its own.
      ["x".repeat(1 << 20), "é".repeat(1 << 20)],
      ["after the big one", "\u0000 nul"],
      [],
      // Growing past the buffer the first batches left.
      range(0, 2000).map((i) => `line ${i} ${"ü".repeat(i % 50)}`),
    ];
    for (const b of batches) await sink.writeBatch(b);
    await sink.close();
    const want = Buffer.concat(batches.map((b) => Buffer.from(`${b.join("\n")}\n`, "utf8")));
    expect(Buffer.compare(readFileSync(path), want)).toBe(0);
  });
});
