// The fd table (agent/state/fd-table.ts) against the behaviour it replaced, a Map per process:
// insertion order (fd.types, and which fd a full table drops first), replacement in place, the
// per-process and total caps, forked copies and close-on-exec, over dense and large fd numbers.

import { describe, expect, test } from "bun:test";
import { FdTable } from "../../agent/state/fd-table.ts";
import { FdBudget, type FdInfo, newFd } from "../../agent/state/fds.ts";

function fd(num: number, cloexec = false, name = `/f/${num}`): FdInfo {
  const f = newFd(num, "file", name, name);
  f.cloexec = cloexec;
  return f;
}

/** The reference: Map semantics, as the table kept its fds before (oldest first, replace in place). */
class MapModel {
  byNum = new Map<number, FdInfo>();
  constructor(readonly budget: { perProcess: number; totalCap: number; total: number; evicted: number }) {}
  set(f: FdInfo): void {
    if (f.num < 0) return;
    if (this.byNum.has(f.num)) {
      this.byNum.set(f.num, f);
      return;
    }
    while (this.byNum.size >= this.budget.perProcess || this.budget.total >= this.budget.totalCap) {
      const oldest = this.byNum.keys().next();
      if (oldest.done === true) {
        this.budget.evicted++;
        return;
      }
      this.delete(oldest.value);
      this.budget.evicted++;
    }
    this.byNum.set(f.num, f);
    this.budget.total++;
  }
  delete(num: number): void {
    if (this.byNum.delete(num)) this.budget.total--;
  }
}

