// The web server (agent/server/http.ts) as a real HTTP(S) server on 127.0.0.1: liveness,
// readiness with the failed check named, Prometheus metrics, TLS from one PEM file, and the
// errors a bad configuration gives.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricSample } from "../../agent/common/metrics.ts";
import type { HealthCheck } from "../../agent/server/health.ts";
import { type WebServerConfig, WebServer, WebServerError } from "../../agent/server/http.ts";
import { promtool } from "./promtool.ts";

const BASE: WebServerConfig = {
  listen_address: "127.0.0.1",
  listen_port: 0,
  k8s_healthz_endpoint: "/healthz",
  prometheus_metrics_enabled: true,
  ssl_enabled: false,
  ssl_certificate: "/nonexistent.pem",
};

const SAMPLES: MetricSample[] = [
  { name: "events", type: "counter", help: "Events decoded", value: 7, labels: { kind: "execve" } },
  { name: "queue_depth", type: "gauge", help: "Alerts waiting", value: 1, labels: { sink: "file" } },
];

/** A readiness check whose answer the test sets. */
function switchable(name: string): HealthCheck & { ok: boolean } {
  return {
    name,
    ok: true,
    check() {
      return { ok: this.ok, detail: this.ok ? `${name} fine` : `${name} broken` };
    },
  };
}

describe("over HTTP", () => {
  const capture = switchable("capture");
  const sinks = switchable("sinks");
  let server: WebServer;
  beforeAll(() => {
    server = new WebServer({
      config: BASE,
      metrics: { metrics: () => SAMPLES },
      readiness: [capture, sinks],
    });
  });
  afterAll(() => server.stop());

  test("/healthz answers 200 {status: ok}", async () => {
    const r = await fetch(`${server.url}healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok", failed: [], checks: [] });
  });

  test("/readyz is 200 when every check passes, 503 naming the failed check otherwise", async () => {
    let r = await fetch(`${server.url}readyz`);
    expect(r.status).toBe(200);
    sinks.ok = false;
    try {
      r = await fetch(`${server.url}readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({
        status: "fail",
        failed: ["sinks"],
        checks: [
          { name: "capture", ok: true, detail: "capture fine" },
          { name: "sinks", ok: false, detail: "sinks broken" },
        ],
      });
    } finally {
      sinks.ok = true;
    }
  });

  test("/metrics is Prometheus text that promtool accepts, with the server's own counters", async () => {
    const r = await fetch(`${server.url}metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    const text = await r.text();
    expect(text).toContain('lanner_events_total{kind="execve"} 7\n');
    expect(promtool(text).code).toBe(0);
    expect(server.metrics().find((m) => m.name === "webserver_requests")?.value).toBeGreaterThan(0);
  });

  test("unknown paths are 404, other methods 405", async () => {
    expect((await fetch(`${server.url}nope`)).status).toBe(404);
    const post = await fetch(`${server.url}healthz`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});

test("a liveness check that throws fails with its error; metrics off is 404; a custom healthz path", async () => {
  const server = new WebServer({
    config: { ...BASE, prometheus_metrics_enabled: false, k8s_healthz_endpoint: "/live" },
    metrics: { metrics: () => SAMPLES },
    readiness: [],
    liveness: [
      {
        name: "loop",
        check() {
          throw new Error("boom");
        },
      },
    ],
  });
  try {
    const r = await fetch(`${server.url}live`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({
      failed: ["loop"],
      checks: [{ detail: "the check failed: boom" }],
    });
    expect((await fetch(`${server.url}metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}healthz`)).status).toBe(404);
  } finally {
    server.stop();
  }
});

describe("configuration errors", () => {
  test("a port in use names the keys", () => {
    const first = new WebServer({ config: BASE, metrics: { metrics: () => [] }, readiness: [] });
    try {
      expect(
        () =>
          new WebServer({
            config: { ...BASE, listen_port: first.port },
            metrics: { metrics: () => [] },
            readiness: [],
          }),
      ).toThrow(
        new RegExp(`cannot listen on 127.0.0.1:${first.port} \\(webserver.listen_address/listen_port\\)`),
      );
    } finally {
      first.stop();
    }
  });

  test("an unreadable certificate names ssl_certificate", () => {
    expect(
      () =>
        new WebServer({
          config: { ...BASE, ssl_enabled: true },
          metrics: { metrics: () => [] },
          readiness: [],
        }),
    ).toThrow(WebServerError);
  });
});

test("HTTPS with one PEM holding the key and the certificate, as Falco's falco.pem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lanner-tls-"));
  try {
    const made = Bun.spawnSync(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
      ].concat(["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]),
      { stderr: "pipe" },
    );
    expect(made.exitCode).toBe(0);
    const pem = join(dir, "lanner.pem");
    writeFileSync(
      pem,
      readFileSync(join(dir, "key.pem"), "utf8") + readFileSync(join(dir, "cert.pem"), "utf8"),
    );
    const server = new WebServer({
      config: { ...BASE, ssl_enabled: true, ssl_certificate: pem },
      metrics: { metrics: () => [] },
      readiness: [],
    });
    try {
      expect(server.url).toStartWith("https://");
      const r = await fetch(`${server.url}healthz`, { tls: { rejectUnauthorized: false } });
      expect(r.status).toBe(200);
    } finally {
      server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
