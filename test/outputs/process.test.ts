// The outputs in a real process (fixtures/outputs-child.ts): a stdout pipe nobody reads and a dead
// collector do not delay the file sink, and SIGTERM still ends the process (exit 0) within the
// shutdown deadline; a burst of 100,000 alerts with the default settings reaches the file complete.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { range } from "./fixtures/alerts.ts";
import { metricValue, OutputsChild } from "./fixtures/child.ts";

setDefaultTimeout(120_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
interface Line {
  source: string;
  rule: string;
  output: string;
  output_fields: { seq: number };
}
const linesOf = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .slice(0, -1)
    .map((l) => JSON.parse(l) as Line);
/** The seq numbers of the rule alerts (internal alerts set aside). */
const seqsOf = (path: string) =>
  linesOf(path)
    .filter((l) => l.source !== "internal")
    .map((l) => l.output_fields.seq);

/** A port nobody listens on. */
function deadPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port as number;
  s.stop(true);
  return port;
}

describe("a stalled stdout and a dead collector", () => {
  test("the file sink gets every alert, stdout drops per its policy, SIGTERM ends the process", async () => {
    const path = join(dir, "alerts.jsonl");
    const child = new OutputsChild(
      {
        stdout_output: { enabled: true },
        file_output: { enabled: true, filename: path },
        http_output: { enabled: true, url: `http://127.0.0.1:${deadPort()}/` },
        outputs_queue: { capacity: 2000, shutdown_timeout_ms: 1000 },
      },
      "stall",
    );
    try {
      await child.wait("ready");
      await child.send("publish 0 20000", "published");
      const file = `file:${path}`;
      const end = Date.now() + 30_000;
      while (metricValue(await child.metrics(), "output_delivered_total", { sink: file }) < 20_000) {
        if (Date.now() > end) throw new Error("the file sink did not get 20,000 alerts");
        await Bun.sleep(50);
      }
      const m = await child.metrics();
      expect(metricValue(m, "output_dropped_total", { sink: file })).toBe(0);
      // stdout is stalled: it holds at most its queue and dropped the oldest of the rest.
      expect(metricValue(m, "output_dropped_total", { sink: "stdout", reason: "evicted" })).toBeGreaterThan(
        10_000,
      );
      expect(metricValue(m, "output_queue_alerts", { sink: "stdout" })).toBeLessThanOrEqual(2000);
      expect(metricValue(m, "output_failures_total")).toBeGreaterThan(0); // the collector is refused
      expect(seqsOf(path)).toEqual(range(0, 20_000));
      // The drops were reported as they happened, by internal alerts (rate-limited: a burst of 3).
      const internal = linesOf(path).filter((l) => l.source === "internal");
      expect(internal.length).toBeGreaterThanOrEqual(1);
      expect(internal.length).toBeLessThanOrEqual(3);
      expect(internal[0]?.output).toContain("stdout reason=evicted dropped=");
      const t0 = performance.now();
      child.signal("SIGTERM");
      expect(await child.exited).toBe(0);
      // Bounded by outputs_queue.shutdown_timeout_ms (1 s) plus process exit; generous for a busy machine.
      expect(performance.now() - t0).toBeLessThan(10_000);
      const shutdown = (await child.wait("shutdown")).shutdown as {
        sinks: { sink: string; dropped: number }[];
      };
      expect(shutdown.sinks.find((s) => s.sink === "stdout")?.dropped).toBeGreaterThan(0);
    } finally {
      child.kill();
    }
  });
});

describe("a burst", () => {
  test("100,000 alerts with the default settings reach the file complete and in order", async () => {
    const path = join(dir, "burst.jsonl");
    const child = new OutputsChild({ file_output: { enabled: true, filename: path } });
    try {
      await child.wait("ready");
      await child.send("publish 0 100000", "published");
      const file = `file:${path}`;
      const end = Date.now() + 60_000;
      while (metricValue(await child.metrics(), "output_delivered_total", { sink: file }) < 100_000) {
        if (Date.now() > end) throw new Error("the file sink did not get 100,000 alerts");
        await Bun.sleep(50);
      }
      const m = await child.metrics();
      expect(metricValue(m, "output_dropped_total")).toBe(0);
      expect(seqsOf(path)).toEqual(range(0, 100_000));
      child.signal("SIGTERM");
      expect(await child.exited).toBe(0);
    } finally {
      child.kill();
    }
  });
});
