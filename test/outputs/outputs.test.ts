// createOutputs (agent/outputs/index.ts): the queue policies when a sink is held up (drop_newest keeps
// the oldest, drop_oldest the newest), the byte cap, Falco's capacity 0, per-rule throttling, the
// rate-limited internal alert, the JSON properties and text lines, metrics and health.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings, type Alert, type Outputs } from "../../agent/outputs/index.ts";
import { fileLogger, makeAlert, range, seqs, until } from "./fixtures/alerts.ts";
import { Collector } from "./fixtures/collector.ts";
import { metricValue } from "./fixtures/child.ts";

setDefaultTimeout(30_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-outputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);
let n = 0;
const fresh = () => join(dir, `f${++n}.log`);

function make(over: Record<string, unknown>, internal?: Alert[], clock?: () => bigint): Outputs {
  return createOutputs(defaultOutputSettings({ stdout_output: { enabled: false }, ...over }), {
    log: logs.log,
    hostname: "node-1",
    onInternalAlert: internal === undefined ? undefined : (a) => internal.push(a),
    clock,
  });
}

describe("a held-up sink", () => {
  test.each([
    ["drop_newest", range(1, 11), "queue_full"],
    ["drop_oldest", range(90, 100), "evicted"],
  ] as const)("%s keeps the right alerts and counts the rest exactly", async (policy, kept, reason) => {
    const c = new Collector().start();
    c.mode = "hold";
    const out = make(
      {
        http_output: {
          enabled: true,
          url: c.url(),
          timeout_ms: 30_000,
          batch: { mode: "json_array", max_alerts: 1, linger_ms: 0 },
        },
        outputs_queue: { capacity: 10, policy },
        output_timeout: 100,
      },
      [],
    );
    for (const i of range(0, 100)) {
      out.publish(makeAlert(i));
      if (i === 0) await until(() => c.got.requests === 1); // alert 0 is in flight
    }
    // A batch in flight longer than output_timeout makes the sink unhealthy for /readyz.
    await until(() => out.health()[0]?.ok === false, 5000, "a stalled sink");
    expect(out.health()[0]?.detail).toContain("stalled");
    expect(out.stats()[0]?.queued).toBe(10);
    expect(out.stats()[0]?.dropped[reason]).toBe(89);
    c.release();
    await until(() => c.got.items.length === 11);
    expect(out.health()[0]?.ok).toBe(true);
    expect(seqs(c.got.items)).toEqual([0, ...kept]);
    expect(metricValue(out.metrics(), "output_dropped_total", { reason })).toBe(89);
    await out.shutdown(500);
    c.stop();
  });

  test("queue bytes never pass max_bytes, whatever the alert sizes", async () => {
    const c = new Collector().start();
    c.mode = "hold";
    const out = make(
      {
        http_output: {
          enabled: true,
          url: c.url(),
          batch: { mode: "json_array", max_alerts: 1, linger_ms: 0 },
        },
        outputs_queue: { capacity: 100_000, max_bytes: 64 * 1024, policy: "drop_oldest" },
      },
      [],
    );
    let peak = 0;
    for (const i of range(0, 2000)) {
      out.publish(makeAlert(i, { message: "m".repeat((i * 37) % 3000) }));
      peak = Math.max(peak, out.stats()[0]?.queuedBytes ?? 0);
    }
    expect(peak).toBeLessThanOrEqual(64 * 1024);
    expect(peak).toBeGreaterThan(60 * 1024);
    // One alert larger than the whole queue is refused and counted.
    out.publish(makeAlert(9999, { message: "x".repeat(70 * 1024) }));
    expect(out.stats()[0]?.dropped.too_big).toBe(1);
    c.release();
    await out.shutdown(1000);
    c.stop();
  });

  test("shutdown with a held collector and no spool counts what was left", async () => {
    const c = new Collector().start();
    c.mode = "hold";
    const out = make(
      {
        http_output: { enabled: true, url: c.url(), batch: { mode: "ndjson", max_alerts: 5, linger_ms: 0 } },
      },
      [],
    );
    for (const i of range(0, 20)) out.publish(makeAlert(i));
    const report = await out.shutdown(200);
    expect(report.sinks[0]).toMatchObject({ delivered: 0, spooled: 0, dropped: 20 });
    expect(out.stats()[0]?.dropped.shutdown).toBe(20);
    out.publish(makeAlert(21));
    expect(out.stats()[0]?.dropped.closed).toBe(1);
    c.release();
    c.stop();
  });
});

