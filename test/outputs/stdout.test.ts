// The stdout transport in this process (the whole agent with a stalled stdout runs in a
// subprocess in process.test.ts, where coverage is not counted).
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StdoutTransport } from "../../agent/outputs/stdout.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-stdout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("fd 1: a batch is written as lines and resolves; transports share one writer; close is harmless", async () => {
  const a = new StdoutTransport();
  const b = new StdoutTransport();
  expect(a.name).toBe("stdout");
  const signal = new AbortController().signal;
  expect(await a.writeBatch(["[stdout transport test line 1]"], signal)).toBe(0);
  expect(await b.writeBatch(["[stdout transport test line 2]"], signal)).toBe(0);
  await a.close();
  await b.close();
});

test("a reader that stalls: the batch waits without blocking the event loop, and an abort ends it with a clear error", async () => {
  // A real FIFO whose reader never reads: the pipe fills and the flush stays pending.
  const fifo = join(dir, "stalled");
  expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const transport = new StdoutTransport(Bun.file(fifo).writer());
  const line = "x".repeat(1023);
  const batch = Array.from({ length: 1024 }, () => line); // 1 MiB: far more than a pipe holds
  const abort = new AbortController();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const pending = transport.writeBatch(batch, abort.signal);
  await Bun.sleep(100);
  expect(ticks).toBeGreaterThan(3); // the event loop kept running while the batch waited
  abort.abort();
  await expect(pending).rejects.toThrow("standard output is not being read");
  clearInterval(timer);
  // The reader gets whole lines of what was written so far.
  const buf = Buffer.alloc(4096);
  const n = readSync(readEnd, buf);
  expect(buf.subarray(0, n).toString()).toStartWith(line);
  closeSync(readEnd);
});
