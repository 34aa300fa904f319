// The capture file format (agent/capturefile/): written and read back byte for byte; limits;
// every kind of damage (wrong magic, newer versions, truncation, a flipped bit, a bad record) is a
// clear error naming the byte offset, and --skip-bad goes on past it, counting. Files are real
// files in a temporary directory; records are the probe's exact bytes (test/events/record-encoder.ts).

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  BLOCK,
  CaptureFileError,
  type CaptureHeader,
  CaptureReader,
  CaptureWriter,
  type Compression,
  eventTableHash,
  FORMAT_VERSION,
} from "../../agent/capturefile/index.ts";
import { SCHEMA_VERSION } from "../../agent/events/index.ts";
import { argsBlob, execRecord, openRecord } from "../events/record-encoder.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const dir = mkdtempSync(join(tmpdir(), "lanner-capfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER: CaptureHeader = {
  schemaVersion: SCHEMA_VERSION,
  eventTableHash: eventTableHash(),
  agentVersion: "0.1.0",
  hostname: "node-7",
  kernelRelease: "6.1.0-test",
  bootTime: [1_700_000_000, 250_000_000],
  startTime: [1_700_000_100, 0],
  reason: "command",
  detail: "",
};
const SNAPSHOT = {
  processes: [
    {
      pid: 400,
      ppid: 1,
      comm: "nginx",
      exe: "nginx",
      exepath: "/usr/sbin/nginx",
      args: ["-g", "daemon off;"],
      uid: 0,
      gid: 0,
      cgroup: "/",
      startBootNs: 5e9,
      cwd: "/srv",
    },
  ],
  paths: [{ pid: 400, cwd: "/srv", fds: [[3, "/var/log/nginx/access.log"]] }],
  users: [[0, "root", "/root", "/bin/sh"]],
  groups: [[0, "root"]],
};
const exec = execRecord({
  pid: 500,
  tid: 500,
  ppid: 400,
  comm: "cat",
  filename: "/bin/cat",
  argsBlob: argsBlob(["cat", "shadow"]),
});
const open = openRecord({ pid: 500, tid: 500, path: "shadow", res: 3, bootSec: 101, bootNsec: 9 });

let n = 0;
function write(records: Uint8Array[], compression: Compression = "none", limits = {}, close = true): string {
  const path = join(dir, `f${++n}.lcap`);
  const w = new CaptureWriter(path, HEADER, SNAPSHOT, compression, limits);
  for (const r of records) w.addRecord(r, 0, r.length);
  w.addStats({ at: [101, 0], seen: 9, written: 8, ringFull: 1, tooBig: 0 });
  if (close) w.close("signal");
  else w.flush();
  return path;
}

function readAll(path: string, skipBad = false) {
  const r = new CaptureReader(path, { skipBad });
  const records: number[][] = [];
  for (let b = r.nextRecords(); b !== undefined; b = r.nextRecords()) {
    let off = 0;
    for (let i = 0; i < b.count; i++) {
      const len = new DataView(b.frames.buffer, b.frames.byteOffset + off).getUint32(0, true);
      records.push([...b.frames.subarray(off + 4, off + 4 + len)]);
      off += 4 + len;
    }
  }
  r.close();
  return { reader: r, records };
}

function replayCli(path: string, ...extra: string[]) {
  const p = Bun.spawnSync(
    [
      BUN,
      "agent/main.ts",
      "replay",
      path,
      "-o",
      "file_output.enabled=false",
      "-o",
      "stdout_output.enabled=false",
      ...extra,
    ],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 30_000,
    },
  );
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** Offset of the first records block's first record in an uncompressed file. */
function firstRecordOffset(path: string): number {
  const r = new CaptureReader(path);
  const b = r.nextRecords();
  r.close();
  if (b === undefined) throw new Error("no records");
  return b.framesOffset + 4;
}

