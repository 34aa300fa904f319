// One process's fd table. fd numbers are small and dense (the lowest free number is the next one),
// so numbers below DENSE_LIMIT index an array, without hashing (the runtime's Map was about 8 % of
// a replay: docs/PERFORMANCE.md, Replay); larger numbers go to a Map. Insertion order, which
// fd.types lists and which fd a full table drops first, is kept as a Map keeps it: a queue of
// (number, stamp), where an entry is live while that number still holds the fd added with that
// stamp (a replaced fd keeps its stamp, so its place; a deleted one leaves a stale entry, skipped
// and compacted away).

import type { FdBudget, FdInfo } from "./fds.ts";

/** fd numbers below this live in arrays indexed by number. */
const DENSE_LIMIT = 1024;
/** Stale queue entries tolerated beyond twice the live ones before the queue is compacted. */
const STALE_SLACK = 64;

/**
 * One process's fds (shared by processes cloned with CLONE_FILES). Full: the fd added longest ago
 * is dropped and counted; the total over all tables is bounded by the budget the same way.
 */
export class FdTable {
  private dense: (FdInfo | undefined)[] = [];
  private denseStamp: number[] = [];
  private sparse: Map<number, FdInfo> | undefined;
  private sparseStamp: Map<number, number> | undefined;
  /** Insertion order: fd numbers and their stamps, oldest first from orderHead. */
  private orderNum: number[] = [];
  private orderStamp: number[] = [];
  private orderHead = 0;
  private nextStamp = 1;
  private count = 0;
  /** How many fds are close-on-exec: an exec with none has nothing to sweep. */
  private cloexecCount = 0;
  /** Processes using this table; the last one to leave releases its fds from the budget. */
  users = 1;

  constructor(private readonly budget: FdBudget) {}

  get size(): number {
    return this.count;
  }

  get(num: number): FdInfo | undefined {
    if (isDense(num)) return num < this.dense.length ? this.dense[num] : undefined;
    return this.sparse?.get(num);
  }

  set(fd: FdInfo): void {
    const num = fd.num;
    if (num < 0) return;
    const old = this.get(num);
    if (old !== undefined) {
      // Replaced in place: keeps its stamp, so its position, as a Map's set does.
      this.put(num, fd, this.stampOf(num));
      if (old.cloexec) this.cloexecCount--;
      if (fd.cloexec) this.cloexecCount++;
      return;
    }
    while (this.count >= this.budget.perProcess || this.budget.total >= this.budget.totalCap) {
      if (!this.dropOldest()) {
        // The total is full and this process holds nothing to give back: the fd is not tracked.
        this.budget.evicted++;
        return;
      }
    }
    const stamp = this.nextStamp++;
    this.put(num, fd, stamp);
    this.orderNum.push(num);
    this.orderStamp.push(stamp);
    this.count++;
    if (fd.cloexec) this.cloexecCount++;
    this.budget.total++;
    if (this.orderNum.length - this.orderHead > 2 * this.count + STALE_SLACK) this.compact();
  }

  delete(num: number): FdInfo | undefined {
    const fd = this.get(num);
    if (fd === undefined) return undefined;
    if (isDense(num)) this.dense[num] = undefined;
    else {
      this.sparse?.delete(num);
      this.sparseStamp?.delete(num);
    }
    this.count--;
    if (fd.cloexec) this.cloexecCount--;
    this.budget.total--;
    return fd;
  }

  /** This table, for one more process that shares it (clone with CLONE_FILES). */
  share(): FdTable {
    this.users++;
    return this;
  }

