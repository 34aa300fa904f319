// Time text of alerts (agent/events/time.ts): the decimal nanosecond epoch without bigint
// arithmetic, and the ISO/clock texts with their one-second cache, against direct computation.
import { expect, test } from "bun:test";
import { clockTime, isoTime, type WallTime, wallTimeNs, wallTimeNsText } from "../../agent/events/time.ts";

const TIMES: WallTime[] = [
  { sec: 1_700_000_000, nsec: 123_456_789 },
  { sec: 1_700_000_000, nsec: 0 },
  { sec: 1_700_000_001, nsec: 999_999_999 },
  { sec: 1, nsec: 5 },
  { sec: 0, nsec: 42 },
  { sec: 0, nsec: 0 },
  { sec: 4_102_444_800, nsec: 1 },
  { sec: 1_700_000_000, nsec: 7 },
];

test("wallTimeNsText gives wallTimeNs's digits", () => {
  for (const t of TIMES) expect(wallTimeNsText(t)).toBe(wallTimeNs(t).toString());
  expect(wallTimeNsText({ sec: 1_700_000_000, nsec: 5 })).toBe("1700000000000000005");
});

test("isoTime and clockTime follow every change of second (the cache is per second)", () => {
  for (let round = 0; round < 2; round++)
    for (const t of TIMES) {
      const base = new Date(t.sec * 1000).toISOString();
      const frac = String(t.nsec).padStart(9, "0");
      expect(isoTime(t)).toBe(`${base.slice(0, 19)}.${frac}Z`);
      expect(clockTime(t)).toBe(`${base.slice(11, 19)}.${frac}`);
    }
  expect(isoTime({ sec: 1_700_000_000, nsec: 123_456_789 })).toBe("2023-11-14T22:13:20.123456789Z");
});

test("the nanosecond digits cache follows every change of nanoseconds, in any call order", () => {
  // Same nanoseconds across seconds, same second across nanoseconds, the three texts interleaved.
  const times: WallTime[] = [];
  for (const sec of [1_700_000_000, 1_700_000_001, 1_700_000_000])
    for (const nsec of [7, 7, 70, 999_999_999, 0, 7]) times.push({ sec, nsec });
  times.forEach((t, i) => {
    const base = new Date(t.sec * 1000).toISOString();
    const frac = String(t.nsec).padStart(9, "0");
    const texts = [
      () => expect(isoTime(t)).toBe(`${base.slice(0, 19)}.${frac}Z`),
      () => expect(clockTime(t)).toBe(`${base.slice(11, 19)}.${frac}`),
      () => expect(wallTimeNsText(t)).toBe(wallTimeNs(t).toString()),
    ];
    for (let k = 0; k < 3; k++) texts[(i + k) % 3]();
  });
});
