// Fuzzes the config loader in a subprocess (fuzz-worker.ts) whose time and peak memory this test
// bounds: once with a fixed seed (the same cases every run) and once with a seed that rotates
// daily (new cases every day, reproducible from the seed in the test's name). Reproduce one case:
//   bun test/config/fuzz-worker.ts SEED 1 CASE
// LANNER_FUZZ_SEED overrides the rotating seed.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, MEMORY_BOUND, ROOT } from "../rules/bounded-run.ts";

const FIXED_SEED = 0x5eed_c0f;
const ROTATING_SEED =
  process.env.LANNER_FUZZ_SEED !== undefined && process.env.LANNER_FUZZ_SEED !== ""
    ? Number(process.env.LANNER_FUZZ_SEED)
    : Math.floor(Date.now() / 86_400_000);
/** Sized to run in a few seconds on a shared CI machine. */
const CASES = 2000;
const TIME_BOUND_MS = 60_000;

interface Summary {
  cases: number;
  accepted: number;
  rejected: number;
  failures: string[];
}

function fuzz(seed: number): Summary {
  const p = Bun.spawnSync([BUN, join(ROOT, "test/config/fuzz-worker.ts"), String(seed), String(CASES)], {
    cwd: ROOT,
    timeout: TIME_BOUND_MS,
  });
  expect(p.exitedDueToTimeout === true).toBe(false);
  expect(p.resourceUsage?.maxRSS ?? Number.POSITIVE_INFINITY).toBeLessThan(MEMORY_BOUND);
  const stderr = p.stderr.toString();
  expect(stderr).toBe("");
  expect(p.exitCode).toBe(0);
  return JSON.parse(p.stdout.toString()) as Summary;
}

describe("config loader fuzz", () => {
  for (const [label, seed] of [
    ["fixed", FIXED_SEED],
    ["rotating", ROTATING_SEED],
  ] as const) {
    test(
      `${label} seed ${seed}: every case loads or fails with placed problems, in bounds`,
      () => {
        const summary = fuzz(seed);
        expect(summary.failures).toEqual([]);
        expect(summary.cases).toBe(CASES);
        // The mutations must reach both sides of the contract, or the fuzzer tests nothing.
        expect(summary.accepted).toBeGreaterThan(CASES / 50);
        expect(summary.rejected).toBeGreaterThan(CASES / 4);
      },
      TIME_BOUND_MS + 10_000,
    );
  }
});