/** A small deterministic generator (xorshift), so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe("FdTable", () => {
  test("lists fds oldest first; a replaced fd keeps its place, a closed and reopened one goes last", () => {
    const t = new FdTable(new FdBudget(100, 1000));
    for (const n of [5, 3, 2000, 7]) t.set(fd(n));
    t.set(fd(3, false, "/replaced"));
    t.delete(5);
    t.set(fd(5, false, "/again"));
    t.delete(2000);
    t.set(fd(2000, false, "/big"));
    expect(t.values().map((f) => [f.num, f.name])).toEqual([
      [3, "/replaced"],
      [7, "/f/7"],
      [5, "/again"],
      [2000, "/big"],
    ]);
    expect(t.size).toBe(4);
    expect(t.get(3)?.name).toBe("/replaced");
    expect(t.get(4)).toBeUndefined();
    expect(t.get(-1)).toBeUndefined();
    expect(t.get(1.5)).toBeUndefined();
    expect(t.get(5000)).toBeUndefined();
  });

  test("a full table drops the fd added longest ago, and counts it", () => {
    const budget = new FdBudget(3, 100);
    const t = new FdTable(budget);
    for (const n of [10, 4, 3000]) t.set(fd(n));
    t.set(fd(10, false, "/kept-in-place"));
    t.set(fd(6));
    expect(t.values().map((f) => f.num)).toEqual([4, 3000, 6]);
    expect(budget.evicted).toBe(1);
    expect(budget.total).toBe(3);
  });

  test("the total cap: a table with nothing to give back does not track the fd", () => {
    const budget = new FdBudget(10, 10);
    const full = new FdTable(budget);
    for (let n = 0; n < 10; n++) full.set(fd(n));
    const other = new FdTable(budget);
    other.set(fd(3));
    expect(other.size).toBe(0);
    expect(budget.evicted).toBe(1);
    full.release();
    expect(budget.total).toBe(0);
    other.set(fd(3));
    expect(other.values().map((f) => f.num)).toEqual([3]);
  });

  test("a fork's copy has the same fds in the same order and counts against the budget", () => {
    const budget = new FdBudget(100, 1000);
    const parent = new FdTable(budget);
    for (const n of [9, 1500, 2, 4]) parent.set(fd(n, n === 2));
    parent.delete(9);
    const child = parent.copy();
    expect(child.values().map((f) => f.num)).toEqual([1500, 2, 4]);
    expect(budget.total).toBe(6);
    child.closeOnExec();
    expect(child.values().map((f) => f.num)).toEqual([1500, 4]);
    expect(parent.values().map((f) => f.num)).toEqual([1500, 2, 4]);
    child.set(fd(9));
    expect(parent.get(9)).toBeUndefined();
  });

  test("a copy that does not fit the total keeps the newest fds the budget allows", () => {
    const budget = new FdBudget(10, 12);
    const parent = new FdTable(budget);
    for (const n of [8, 1, 5000, 3, 2, 7, 6, 0]) parent.set(fd(n));
    const child = parent.copy();
    // Each fd past the total makes room by dropping the copy's own oldest: the newest four remain.
    expect(child.values().map((f) => f.num)).toEqual([2, 7, 6, 0]);
    expect(budget.total).toBe(12);
    expect(budget.evicted).toBe(4);
  });

  test("close_range closes or marks close-on-exec only the fds in the range", () => {
    const t = new FdTable(new FdBudget(100, 1000));
    for (const n of [1, 4, 6, 1200]) t.set(fd(n));
    t.closeRange(4, 1200, true);
    expect(t.values().map((f) => [f.num, f.cloexec])).toEqual([
      [1, false],
      [4, true],
      [6, true],
      [1200, true],
    ]);
    t.closeRange(5, 2000, false);
    expect(t.values().map((f) => f.num)).toEqual([1, 4]);
    t.closeOnExec();
    expect(t.values().map((f) => f.num)).toEqual([1]);
  });

  test("random opens, closes, reopens and forks: the same fds in the same order as a Map", () => {
    const next = rng(0x5eed);
    const budget = new FdBudget(16, 40);
    const model = { perProcess: 16, totalCap: 40, total: 0, evicted: 0 };
    const tables = [new FdTable(budget)];
    const models = [new MapModel(model)];
    for (let step = 0; step < 20_000; step++) {
      const k = Math.floor(next() * tables.length);
      const r = next();
      // Mostly small numbers, as the kernel hands them out; some past the dense range.
      const num = r < 0.9 ? Math.floor(next() * 24) : 1000 + Math.floor(next() * 60);
      if (r < 0.5) {
        const f = fd(num, next() < 0.2, `/p/${step}`);
        tables[k].set(f);
        models[k].set(f);
      } else if (r < 0.85) {
        tables[k].delete(num);
        models[k].delete(num);
      } else if (r < 0.9 && tables.length < 4) {
        // Forks that fit the total (the other case is the test above).
        if (budget.total + tables[k].size > budget.totalCap) continue;
        tables.push(tables[k].copy());
        const m = new MapModel(model);
        m.byNum = new Map(models[k].byNum);
        model.total += m.byNum.size;
        models.push(m);
      } else if (tables.length > 1) {
        tables[k].release();
        for (const n of models[k].byNum.keys()) models[k].delete(n);
        tables.splice(k, 1);
        models.splice(k, 1);
      }
      for (let i = 0; i < tables.length; i++) {
        expect(tables[i].values()).toEqual([...models[i].byNum.values()]);
        expect(tables[i].size).toBe(models[i].byNum.size);
      }
      expect(budget.total).toBe(model.total);
    }
    expect(budget.evicted).toBe(model.evicted);
    expect(budget.evicted).toBeGreaterThan(0);
  });

  test("opening and closing one fd a million times keeps the table small", () => {
    const t = new FdTable(new FdBudget(8, 8));
    for (let i = 0; i < 1_000_000; i++) {
      t.set(fd(3));
      t.delete(3);
    }
    t.set(fd(4));
    expect(t.values().map((f) => f.num)).toEqual([4]);
    // The order queue is compacted: its length is bounded by the live fds, not the history.
    const queued = (t as unknown as { orderNum: number[]; orderHead: number }).orderNum.length;
    expect(queued).toBeLessThan(100);
  });
});
