// HTTP delivery against a real collector on 127.0.0.1 (fixtures/collector.ts): one alert per POST
// and batches, gzip, headers and a token that is never logged, retries on refused connections,
// 500, 429 (Retry-After), timeouts and resets, rejection on 400, the disk spool across an outage
// and across a restart of the outputs, and exact drop counts when the spool is too small.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings, type Outputs } from "../../agent/outputs/index.ts";
import { Collector, resetter } from "./fixtures/collector.ts";
import { fileLogger, makeAlert, range, seqs, until } from "./fixtures/alerts.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-http-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);
let n = 0;
const fresh = () => join(dir, `d${++n}`);

const internal: unknown[] = [];

function httpOutputs(
  url: string,
  http: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Outputs {
  return createOutputs(
    defaultOutputSettings({
      stdout_output: { enabled: false },
      http_output: { enabled: true, url, retry: { initial_backoff_ms: 20, max_backoff_ms: 200 }, ...http },
      ...extra,
    }),
    { log: logs.log, hostname: "node-1", onInternalAlert: (a) => internal.push(a) },
  );
}

/** A free port nobody listens on. */
function deadPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port as number;
  s.stop(true);
  return port;
}

setDefaultTimeout(30_000);

describe("http_output", () => {
  test("one alert per POST, Falco's JSON, in order, with headers and a bearer token", async () => {
    const c = new Collector().start();
    process.env.LANNER_TEST_TOKEN = "s3cret-token-value";
    const out = httpOutputs(c.url("/alerts"), {
      headers: { "X-Team": "sec" },
      token_env: "LANNER_TEST_TOKEN",
      user_agent: "lanner-test",
    });
    for (const i of range(0, 50)) out.publish(makeAlert(i));
    await until(() => c.got.items.length === 50);
    expect(seqs(c.got.items)).toEqual(range(0, 50));
    expect(c.got.requests).toBe(50);
    const h = c.got.headers[0] as Headers;
    expect(h.get("authorization")).toBe("Bearer s3cret-token-value");
    expect(h.get("x-team")).toBe("sec");
    expect(h.get("user-agent")).toBe("lanner-test");
    expect(h.get("content-type")).toBe("application/json");
    const first = c.got.items[0] as Record<string, unknown>;
    expect(first.rule).toBe("Read sensitive file");
    expect(first.hostname).toBe("node-1");
    const report = await out.shutdown(1000);
    expect(report.sinks[0]).toMatchObject({ delivered: 50, spooled: 0, dropped: 0 });
    c.stop();
  });

  test.each(["json_array", "ndjson"] as const)("batches as %s with gzip", async (mode) => {
    const c = new Collector().start();
    const out = httpOutputs(c.url(), {
      compress_uploads: true,
      batch: { mode, max_alerts: 100, linger_ms: 20 },
    });
    for (const i of range(0, 1000)) out.publish(makeAlert(i));
    await until(() => c.got.items.length === 1000);
    expect(seqs(c.got.items)).toEqual(range(0, 1000));
    expect(c.got.requests).toBeLessThanOrEqual(20);
    expect(c.got.gzipped).toBe(c.got.requests);
    await out.shutdown(1000);
    c.stop();
  });

  test("retries 500s, 429 (after Retry-After) and a reset; every alert arrives once, in order", async () => {
    const c = new Collector({ retryAfterSec: 1 }).start();
    const out = httpOutputs(c.url(), { batch: { mode: "json_array", max_alerts: 10, linger_ms: 0 } });
    c.mode = "500";
    c.faultBudget = 3;
    for (const i of range(0, 30)) out.publish(makeAlert(i));
    await until(() => c.got.items.length === 30);
    c.mode = "429";
    c.faultBudget = 1;
    const t0 = performance.now();
    for (const i of range(30, 40)) out.publish(makeAlert(i));
    await until(() => c.got.items.length === 40);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    // A connection reset mid-request: the collector's port answered by a listener that hangs up.
    const port = c.port;
    c.stop();
    const r = resetter(port);
    for (const i of range(40, 50)) out.publish(makeAlert(i));
    await until(() => r.resets() >= 1, 10_000, "a reset");
    r.stop();
    c.start(port);
    // The collector records a batch before its answer reaches the sink: wait for the sink's count.
    await until(() => out.stats()[0]?.delivered === 50);
    expect(seqs(c.got.items)).toEqual(range(0, 50));
    const s = out.stats()[0];
    expect(s?.retries).toBeGreaterThanOrEqual(5);
    expect(s?.delivered).toBe(50);
    expect(Object.values(s?.dropped ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
    await out.shutdown(1000);
    c.stop();
  });

  test("a collector slower than the timeout is retried; the alert arrives once", async () => {
    const c = new Collector().start();
    const out = httpOutputs(c.url(), { timeout_ms: 300 });
    c.mode = "slow";
    c.faultBudget = 1;
    out.publish(makeAlert(7));
    await until(() => c.got.items.length === 1);
    await Bun.sleep(100);
    expect(seqs(c.got.items)).toEqual([7]);
    expect(out.stats()[0]?.failures).toBe(1);
    expect(out.health()[0]?.ok).toBe(true);
    await out.shutdown(1000);
    c.stop();
  });

  test("a 400 is counted as rejected, logged with its body, and not retried", async () => {
    const c = new Collector().start();
    const out = httpOutputs(c.url());
    c.mode = "400";
    c.faultBudget = 1;
    out.publish(makeAlert(1));
    out.publish(makeAlert(2));
    await until(() => (out.stats()[0]?.delivered ?? 0) >= 1);
    expect(seqs(c.got.items)).toEqual([2]);
    expect(out.stats()[0]?.dropped.rejected).toBe(1);
    expect(logs.text()).toContain("bad alert: missing field");
    expect(logs.text()).not.toContain("s3cret-token-value");
    await out.shutdown(1000);
    c.stop();
  });

  test("refused connections: the spool keeps every alert and sends them in order when the collector returns", async () => {
    const port = deadPort();
    const spoolDir = fresh();
    const url = `http://127.0.0.1:${port}/`;
    const cfg = {
      batch: { mode: "ndjson", max_alerts: 50, linger_ms: 0 },
      spool: { dir: spoolDir, max_bytes: 50 << 20 },
    };
    const out = httpOutputs(url, cfg, { outputs_queue: { capacity: 200, max_bytes: 1 << 20 } });
    for (const i of range(0, 2000)) {
      out.publish(makeAlert(i));
      if (i % 100 === 0) await Bun.sleep(1);
    }
    const s = out.stats()[0];
    expect(s?.queuedBytes).toBeLessThanOrEqual(1 << 20);
    expect(s?.queued).toBeLessThanOrEqual(200);
    expect(out.health()[0]?.ok).toBe(false);
    const c = new Collector({ port }).start();
    await until(() => c.got.items.length === 2000, 20_000, "2000 alerts");
    expect(seqs(c.got.items)).toEqual(range(0, 2000));
    const dropped = Object.values(out.stats()[0]?.dropped ?? {}).reduce((a, b) => a + b, 0);
    expect(dropped).toBe(0);
    await out.shutdown(1000);
    c.stop();
  });

  test("across a restart of the outputs, the spool keeps what was not sent; nothing is lost or repeated", async () => {
    const port = deadPort();
    const spoolDir = fresh();
    const url = `http://127.0.0.1:${port}/`;
    const cfg = { batch: { mode: "json_array", max_alerts: 20, linger_ms: 0 }, spool: { dir: spoolDir } };
    const first = httpOutputs(url, cfg, { outputs_queue: { capacity: 100 } });
    for (const i of range(0, 500)) first.publish(makeAlert(i));
    const r1 = await first.shutdown(500);
    expect(r1.sinks[0]?.delivered).toBe(0);
    expect(r1.sinks[0]?.dropped).toBe(0);
    const c = new Collector({ port }).start();
    const second = httpOutputs(url, cfg, { outputs_queue: { capacity: 100 } });
    for (const i of range(500, 600)) second.publish(makeAlert(i));
    await until(() => c.got.items.length === 600, 20_000, "600 alerts");
    expect(seqs(c.got.items)).toEqual(range(0, 600));
    expect(second.metrics().find((m) => m.name === "output_spool_bytes")?.value).toBe(0);
    await second.shutdown(1000);
    c.stop();
  });

  test("a spool too small: dropped equals the shortfall exactly", async () => {
    const port = deadPort();
    const url = `http://127.0.0.1:${port}/`;
    const cfg = {
      batch: { mode: "json_array", max_alerts: 10, linger_ms: 0 },
      spool: { dir: fresh(), max_bytes: 16384 },
    };
    const out = httpOutputs(url, cfg, { outputs_queue: { capacity: 20 } });
    const total = 400;
    for (const i of range(0, total)) out.publish(makeAlert(i));
    await Bun.sleep(100);
    const c = new Collector({ port }).start();
    await until(
      () =>
        out.stats()[0]?.queued === 0 &&
        (out.metrics().find((m) => m.name === "output_spool_batches")?.value ?? 1) === 0,
      20_000,
    );
    // Every alert ends delivered or dropped; a batch still in flight is neither yet.
    const droppedNow = () => Object.values(out.stats()[0]?.dropped ?? {}).reduce((a, b) => a + b, 0);
    await until(() => {
      const delivered = out.stats()[0]?.delivered ?? 0;
      return delivered === c.got.items.length && delivered + droppedNow() === total;
    });
    const s = out.stats()[0];
    const dropped = droppedNow();
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBe(total - c.got.items.length);
    expect(s?.dropped.spool_full).toBe(dropped);
    // The drops raised an internal alert naming the sink and the reason.
    expect(JSON.stringify(internal)).toContain("reason=spool_full");
    // What arrives is in order and without duplicates.
    const got = seqs(c.got.items);
    expect([...got].sort((a, b) => a - b)).toEqual(got);
    expect(new Set(got).size).toBe(got.length);
    await out.shutdown(1000);
    c.stop();
  });

  test("keep_alive off closes each connection; echo logs the collector's answer at debug level", async () => {
    const c = new Collector().start();
    const out = httpOutputs(c.url(), { keep_alive: false, echo: true });
    out.publish(makeAlert(1));
    await until(() => out.stats()[0]?.delivered === 1);
    expect(c.got.headers[0]?.get("connection")).toBe("close");
    expect(logs.text()).toContain('"msg":"collector response"');
    await out.shutdown(500);
    c.stop();
  });

  test("a token file is read at start; an empty one is refused", async () => {
    const c = new Collector().start();
    const tokenPath = join(dir, "token");
    writeFileSync(tokenPath, "from-a-file\n");
    const out = httpOutputs(c.url(), { token_file: tokenPath });
    out.publish(makeAlert(1));
    await until(() => out.stats()[0]?.delivered === 1);
    expect(c.got.headers[0]?.get("authorization")).toBe("Bearer from-a-file");
    await out.shutdown(500);
    writeFileSync(tokenPath, "  \n");
    expect(() => httpOutputs(c.url(), { token_file: tokenPath })).toThrow("is empty");
    c.stop();
  });

  test("configuration errors name the key", () => {
    expect(() => httpOutputs("")).toThrow("http_output.url is empty");
    expect(() => httpOutputs("ftp://x")).toThrow("must start with http:// or https://");
    expect(() => httpOutputs("http://127.0.0.1:1/", { policy: "spool" })).toThrow(
      "http_output.spool.dir is empty",
    );
    expect(() => httpOutputs("http://127.0.0.1:1/", { token_env: "LANNER_NO_SUCH_VAR" })).toThrow(
      "LANNER_NO_SUCH_VAR",
    );
    expect(() => httpOutputs("http://127.0.0.1:1/", { mtls: true })).toThrow("client_cert");
  });
});
