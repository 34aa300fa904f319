// The disk spool (agent/outputs/spool.ts) on a real directory: order across prepend/append and a
// reopen, the size cap, a crash's temporary file ignored, a damaged batch moved aside and counted,
// and a directory that is not the agent's refused. Also the bounded line queue (queue.ts).

import { afterAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineQueue, lineBytes } from "../../agent/outputs/queue.ts";
import { decodeBatch, encodeBatch, Spool } from "../../agent/outputs/spool.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-spool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `s${++n}`);

/** Drains a spool, oldest first. */
function drain(s: Spool): string[][] {
  const out: string[][] = [];
  for (let b = s.head(); b !== undefined; b = s.head()) {
    out.push(b);
    s.removeHead();
  }
  return out;
}

describe("Spool", () => {
  test("batches come back oldest first, a prepended batch before them, and survive a reopen", () => {
    const d = fresh();
    const s = new Spool(d, 1 << 20);
    expect(s.append(["b1", "b2"])).toBe(true);
    expect(s.append(["c1"])).toBe(true);
    expect(s.prepend(["a1"])).toBe(true);
    expect(s.batches).toBe(3);
    const again = new Spool(d, 1 << 20);
    expect(again.bytes).toBe(s.bytes);
    expect(drain(again)).toEqual([["a1"], ["b1", "b2"], ["c1"]]);
    expect(again.bytes).toBe(0);
    expect(readdirSync(d)).toEqual([]);
  });

  test("replaceHead keeps the undelivered rest in place", () => {
    const s = new Spool(fresh(), 1 << 20);
    s.append(["1", "2", "3"]);
    s.append(["4"]);
    s.replaceHead(["3"]);
    expect(drain(s)).toEqual([["3"], ["4"]]);
  });

  test("the cap refuses a batch whole, and a forced prepend may pass it", () => {
    const s = new Spool(fresh(), 4096);
    const line = "x".repeat(1000);
    let accepted = 0;
    while (s.append([line])) accepted++;
    expect(accepted).toBe(3);
    expect(s.bytes).toBeLessThanOrEqual(4096);
    expect(s.prepend([line])).toBe(false);
    expect(s.prepend([line], true)).toBe(true);
    expect(s.batches).toBe(4);
  });

  test("a crash's temporary file is removed, a damaged batch is moved aside and counted", () => {
    const d = fresh();
    const s = new Spool(d, 1 << 20);
    s.append(["good-1"]);
    s.append(["torn-1", "torn-2", "torn-3"]);
    s.append(["good-2"]);
    const [, torn] = readdirSync(d).sort();
    truncateSync(join(d, torn as string), 40);
    writeFileSync(join(d, "0000000000000099.batch.tmp"), "half a batch");
    const after = new Spool(d, 1 << 20);
    expect(existsSync(join(d, "0000000000000099.batch.tmp"))).toBe(false);
    expect(drain(after)).toEqual([["good-1"], ["good-2"]]);
    expect(after.corrupt).toBe(1);
    expect(after.corruptAlerts).toBe(3);
    expect(readdirSync(d).filter((f) => f.endsWith(".corrupt")).length).toBe(1);
  });

  test("the framing rejects any change to a batch", () => {
    const text = encodeBatch(['{"a":1}', "ünï"]);
    expect(decodeBatch(text)).toEqual(['{"a":1}', "ünï"]);
    expect(decodeBatch(text.replace("1", "2"))).toBeUndefined();
    expect(decodeBatch(text.slice(0, -1))).toBeUndefined();
    expect(decodeBatch("garbage")).toBeUndefined();
    expect(decodeBatch(encodeBatch([]))).toEqual([]);
  });

  test("a symlinked or foreign directory is refused", () => {
    const real = fresh();
    mkdirSync(real);
    const link = fresh();
    symlinkSync(real, link);
    expect(() => new Spool(link, 4096)).toThrow("is not a directory (or is a symlink)");
    const foreign = fresh();
    mkdirSync(foreign);
    chownSync(foreign, 65534, 65534);
    expect(() => new Spool(foreign, 4096)).toThrow("belongs to uid 65534");
  });
});

describe("LineQueue", () => {
  test("is bounded by count and by bytes, and takes batches oldest first", () => {
    const q = new LineQueue(3, 100);
    expect(lineBytes("ü")).toBe(3);
    for (const l of ["a", "b", "c"]) {
      expect(q.fits(lineBytes(l))).toBe(true);
      q.push(l, lineBytes(l));
    }
    expect(q.fits(2)).toBe(false);
    expect(q.take(2, 100)).toEqual(["a", "b"]);
    const big = "x".repeat(90);
    expect(q.fits(lineBytes(big))).toBe(true);
    q.push(big, lineBytes(big));
    expect(q.fits(lineBytes("yyyyyyyyyy"))).toBe(false);
    expect(q.bytes).toBe(2 + 91);
    expect(q.peek(10, 10)).toEqual(["c"]);
    expect(q.shift()).toBe("c");
    expect(q.takeAll()).toEqual([big]);
    expect(q.count).toBe(0);
    expect(q.bytes).toBe(0);
    expect(() => new LineQueue(0, 10)).toThrow(RangeError);
  });

  test("a long run of push and take keeps count and bytes exact", () => {
    const q = new LineQueue(10_000, 1 << 20);
    let expected = 0;
    for (let i = 0; i < 50_000; i++) {
      const l = `line-${i}`;
      q.push(l, lineBytes(l));
      expected++;
      if (i % 3 === 0) expected -= q.take(2, 1 << 20).length;
    }
    expect(q.count).toBe(expected);
    expect(q.takeAll().length).toBe(expected);
  });
});
