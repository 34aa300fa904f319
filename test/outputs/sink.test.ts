// Alert delivery (agent/outputs/sink.ts, writers.ts, router.ts): the bounded queue and its drop
// count, lines written in order to a real 0600 file, real write failures (a full device, a closed
// fd) counted and reported once per distinct error, and the router's asynchronous drain and flush.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Alert, DEFAULT_ALERT_FORMAT, formatAlert } from "../../agent/outputs/alert.ts";
import { OutputRouter } from "../../agent/outputs/router.ts";
import { BoundedSink } from "../../agent/outputs/sink.ts";
import { FileWriter } from "../../agent/outputs/writers.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
const freshPath = () => join(dir, `alerts-${++fileCount}.jsonl`);
const lines = (path: string) => readFileSync(path, "utf8").split("\n").slice(0, -1);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Collects onError reports. */
function reports(): { calls: [string, string][]; onError: (sink: string, message: string) => void } {
  const calls: [string, string][] = [];
  return { calls, onError: (sink, message) => calls.push([sink, message]) };
}

describe("FileWriter", () => {
  test("creates the file with mode 0600 and appends one line per write", () => {
    const path = freshPath();
    const w = new FileWriter(path);
    w.write("first");
    w.write('{"second":"ünïcödé"}');
    w.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe('first\n{"second":"ünïcödé"}\n');
    expect(w.name).toBe(`file:${path}`);
  });

  test("appends to an existing file and leaves its mode alone", () => {
    const path = freshPath();
    writeFileSync(path, "old\n", { mode: 0o640 });
    const w = new FileWriter(path);
    w.write("new");
    w.close();
    expect(readFileSync(path, "utf8")).toBe("old\nnew\n");
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  test("a path that cannot be opened throws at construction, naming the path", () => {
    const path = join(dir, "no-such-dir", "alerts.jsonl");
    expect(() => new FileWriter(path)).toThrow(path);
  });

  test("a long line is written whole", () => {
    const path = freshPath();
    const w = new FileWriter(path);
    const long = "x".repeat(1 << 20);
    w.write(long);
    w.close();
    expect(lines(path)).toEqual([long]);
  });
});

describe("BoundedSink: the queue", () => {
  test.each([0, -1, 2.5])("capacity %p is rejected", (capacity) => {
    const path = freshPath();
    const w = new FileWriter(path);
    try {
      expect(() => new BoundedSink(w, capacity)).toThrow(RangeError);
    } finally {
      w.close();
    }
  });

  test("filling past capacity drops the newest lines and counts exactly how many", () => {
    const path = freshPath();
    const sink = new BoundedSink(new FileWriter(path), 4);
    const accepted = Array.from({ length: 11 }, (_, i) => sink.offer(`line ${i}`));
    expect(accepted).toEqual([true, true, true, true, false, false, false, false, false, false, false]);
    expect(sink.stats()).toEqual({
      name: `file:${path}`,
      queued: 4,
      capacity: 4,
      written: 0,
      droppedQueueFull: 7,
      failedWrites: 0,
    });
    // Nothing reaches the file before a drain.
    expect(readFileSync(path, "utf8")).toBe("");
    sink.drain();
    expect(lines(path)).toEqual(["line 0", "line 1", "line 2", "line 3"]);
    expect(sink.stats()).toMatchObject({ queued: 0, written: 4, droppedQueueFull: 7 });
    // After a drain there is room again.
    expect(sink.offer("line 11")).toBe(true);
    sink.close();
    expect(lines(path)).toEqual(["line 0", "line 1", "line 2", "line 3", "line 11"]);
    expect(sink.stats()).toMatchObject({ queued: 0, written: 5, droppedQueueFull: 7, failedWrites: 0 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("drained lines keep their order across several drains", () => {
    const path = freshPath();
    const sink = new BoundedSink(new FileWriter(path), 1000);
    const expected: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) {
        const line = `{"round":${round},"i":${i}}`;
        expected.push(line);
        sink.offer(line);
      }
      sink.drain();
    }
    sink.close();
    expect(lines(path)).toEqual(expected);
    expect(sink.stats().written).toBe(500);
  });

  test("close drains what is queued, then closes the writer", () => {
    const path = freshPath();
    const sink = new BoundedSink(new FileWriter(path), 8);
    sink.offer("a");
    sink.offer("b");
    sink.close();
    expect(lines(path)).toEqual(["a", "b"]);
    // The fd is closed: a later line cannot be written and is counted as failed.
    sink.offer("c");
    sink.drain();
    expect(sink.stats()).toMatchObject({ written: 2, failedWrites: 1 });
    expect(lines(path)).toEqual(["a", "b"]);
  });
});

describe("BoundedSink: write failures", () => {
  test("a full device (ENOSPC) fails every write, counted, reported once", () => {
    const { calls, onError } = reports();
    const sink = new BoundedSink(new FileWriter("/dev/full"), 16, onError);
    for (let i = 0; i < 5; i++) sink.offer(`line ${i}`);
    sink.drain();
    sink.offer("again");
    sink.drain();
    expect(sink.stats()).toMatchObject({ written: 0, failedWrites: 6, queued: 0, droppedQueueFull: 0 });
    expect(calls.length).toBe(1);
    expect(calls[0][0]).toBe("file:/dev/full");
    expect(calls[0][1]).toContain("ENOSPC");
  });

  test("a second, different error is reported once more", () => {
    const { calls, onError } = reports();
    const writer = new FileWriter("/dev/full");
    const sink = new BoundedSink(writer, 16, onError);
    for (let i = 0; i < 3; i++) sink.offer(`full ${i}`);
    sink.drain();
    // Close the fd under the sink: the next writes fail with EBADF instead. Nothing opens a file
    // between this close and the drain, so the fd number cannot have been reused.
    writer.close();
    for (let i = 0; i < 3; i++) sink.offer(`closed ${i}`);
    sink.drain();
    expect(sink.stats()).toMatchObject({ written: 0, failedWrites: 6 });
    expect(calls.map(([, m]) => m.split(":")[0])).toEqual(["ENOSPC", "EBADF"]);
    expect(calls.every(([name]) => name === "file:/dev/full")).toBe(true);
  });

  test("failures do not stop the following lines from being tried", () => {
    // A writer whose file is closed halfway is the real failure; the sink goes on line by line.
    const path = freshPath();
    const writer = new FileWriter(path);
    const { calls, onError } = reports();
    const sink = new BoundedSink(writer, 16, onError);
    sink.offer("ok 1");
    sink.offer("ok 2");
    sink.drain();
    writer.close();
    sink.offer("lost 1");
    sink.offer("lost 2");
    sink.offer("lost 3");
    sink.drain();
    expect(lines(path)).toEqual(["ok 1", "ok 2"]);
    expect(sink.stats()).toMatchObject({ written: 2, failedWrites: 3, queued: 0 });
    expect(calls.length).toBe(1);
    expect(calls[0][1]).toContain("EBADF");
  });
});

function alert(rule: string): Alert {
  return {
    time: { sec: 1_700_000_000, nsec: 1 },
    rule,
    priority: "Warning",
    message: `msg ${rule}`,
    outputFields: { "proc.name": "cat" },
    source: "syscall",
    tags: [],
    hostname: "h",
  };
}

describe("OutputRouter", () => {
  test("publish queues; the file is written on the next turn of the event loop", async () => {
    const path = freshPath();
    const router = new OutputRouter([new BoundedSink(new FileWriter(path), 100)], DEFAULT_ALERT_FORMAT);
    router.publish(alert("one"));
    router.publish(alert("two"));
    expect(readFileSync(path, "utf8")).toBe("");
    expect(router.stats()[0]).toMatchObject({ queued: 2, written: 0 });
    await nextTurn();
    expect(lines(path)).toEqual([
      formatAlert(alert("one"), DEFAULT_ALERT_FORMAT),
      formatAlert(alert("two"), DEFAULT_ALERT_FORMAT),
    ]);
    expect(router.stats()[0]).toMatchObject({ queued: 0, written: 2 });
    router.publish(alert("three"));
    await nextTurn();
    expect(lines(path).length).toBe(3);
    router.close();
  });

  test("close() flushes synchronously what is still queued", () => {
    const path = freshPath();
    const router = new OutputRouter([new BoundedSink(new FileWriter(path), 100)], DEFAULT_ALERT_FORMAT);
    router.publish(alert("a"));
    router.publish(alert("b"));
    router.close();
    expect(lines(path).map((l) => JSON.parse(l).rule)).toEqual(["a", "b"]);
  });

  test("every sink gets every alert; a full sink drops on its own", async () => {
    const big = freshPath();
    const small = freshPath();
    const router = new OutputRouter(
      [new BoundedSink(new FileWriter(big), 100), new BoundedSink(new FileWriter(small), 2)],
      { ...DEFAULT_ALERT_FORMAT, json: false },
    );
    for (const r of ["r1", "r2", "r3", "r4"]) router.publish(alert(r));
    await nextTurn();
    expect(lines(big)).toEqual([
      "22:13:20.000000001: Warning msg r1",
      "22:13:20.000000001: Warning msg r2",
      "22:13:20.000000001: Warning msg r3",
      "22:13:20.000000001: Warning msg r4",
    ]);
    expect(lines(small)).toEqual([
      "22:13:20.000000001: Warning msg r1",
      "22:13:20.000000001: Warning msg r2",
    ]);
    expect(router.stats().map((s) => [s.name, s.written, s.droppedQueueFull])).toEqual([
      [`file:${big}`, 4, 0],
      [`file:${small}`, 2, 2],
    ]);
    router.close();
  });

  test("a burst in one turn is drained once, in order", async () => {
    const path = freshPath();
    const router = new OutputRouter([new BoundedSink(new FileWriter(path), 10_000)], {
      ...DEFAULT_ALERT_FORMAT,
      json: false,
    });
    for (let i = 0; i < 1000; i++) router.publish(alert(`r${i}`));
    await nextTurn();
    const written = lines(path);
    expect(written.length).toBe(1000);
    expect(written[0]).toEndWith("msg r0");
    expect(written[999]).toEndWith("msg r999");
    router.close();
  });

  test("a failing sink does not stop the others", async () => {
    const good = freshPath();
    const { calls, onError } = reports();
    const router = new OutputRouter(
      [new BoundedSink(new FileWriter("/dev/full"), 10, onError), new BoundedSink(new FileWriter(good), 10)],
      DEFAULT_ALERT_FORMAT,
    );
    router.publish(alert("x"));
    router.publish(alert("y"));
    await nextTurn();
    expect(lines(good).length).toBe(2);
    expect(router.stats().map((s) => s.failedWrites)).toEqual([2, 0]);
    expect(calls.length).toBe(1);
    router.close();
  });

  test("no sinks: publishing is harmless", async () => {
    const router = new OutputRouter([], DEFAULT_ALERT_FORMAT);
    router.publish(alert("x"));
    await nextTurn();
    expect(router.stats()).toEqual([]);
    router.close();
  });
});

describe("failure reports", () => {
  test("each distinct failure is reported once however they interleave (A, A, B, A -> A, B)", () => {
    // A fake writer: alternating between two real failure kinds on demand is not practical with
    // real files, and what is tested is the sink's bookkeeping, not the writer.
    const failures = ["disk full", "disk full", "bad fd", "disk full"];
    let i = 0;
    const writer = {
      name: "fake",
      write(): void {
        throw new Error(failures[i++]);
      },
      close(): void {},
    };
    const { calls, onError } = reports();
    const sink = new BoundedSink(writer, 10, onError);
    for (let n = 0; n < 4; n++) sink.offer(`line ${n}`);
    sink.drain();
    expect(calls).toEqual([
      ["fake", "disk full"],
      ["fake", "bad fd"],
    ]);
    expect(sink.stats().failedWrites).toBe(4);
  });
});