describe("round trip", () => {
  test.each(["none", "gzip", "zstd"] as const)(
    "%s: header, snapshot, records, stats and end come back as written",
    (compression) => {
      const path = write([exec, open, exec], compression);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const { reader, records } = readAll(path);
      expect(reader.formatVersion).toBe(FORMAT_VERSION);
      expect(reader.header).toEqual(HEADER);
      expect(reader.snapshot).toEqual(SNAPSHOT);
      expect(records).toEqual([[...exec], [...open], [...exec]]);
      expect(reader.lastStats).toEqual({ at: [101, 0], seen: 9, written: 8, ringFull: 1, tooBig: 0 });
      // header, snapshot, records, stats, end.
      expect(reader.end).toEqual({ records: 3, blocks: 5, stoppedBy: "signal" });
    },
  );

  test.each(["none", "gzip", "zstd"] as const)(
    "%s: blocks of 1 MB after small ones (the read buffer grows from 64 KB) come back as written",
    (compression) => {
      // Records with distinct paths, so the compressed blocks are not tiny either.
      const many = Array.from({ length: 40_000 }, (_, i) =>
        openRecord({ pid: 500, tid: 500, path: `/data/${i.toString(36).repeat(3)}`, res: 3, bootSec: 101 }),
      );
      const path = write([exec, ...many, exec], compression);
      const { reader, records } = readAll(path);
      expect(records.length).toBe(many.length + 2);
      expect(records[1]).toEqual([...many[0]]);
      expect(records[many.length]).toEqual([...many[many.length - 1]]);
      expect(reader.end?.records).toBe(many.length + 2);
    },
    30_000,
  );

  test("the file starts with the magic and the format version, then the header block", () => {
    const bytes = readFileSync(write([exec]));
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x4c, 0x4e, 0x52, 0x43, 0x41, 0x50, 0x0a]);
    expect(bytes[8] | (bytes[9] << 8)).toBe(FORMAT_VERSION);
    expect(new TextDecoder().decode(bytes.subarray(12, 16))).toBe("LBLK");
    expect(bytes[16]).toBe(BLOCK.header);
  }, 30_000);

  test("max-events and max-size stop the file growing; a file not closed still reads, without an end", () => {
    const many = Array.from({ length: 50 }, () => open);
    expect(readAll(write(many, "none", { maxRecords: 7 })).records.length).toBe(7);
    const w = new CaptureWriter(join(dir, "size.lcap"), HEADER, SNAPSHOT, "none", { maxBytes: 2000 });
    let accepted = 0;
    for (let i = 0; i < 1000; i++) if (w.addRecord(open, 0, open.length)) accepted++;
    expect(w.full).toBe("max_size");
    w.close("max_size");
    expect(accepted).toBeLessThan(1000);
    expect(statSync(join(dir, "size.lcap")).size).toBeLessThan(2000 + 1024 * 1024);
    const unclosed = readAll(write([exec, open], "none", {}, false));
    expect(unclosed.records.length).toBe(2);
    expect(unclosed.reader.end).toBeUndefined();
  }, 30_000);

  test("the writer refuses to follow a symlink at the capture path", () => {
    const target = join(dir, "target");
    writeFileSync(target, "keep");
    symlinkSync(target, join(dir, "link.lcap"));
    expect(() => new CaptureWriter(join(dir, "link.lcap"), HEADER, SNAPSHOT)).toThrow(/ELOOP|symbolic/);
    expect(readFileSync(target, "utf8")).toBe("keep");
  }, 30_000);
});