describe("settings", () => {
  test("capacity 0 (Falco's unbounded) is accepted with a warning and a bounded queue", async () => {
    const out = make({ outputs_queue: { capacity: 0 }, file_output: { enabled: true, filename: fresh() } });
    expect(logs.text()).toContain("outputs_queue.capacity 0");
    await out.shutdown(100);
  });

  test("spool on a local sink, or without a directory, names the key", () => {
    expect(() => make({ file_output: { enabled: true, filename: fresh(), policy: "spool" } })).toThrow(
      "file_output.policy: spool is only available for http_output and otlp_output",
    );
    expect(() => make({ outputs_queue: { policy: "spool" }, stdout_output: { enabled: true } })).toThrow(
      "stdout_output.policy",
    );
    expect(() => make({ otlp_output: { enabled: true, policy: "spool" } })).toThrow(
      "otlp_output.spool.dir is empty",
    );
  });

  test("JSON properties follow the json_include_* keys; text lines stay on one line", async () => {
    const a = fresh();
    const out = make({
      json_include_message_property: true,
      json_include_output_fields_property: false,
      json_include_tags_property: false,
      file_output: { enabled: true, filename: a },
    });
    out.publish(makeAlert(1));
    await out.shutdown(500);
    const obj = JSON.parse(readFileSync(a, "utf8"));
    expect(obj.message).toBe("alert number 1 (user=root file=/etc/shadow)");
    expect(obj.output_fields).toBeUndefined();
    expect(obj.tags).toBeUndefined();
    const t = fresh();
    const text = make({
      json_output: false,
      time_format_iso_8601: true,
      file_output: { enabled: true, filename: t },
    });
    text.publish(makeAlert(2, { message: "line one\nline two" }));
    await text.shutdown(500);
    expect(readFileSync(t, "utf8")).toBe("2023-11-14T22:13:20.000002000Z: Warning line one line two\n");
  });
});

describe("rate limits", () => {
  test("per-rule throttling: each rule gets its burst, the rest are counted", async () => {
    const path = fresh();
    let now = 0n;
    const out = make(
      {
        alert_rate_limit: { enabled: true, rate: 1, max_burst: 5 },
        file_output: { enabled: true, filename: path },
      },
      undefined,
      () => now,
    );
    for (const i of range(0, 20)) out.publish(makeAlert(i));
    for (const i of range(20, 30)) out.publish(makeAlert(i, { rule: "Other rule" }));
    now += 2_000_000_000n; // two seconds: two more tokens for each rule
    for (const i of range(30, 40)) out.publish(makeAlert(i));
    await until(() => out.stats()[0]?.delivered === 12);
    expect(metricValue(out.metrics(), "output_throttled_total")).toBe(28);
    expect(out.droppedTotal()).toBe(28);
    await out.shutdown(500);
  });

  test("drops raise an internal alert at once, then at most the limiter's rate; counts are summed", async () => {
    const c = new Collector().start();
    c.mode = "hold";
    const internal: Alert[] = [];
    let now = 0n;
    const out = make(
      {
        http_output: {
          enabled: true,
          url: c.url(),
          batch: { mode: "json_array", max_alerts: 1, linger_ms: 0 },
        },
        outputs_queue: { capacity: 1, policy: "drop_newest" },
      },
      internal,
      () => now,
    );
    for (let round = 0; round < 6; round++) {
      for (const i of range(0, 10)) out.publish(makeAlert(i));
      await Bun.sleep(5);
    }
    // The limiter's burst is 3: three alerts, the other drops wait for a token.
    expect(internal.length).toBe(3);
    expect(internal[0]?.source).toBe("internal");
    expect(internal[0]?.priority).toBe("Warning");
    now += 20_000_000_000n;
    for (const i of range(0, 10)) out.publish(makeAlert(i));
    await Bun.sleep(5);
    expect(internal.length).toBe(4);
    const reported = internal.reduce((s, a) => s + Number(a.outputFields["lanner.dropped"]), 0);
    const dropped = out.stats()[0]?.dropped.queue_full ?? 0;
    // Drops after the last alert wait for the next token; everything reported was really dropped.
    expect(reported).toBeLessThanOrEqual(dropped);
    expect(reported).toBeGreaterThan(0);
    c.release();
    await out.shutdown(500);
    c.stop();
  });
});

describe("metrics and health", () => {
  test("every sink reports its queue, deliveries and drops by reason, labelled by sink", async () => {
    const path = fresh();
    const out = make({ file_output: { enabled: true, filename: path } });
    out.publish(makeAlert(1));
    await until(() => out.stats()[0]?.delivered === 1);
    const m = out.metrics();
    const sink = `file:${path}`;
    expect(metricValue(m, "output_delivered_total", { sink })).toBe(1);
    expect(metricValue(m, "output_queue_alerts", { sink })).toBe(0);
    expect(
      m
        .filter((s) => s.name === "output_dropped_total")
        .map((s) => s.labels?.reason)
        .sort(),
    ).toContain("evicted");
    for (const s of m) expect(s.name).toMatch(/^output_[a-z_]+$/);
    expect(out.health()).toEqual([{ sink, ok: true, detail: "delivering" }]);
    await out.shutdown(100);
  });
});

describe("stdout in this process", () => {
  // The stalled-reader case runs in a child process (process.test.ts); this checks the writer here.
  test("writes whole lines to standard output and counts them", async () => {
    const out = make({ stdout_output: { enabled: true }, json_output: false });
    out.publish(makeAlert(1, { message: "(stdout test line)" }));
    await until(() => out.stats()[0]?.delivered === 1);
    expect(out.stats()[0]?.sink).toBe("stdout");
    const report = await out.shutdown(500);
    expect(report.sinks[0]).toMatchObject({ sink: "stdout", delivered: 1, dropped: 0 });
  });
});
