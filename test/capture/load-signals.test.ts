// The verifier gives up with EAGAIN when a signal is pending for the thread that loads a program.
// The runtime's sampling profiler signals the JavaScript thread at a fixed interval (here every
// 100 µs, far shorter than the verification of the probe's biggest programs), the way its
// collector and a busy machine do less predictably: the probe must still load, every time.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT } from "../rules/bounded-run.ts";
import { LIVE_SETUP_MS, liveUnavailable } from "./live-support.ts";

const LOAD = `
import { openLiveProbe } from ${JSON.stringify(join(ROOT, "agent/capture/index.ts"))};
const probe = openLiveProbe({ ringBytes: 1 << 16, drainIntervalMs: 1000, batchBytes: 1 << 16 });
probe.stop();
console.log("loaded");
`;

describe.skipIf(liveUnavailable !== null)("probe load under signals (live eBPF)", () => {
  test(
    "loads while the sampling profiler signals the loading thread every 100 µs",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "lanner-load-signals-"));
      try {
        const script = join(dir, "load.ts");
        writeFileSync(script, LOAD);
        const p = Bun.spawnSync(
          [BUN, "--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${dir}`, script],
          { cwd: ROOT, timeout: LIVE_SETUP_MS },
        );
        expect({
          out: p.stdout.toString().trim(),
          err: p.stderr.toString().slice(-400),
          code: p.exitCode,
        }).toEqual({
          out: "loaded",
          err: "",
          code: 0,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    LIVE_SETUP_MS,
  );
});