describe("damage: clear errors with byte offsets", () => {
  test("not a capture file", () => {
    const path = join(dir, "text.lcap");
    writeFileSync(path, "hello world, this is not a capture");
    expect(() => new CaptureReader(path)).toThrow(`${path}: at byte 0: not a Lanner capture file`);
  }, 30_000);

  test("a newer format version names both versions", () => {
    const bytes = readFileSync(write([exec]));
    bytes[8] = FORMAT_VERSION + 1;
    const path = join(dir, "newer-format.lcap");
    writeFileSync(path, bytes);
    expect(() => new CaptureReader(path)).toThrow(
      `at byte 8: capture format version ${FORMAT_VERSION + 1} is not readable by this agent, which reads format versions 1 to ${FORMAT_VERSION}`,
    );
  }, 30_000);

  test("a newer event schema names both versions, through the command line (exit 1)", () => {
    const path = join(dir, "newer-schema.lcap");
    new CaptureWriter(
      path,
      { ...HEADER, schemaVersion: SCHEMA_VERSION + 1, agentVersion: "9.9.9" },
      SNAPSHOT,
    ).close("signal");
    const r = replayCli(path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `at byte 12: the records use event schema version ${SCHEMA_VERSION + 1} (lanner 9.9.9); this agent decodes versions up to ${SCHEMA_VERSION}`,
    );
    expect(r.stderr).not.toContain("    at ");
  }, 30_000);

  test("a truncated file: the offset of the cut block; --skip-bad keeps what came before", () => {
    const whole = readFileSync(write([exec, open]));
    const path = join(dir, "cut.lcap");
    writeFileSync(path, whole.subarray(0, whole.length - 10));
    expect(() => readAll(path)).toThrow(
      /at byte \d+: truncated: the end block announces \d+ bytes, \d+ left/,
    );
    const kept = readAll(path, true);
    expect(kept.records.length).toBe(2);
    expect(kept.reader.badBlocks).toBe(1);
  }, 30_000);

  test("a block announcing more than the largest cap is refused before anything is read or allocated", () => {
    const path = write([exec]);
    const bytes = readFileSync(path);
    const blockAt = firstRecordOffset(path) - 4 - 4 - 16;
    // The records block's stored length (u32 LE at +8 of its header): 4 MiB + 64 KiB + 1.
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(
      blockAt + 8,
      4 * 1024 * 1024 + 64 * 1024 + 1,
      true,
    );
    writeFileSync(path, bytes);
    expect(() => readAll(path)).toThrow(
      `at byte ${blockAt}: records block of 4259841 bytes, more than its cap of 4194304`,
    );
  });

  test("a flipped bit in a records block fails its CRC; --skip-bad resynchronises on the next block", () => {
    const path = write([exec]);
    const bytes = readFileSync(path);
    const at = firstRecordOffset(path);
    bytes[at + 3] ^= 0x40;
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      readAll(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CaptureFileError);
    expect((error as CaptureFileError).offset).toBe(at - 4 - 4 - 16);
    expect((error as CaptureFileError).message).toContain("records block fails its CRC-32 check");
    const skipped = readAll(path, true);
    expect(skipped.records.length).toBe(0);
    expect(skipped.reader.badBlocks).toBe(1);
    expect(skipped.reader.end?.records).toBe(1);
  }, 30_000);

  test("a malformed record (valid block): replay exits 1 naming the record's byte; --skip-bad counts it", () => {
    const bad = Uint8Array.from([0x93, 0x01, 0x02, 0x03]);
    const path = write([exec, bad, open]);
    const at = firstRecordOffset(path) + exec.length + 4;
    const strict = replayCli(path);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`at byte ${at}: malformed record: `);
    expect(strict.stderr).toContain("--skip-bad");
    const skipping = replayCli(path, "--skip-bad", "--json");
    expect(skipping.code).toBe(0);
    const summary = JSON.parse(skipping.stdout.trim());
    expect(summary).toMatchObject({
      records: 3,
      events: 2,
      malformed_records: 1,
      bad_blocks: 0,
      closed: true,
    });
    expect(summary.kernel_drops_recorded).toEqual({ ring_full: 1, too_big: 0 });
  }, 30_000);

  test("a file that cannot be opened is exit 2; a missing FILE is a usage error", () => {
    expect(replayCli(join(dir, "absent.lcap")).code).toBe(2);
    const p = Bun.spawnSync([BUN, "agent/main.ts", "replay"], { cwd: ROOT, stderr: "pipe" });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("missing the capture FILE");
  }, 30_000);

  test("a bad state snapshot names the field", () => {
    const path = join(dir, "bad-snapshot.lcap");
    new CaptureWriter(path, HEADER, {
      ...SNAPSHOT,
      processes: [{ ...SNAPSHOT.processes[0], pid: -4 }],
    }).close("signal");
    const r = replayCli(path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("state snapshot block: snapshot.processes.0.pid:");
  }, 30_000);
});

test("the replay starts from the snapshot: a process that existed before the capture, its parent, user and cwd", () => {
  const rules = join(dir, "r.yaml");
  writeFileSync(
    rules,
    "- rule: Open\n  desc: d\n  condition: evt.type = openat\n  output: '%fd.name %proc.name %proc.cmdline %proc.pname %user.name'\n  priority: NOTICE\n",
  );
  // nginx and its parent are only in the snapshot; nginx opens a path relative to its cwd there.
  const init = {
    ...SNAPSHOT.processes[0],
    pid: 1,
    ppid: 0,
    comm: "systemd",
    exe: "/sbin/init",
    exepath: "/sbin/init",
    args: [],
    cwd: "/",
  };
  const path = join(dir, "from-snapshot.lcap");
  const w = new CaptureWriter(path, HEADER, { ...SNAPSHOT, processes: [init, ...SNAPSHOT.processes] });
  const rel = openRecord({ pid: 400, tid: 400, path: "conf/../shadow", res: 5, bootSec: 101, bootNsec: 9 });
  w.addRecord(rel, 0, rel.length);
  w.close("signal");
  const r = Bun.spawnSync(
    [BUN, "agent/main.ts", "replay", path, "-r", rules, "-o", "file_output.enabled=false"],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  expect(r.exitCode).toBe(0);
  const alert = JSON.parse(r.stdout.toString().trim());
  expect(alert.output).toContain("/srv/shadow nginx nginx -g daemon off; systemd root");
  expect(alert.hostname).toBe("node-7");
  // Boot time 1700000000.25 + 101.000000009 s.
  expect(alert.time).toBe("2023-11-14T22:15:01.250000009Z");
}, 30_000);
