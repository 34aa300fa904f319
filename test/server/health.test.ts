// The readiness checks (agent/server/health.ts) on the numbers they are given.

import { describe, expect, test } from "bun:test";
import {
  captureCheck,
  kernelDropCheck,
  runChecks,
  type SinkStatus,
  sinksCheck,
} from "../../agent/server/health.ts";

describe("captureCheck", () => {
  test("attached and idle is ready; events flowing is ready", () => {
    let status = { attached: true, kernelSeen: 0, decoded: 0 };
    let t = 0;
    const check = captureCheck(
      () => status,
      5000,
      () => t,
    );
    expect(check.check()).toEqual({ ok: true, detail: "probe attached, idle" });
    t = 60_000;
    expect(check.check().ok).toBe(true);
    status = { attached: true, kernelSeen: 100, decoded: 90 };
    t = 70_000;
    expect(check.check()).toEqual({ ok: true, detail: "probe attached, 90 record(s) decoded" });
  });

  test("the kernel seeing events that never reach the agent, past the limit, is not ready", () => {
    let status = { attached: true, kernelSeen: 10, decoded: 10 };
    let t = 0;
    const check = captureCheck(
      () => status,
      5000,
      () => t,
    );
    expect(check.check().ok).toBe(true);
    status = { attached: true, kernelSeen: 50, decoded: 10 };
    t = 4000;
    expect(check.check().ok).toBe(true);
    t = 7000;
    expect(check.check()).toEqual({
      ok: false,
      detail: "the kernel saw 40 event(s) in the last 7000ms but none reached the agent (limit 5000ms)",
    });
    status = { attached: true, kernelSeen: 60, decoded: 60 };
    expect(check.check().ok).toBe(true);
  });

  test("not attached is not ready", () => {
    expect(captureCheck(() => ({ attached: false, kernelSeen: 0, decoded: 0 }), 5000).check()).toEqual({
      ok: false,
      detail: "the probe is not attached",
    });
  });
});

describe("kernelDropCheck", () => {
  test("the rate is measured between checks, against the threshold", () => {
    let counters = { seen: 0, dropped: 0 };
    const check = kernelDropCheck(() => counters, 0.1);
    expect(check.check()).toEqual({ ok: true, detail: "no events since the last check" });
    counters = { seen: 1000, dropped: 50 };
    expect(check.check().ok).toBe(true);
    counters = { seen: 2000, dropped: 250 };
    expect(check.check()).toEqual({
      ok: false,
      detail: "200 of 1000 events dropped since the last check (rate 0.2000, threshold 0.1)",
    });
    // Drops stopped: ready again at the next check.
    counters = { seen: 3000, dropped: 250 };
    expect(check.check().ok).toBe(true);
  });
});

describe("sinksCheck", () => {
  test("healthy or spooling sinks are ready; a failing one is named", () => {
    let sinks: SinkStatus[] = [];
    const check = sinksCheck(() => sinks);
    expect(check.check()).toEqual({ ok: true, detail: "no alert sinks configured" });
    sinks = [
      { name: "stdout", healthy: true, detail: "ok" },
      { name: "http", healthy: true, detail: "spooling" },
    ];
    expect(check.check()).toEqual({ ok: true, detail: "2 sink(s) healthy" });
    sinks = [...sinks, { name: "file", healthy: false, detail: "EACCES" }];
    expect(check.check()).toEqual({ ok: false, detail: "file: EACCES" });
  });
});

test("runChecks: all must pass", () => {
  const yes = { name: "a", check: () => ({ ok: true, detail: "" }) };
  const no = { name: "b", check: () => ({ ok: false, detail: "x" }) };
  expect(runChecks([yes]).ok).toBe(true);
  expect(runChecks([yes, no]).ok).toBe(false);
  expect(runChecks([]).ok).toBe(true);
});
