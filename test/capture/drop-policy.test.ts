import { expect, test } from "bun:test";
import { DropPolicy } from "../../agent/capture/drop-policy.ts";
import { configSchema } from "../../agent/config/schema.ts";

/** A clock the test moves by hand (nanoseconds). */
function manualClock() {
  let now = 0n;
  return { clock: () => now, advance: (s: number) => (now += BigInt(Math.round(s * 1e9))) };
}

test("actions are due only above the threshold, at most as often as rate and max_burst allow", () => {
  const t = manualClock();
  const policy = new DropPolicy({
    threshold: 0.1,
    actions: ["log", "alert"],
    rate: 0.5,
    maxBurst: 2,
    clock: t.clock,
  });
  let c = { seen: 0, ringFull: 0, tooBig: 0 };
  const second = (seen: number, dropped: number) => {
    t.advance(1);
    c = { seen: c.seen + seen, ringFull: c.ringFull + dropped, tooBig: c.tooBig };
    return policy.check(c);
  };
  expect(second(1000, 100)).toBeNull(); // exactly 10%: not above
  expect(second(1000, 0)).toBeNull();
  expect(second(1000, 101)).toEqual({ actions: ["log", "alert"], dropped: 101, seen: 1000, ratio: 0.101 });
  expect(second(1000, 500)?.actions).toEqual(["log", "alert"]); // burst of 2
  // 6 more seconds over the threshold: the bucket refills 0.5 per second, so 3 more actions.
  let due = 0;
  for (let i = 0; i < 6; i++) if (second(1000, 900) !== null) due++;
  expect(due).toBe(3);
  expect(policy.suppressed).toBe(3);
  // A too-big drop counts like a ring-full one.
  t.advance(10);
  c = { ...c, seen: c.seen + 10, tooBig: 5 };
  expect(policy.check(c)?.dropped).toBe(5);
});

test("ignore alone never acts; a bad threshold is refused", () => {
  const policy = new DropPolicy({ threshold: 0, actions: ["ignore"], rate: 1, maxBurst: 1 });
  expect(policy.check({ seen: 10, ringFull: 10, tooBig: 0 })).toBeNull();
  expect(() => new DropPolicy({ threshold: 2, actions: [], rate: 1, maxBurst: 1 })).toThrow(
    /within \[0, 1\]/,
  );
});

test("the config block has falco.yaml's keys and defaults, and names a bad action", () => {
  const config = configSchema.parse({});
  expect(config.syscall_event_drops).toEqual({
    threshold: 0.1,
    actions: ["log", "alert"],
    rate: 0.03333,
    max_burst: 1,
  });
  const bad = configSchema.safeParse({ syscall_event_drops: { actions: ["shout"] } });
  expect(bad.success).toBe(false);
  expect(JSON.stringify(bad.error?.issues[0].path)).toBe('["syscall_event_drops","actions",0]');
});

test("a baseline only records the counters: drops before it take no token and are not due", () => {
  const t = manualClock();
  const policy = new DropPolicy({ threshold: 0, actions: ["exit"], rate: 0, maxBurst: 1, clock: t.clock });
  policy.baseline({ seen: 1000, ringFull: 900, tooBig: 0 });
  expect(policy.check({ seen: 1000, ringFull: 900, tooBig: 0 })).toBeNull();
  expect(policy.suppressed).toBe(0);
  // The one token (rate 0) is still there for the first drop after the baseline.
  expect(policy.check({ seen: 1010, ringFull: 901, tooBig: 0 })).toEqual({
    actions: ["exit"],
    dropped: 1,
    seen: 10,
    ratio: 0.1,
  });
});

test("more drops than events seen in one interval (counters read one after another) is a ratio of 1", () => {
  const policy = new DropPolicy({ threshold: 1, actions: ["log"], rate: 10, maxBurst: 10 });
  policy.baseline({ seen: 100, ringFull: 100, tooBig: 0 });
  expect(policy.check({ seen: 110, ringFull: 112, tooBig: 0 })).toBeNull(); // 1 is not above 1
  const low = new DropPolicy({ threshold: 0.5, actions: ["log"], rate: 10, maxBurst: 10 });
  expect(low.check({ seen: 10, ringFull: 12, tooBig: 0 })?.ratio).toBe(1);
});
