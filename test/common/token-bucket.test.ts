import { describe, expect, test } from "bun:test";
import { TokenBucket } from "../../agent/common/token-bucket.ts";

function manualClock(startNs = 1_000_000_000n) {
  let now = startNs;
  return {
    clock: () => now,
    advanceSec: (s: number) => {
      now += BigInt(Math.round(s * 1e9));
    },
    set: (ns: bigint) => {
      now = ns;
    },
  };
}

describe("TokenBucket", () => {
  test("starts full and refuses past the burst", () => {
    const c = manualClock();
    const b = new TokenBucket({ rate: 1, maxBurst: 3, clock: c.clock });
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.denied).toBe(1);
  });

  test("refills at the rate, never above the burst", () => {
    const c = manualClock();
    const b = new TokenBucket({ rate: 2, maxBurst: 4, clock: c.clock });
    for (let i = 0; i < 4; i++) b.take();
    c.advanceSec(1);
    expect(b.available()).toBeCloseTo(2, 9);
    c.advanceSec(100);
    expect(b.available()).toBe(4);
  });

  test("fractional rates: one token every 30 s", () => {
    const c = manualClock();
    const b = new TokenBucket({ rate: 1 / 30, maxBurst: 1, clock: c.clock });
    expect(b.take()).toBe(true);
    c.advanceSec(29);
    expect(b.take()).toBe(false);
    c.advanceSec(1.5);
    expect(b.take()).toBe(true);
  });

  test("a clock that jumps back gives no refill and no lock-out", () => {
    const c = manualClock(100_000_000_000n);
    const b = new TokenBucket({ rate: 1, maxBurst: 1, clock: c.clock });
    expect(b.take()).toBe(true);
    c.set(10_000_000_000n); // 90 s back
    expect(b.take()).toBe(false); // no refill from going back
    c.advanceSec(1); // one second forward from the clamped point
    expect(b.take()).toBe(true); // not locked out for 90 s
  });

  test("a clock that jumps forward refills only up to the burst", () => {
    const c = manualClock();
    const b = new TokenBucket({ rate: 10, maxBurst: 2, clock: c.clock });
    b.take();
    b.take();
    c.advanceSec(86_400 * 365);
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
  });

  test("rejects nonsense settings with the key named", () => {
    expect(() => new TokenBucket({ rate: -1, maxBurst: 1 })).toThrow(/rate/);
    expect(() => new TokenBucket({ rate: 1, maxBurst: 0 })).toThrow(/max_burst/);
    expect(() => new TokenBucket({ rate: Number.NaN, maxBurst: 1 })).toThrow(/rate/);
  });
});