  /** A forked child's own copy: same fds (the FdInfo objects are shared; they are not changed in place). */
  copy(): FdTable {
    const child = new FdTable(this.budget);
    if (this.budget.total + this.count <= this.budget.totalCap) {
      // The common case: the whole table fits; copy it in one go.
      child.dense = this.dense.slice();
      child.denseStamp = this.denseStamp.slice();
      if (this.sparse !== undefined && this.sparseStamp !== undefined) {
        child.sparse = new Map(this.sparse);
        child.sparseStamp = new Map(this.sparseStamp);
      }
      child.orderNum = this.orderNum.slice(this.orderHead);
      child.orderStamp = this.orderStamp.slice(this.orderHead);
      child.nextStamp = this.nextStamp;
      child.count = this.count;
      child.cloexecCount = this.cloexecCount;
      this.budget.total += this.count;
    } else {
      for (const fd of this.values()) child.set(fd);
    }
    return child;
  }

  /** close_range(2): the fds numbered first..last are closed or, with `cloexecOnly`
   * (CLOSE_RANGE_CLOEXEC), marked close-on-exec. */
  closeRange(first: number, last: number, cloexecOnly: boolean): void {
    for (const fd of this.values()) {
      if (fd.num < first || fd.num > last) continue;
      if (!cloexecOnly) this.delete(fd.num);
      // FdInfo objects are shared with forked copies of the table: replaced, not changed in place.
      else if (!fd.cloexec) this.set({ ...fd, cloexec: true });
    }
  }

  /** exec closes every close-on-exec fd. */
  closeOnExec(): void {
    if (this.cloexecCount === 0) return;
    for (const fd of this.values()) if (fd.cloexec) this.delete(fd.num);
  }

  /** The process left; returns the fds to the budget when no other process shares the table. */
  release(): void {
    this.users--;
    if (this.users > 0) return;
    this.budget.total -= this.count;
    this.dense = [];
    this.denseStamp = [];
    this.sparse = undefined;
    this.sparseStamp = undefined;
    this.orderNum = [];
    this.orderStamp = [];
    this.orderHead = 0;
    this.count = 0;
    this.cloexecCount = 0;
  }

  /** The fds, oldest first (a new array: the table may be changed while it is walked). */
  values(): FdInfo[] {
    const out: FdInfo[] = [];
    for (let i = this.orderHead; i < this.orderNum.length; i++) {
      const fd = this.liveAt(i);
      if (fd !== undefined) out.push(fd);
    }
    return out;
  }

  private put(num: number, fd: FdInfo, stamp: number): void {
    if (isDense(num)) {
      const dense = this.dense;
      while (dense.length <= num) {
        dense.push(undefined);
        this.denseStamp.push(0);
      }
      dense[num] = fd;
      this.denseStamp[num] = stamp;
      return;
    }
    this.sparse ??= new Map();
    this.sparseStamp ??= new Map();
    this.sparse.set(num, fd);
    this.sparseStamp.set(num, stamp);
  }

  private stampOf(num: number): number {
    return isDense(num) ? this.denseStamp[num] : (this.sparseStamp?.get(num) ?? 0);
  }

  /** The fd of queue entry i, if that entry is still the fd's (not deleted or re-added since). */
  private liveAt(i: number): FdInfo | undefined {
    const num = this.orderNum[i];
    const fd = this.get(num);
    return fd !== undefined && this.stampOf(num) === this.orderStamp[i] ? fd : undefined;
  }

  private dropOldest(): boolean {
    while (this.orderHead < this.orderNum.length) {
      const i = this.orderHead++;
      if (this.liveAt(i) === undefined) continue;
      this.delete(this.orderNum[i]);
      this.budget.evicted++;
      return true;
    }
    return false;
  }

  /** Drops stale and consumed queue entries. */
  private compact(): void {
    const nums: number[] = [];
    const stamps: number[] = [];
    for (let i = this.orderHead; i < this.orderNum.length; i++) {
      if (this.liveAt(i) === undefined) continue;
      nums.push(this.orderNum[i]);
      stamps.push(this.orderStamp[i]);
    }
    this.orderNum = nums;
    this.orderStamp = stamps;
    this.orderHead = 0;
  }
}

function isDense(num: number): boolean {
  return num >= 0 && num < DENSE_LIMIT && (num | 0) === num;
}
