// syscall_event_drops on a real probe: a one-page ring that is never drained fills at once, so a
// storm of opens from a child is dropped in the kernel; the watch turns the counters into exactly
// as many warning lines and internal alerts as the token bucket allows (the clock is moved by
// hand, so the count does not depend on how fast this machine is).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KERNEL_DROP_RULE, KernelDropWatch } from "../../agent/agent/kernel-drops.ts";
import { type LiveProbe, openLiveProbe } from "../../agent/capture/probe.ts";
import { Logger } from "../../agent/log.ts";
import type { Alert } from "../../agent/outputs/alert.ts";
import { LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable } from "./live-support.ts";

/** 2000 opens (and closes) of /etc/hostname by a child shell. */
function storm(): void {
  const r = Bun.spawnSync(["sh", "-c", "i=0; while [ $i -lt 2000 ]; do : < /etc/hostname; i=$((i+1)); done"]);
  if (r.exitCode !== 0) throw new Error(`storm failed: ${r.stderr.toString()}`);
}

/** Storms until the probe counts new dropped opens (a storm that lands while the kernel is busy
 * elsewhere may come in under the counters' read; at most 20 tries). Counted by kind: the probe
 * sees the whole machine, and other work's drops must not stand in for the storm's. */
function stormUntilDropped(probe: LiveProbe): void {
  const openats = () => probe.counters().droppedByKind.openat ?? 0;
  const before = openats();
  for (let i = 0; i < 20 && openats() === before; i++) storm();
  if (openats() === before)
    throw new Error(`no dropped opens after 20 storms: ${JSON.stringify(probe.counters())}`);
}

function manualClock() {
  let now = 0n;
  return { clock: () => now, advance: (s: number) => (now += BigInt(Math.round(s * 1e9))) };
}

describe.skipIf(liveUnavailable !== null)("kernel drops, live", () => {
  let dir = "";
  let probe: LiveProbe;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-drops-"));
    // Never started: nothing drains the ring, so once a page of records is in, all else is dropped.
    probe = openLiveProbe({ ringBytes: 4096, drainIntervalMs: 1000, batchBytes: 64 << 10 });
  }, LIVE_SETUP_MS);

  afterAll(() => {
    probe?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, LIVE_SETUP_MS);

  test(
    "log and alert actions: nonzero counters, exactly the rate-limited number of lines and alerts",
    () => {
      const logPath = join(dir, "log.jsonl");
      const fd = openSync(logPath, "w");
      const t = manualClock();
      const alerts: Alert[] = [];
      let exits = 0;
      const watch = new KernelDropWatch({
        counters: () => probe.counters(),
        settings: { threshold: 0, actions: ["log", "alert"], rate: 0.5, max_burst: 2 },
        log: new Logger("info", true, fd),
        publish: (a) => alerts.push(a),
        hostname: "drop-host",
        exit: () => exits++,
        clock: t.clock,
      });
      // Six seconds, each with a storm: the bucket starts with 2 and refills 0.5 a second, so
      // actions at t=1, 2, 3 and 5 (t=4 and t=6 find half a token).
      const due: boolean[] = [];
      for (let s = 0; s < 6; s++) {
        t.advance(1);
        stormUntilDropped(probe);
        due.push(watch.check() !== null);
      }
      closeSync(fd);
      expect(due).toEqual([true, true, true, false, true, false]);

      const c = probe.counters();
      expect(c.ringFull).toBeGreaterThan(0);
      expect(c.droppedByKind.openat ?? 0).toBeGreaterThan(0);

      const lines = readFileSync(logPath, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const warnings = lines.filter((l) => l.msg === "kernel drops over syscall_event_drops.threshold");
      expect(warnings.length).toBe(4);
      for (const w of warnings) {
        expect(w.level).toBe("warning");
        expect(w.ring_full as number).toBeGreaterThan(0);
        expect(String(w.kinds)).toContain("openat=");
      }
      expect(alerts.length).toBe(4);
      for (const a of alerts) {
        expect(a.rule).toBe(KERNEL_DROP_RULE);
        expect(a.source).toBe("internal");
        expect(a.hostname).toBe("drop-host");
        expect(a.outputFields["lanner.dropped"] as number).toBeGreaterThan(0);
        expect(String(a.outputFields["lanner.drops_kinds"])).toContain("openat=");
      }
      expect(exits).toBe(0);
      const m = watch.metrics();
      const value = (name: string, action?: string) =>
        m.find((x) => x.name === name && (action === undefined || x.labels?.action === action))?.value;
      expect(value("kernel_drop_actions_total", "log")).toBe(4);
      expect(value("kernel_drop_actions_total", "alert")).toBe(4);
      expect(value("kernel_drop_actions_suppressed_total")).toBe(2);
    },
    LIVE_TEST_MS,
  );

  test(
    "exit action: called once, however many seconds pass the threshold; below it nothing is due",
    () => {
      const fd = openSync(join(dir, "exit.jsonl"), "w");
      const t = manualClock();
      const details: string[] = [];
      const settings = { threshold: 0, actions: ["exit" as const], rate: 10, max_burst: 10 };
      const watch = new KernelDropWatch({
        counters: () => probe.counters(),
        settings,
        log: new Logger("info", true, fd),
        publish: () => {
          throw new Error("no alert expected");
        },
        hostname: "h",
        exit: (detail) => details.push(detail),
        clock: t.clock,
      });
      for (let s = 0; s < 3; s++) {
        t.advance(1);
        stormUntilDropped(probe);
        watch.check();
      }
      closeSync(fd);
      expect(details.length).toBe(1);
      expect(details[0]).toMatch(/^\d+ of \d+ events dropped in the last second$/);

      // A ratio of 1 is never above a threshold of 1: no action, whatever the drops.
      const calm = new KernelDropWatch({
        counters: () => probe.counters(),
        settings: { ...settings, threshold: 1 },
        log: new Logger("info", true, openSync("/dev/null", "w")),
        publish: () => {},
        hostname: "h",
        exit: (detail) => details.push(detail),
        clock: t.clock,
      });
      stormUntilDropped(probe);
      expect(calm.check()).toBeNull();
      expect(details.length).toBe(1);
    },
    LIVE_TEST_MS,
  );
});
