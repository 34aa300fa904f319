// Hostile capture files: the reader and the record decoder run over mutated copies of the capture
// fixture (bit flips, truncation, garbage and huge MessagePack lengths inside records with valid
// CRCs, rewritten frame and block lengths) in a separate process with a time limit; every mutant
// ends in a result or a clear error, and the process stays within a memory bound.

import { expect, test } from "bun:test";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");

test.each([1, 2])(
  "500 mutants of the fixture (seed %d): no crash, no hang, bounded memory",
  (seed) => {
    const p = Bun.spawnSync([BUN, "test/replay/fuzz-worker.ts", String(seed), "500"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    expect(p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
    const r = JSON.parse(p.stdout.toString());
    expect(r.cases).toBe(500);
    // Every path was taken: some mutants decode (with skipped records), some are refused with an offset.
    expect(r.outcome.capture_file_error).toBeGreaterThan(0);
    expect(r.outcome.decoded_with_malformed).toBeGreaterThan(0);
    expect(r.maxCaseMs).toBeLessThan(5_000);
    expect(r.maxRssMb).toBeLessThan(600);
  },
  90_000,
);
