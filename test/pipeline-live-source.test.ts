// The live probe as the Agent's frame source (liveFrameSource), in this process, as root with the
// real eBPF probe: frames reach the sink and the kernel counters become metrics.

import { expect, test } from "bun:test";
import { liveFrameSource } from "../agent/agent/index.ts";
import { openLiveProbe } from "../agent/capture/index.ts";
import { captureSelection, openProbe } from "../agent/cli/probe-setup.ts";
import { DEFAULT_CONFIG, loadConfig } from "../agent/config/index.ts";

test("frames from the live probe reach the sink; its counters are metrics; stop is idempotent", async () => {
  const probe = openLiveProbe({ ringBytes: 1 << 22, drainIntervalMs: 10, batchBytes: 1 << 20 });
  const source = liveFrameSource(probe);
  let frames = 0;
  source.start(
    (_bytes, count) => {
      frames += count;
    },
    () => {},
  );
  for (let i = 0; i < 20 && frames === 0; i++) {
    Bun.spawnSync(["cat", "/etc/hostname"]);
    await Bun.sleep(50);
  }
  source.stop();
  source.stop();
  expect(frames).toBeGreaterThan(0);
  const m = source.metrics();
  expect(m.find((s) => s.name === "kernel_events_seen_total")?.value).toBeGreaterThan(0);
  const reasons = m.filter((s) => s.name === "kernel_drops_total").map((s) => s.labels?.reason);
  expect(reasons).toContain("ring_full");
  expect(reasons).toContain("too_big");
  expect(source.clock.offsetSec).toBeGreaterThan(1_600_000_000);
}, 60_000);

test("openProbe (the commands' way to attach) attaches with the config's ring and the rules' selection", () => {
  const config = loadConfig(DEFAULT_CONFIG, ["engine.modern_ebpf.buf_size_preset=1"]);
  const probe = openProbe(config, captureSelection(new Set(["openat"])));
  try {
    expect(probe.clock.offsetSec).toBeGreaterThan(1_600_000_000);
  } finally {
    probe.stop();
  }
}, 60_000);
