// The agent's web server (falco.yaml's `webserver` keys): liveness on k8s_healthz_endpoint
// (/healthz), readiness on /readyz (503 and the failed checks when not ready), and Prometheus
// metrics on /metrics when prometheus_metrics_enabled. Runs on the agent's event loop, so a
// liveness answer also proves the loop that drains the probe is not stuck.

import { readFileSync } from "node:fs";
import type { Server } from "bun";
import type { MetricSample, MetricSource } from "../common/index.ts";
import { type HealthCheck, type HealthReport, runChecks } from "./health.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";

export interface WebServerConfig {
  listen_address: string;
  listen_port: number;
  k8s_healthz_endpoint: string;
  prometheus_metrics_enabled: boolean;
  ssl_enabled: boolean;
  ssl_certificate: string;
}

export interface WebServerParts {
  config: WebServerConfig;
  metrics: MetricSource;
  readiness: readonly HealthCheck[];
  /** Liveness checks; none means "alive when it answers". */
  liveness?: readonly HealthCheck[];
}

export class WebServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebServerError";
  }
}

export class WebServer implements MetricSource {
  private readonly server: Server<undefined>;
  private requests = 0;
  private skippedSamples = 0;

  constructor(private readonly parts: WebServerParts) {
    const c = parts.config;
    let tls: { cert: string; key: string } | undefined;
    if (c.ssl_enabled) {
      let pem: string;
      try {
        pem = readFileSync(c.ssl_certificate, "utf8");
      } catch (err) {
        throw new WebServerError(
          `webserver.ssl_certificate '${c.ssl_certificate}' cannot be read: ${(err as Error).message}`,
        );
      }
      // One PEM file holds the key and the certificate chain, as Falco's falco.pem.
      tls = { cert: pem, key: pem };
    }
    try {
      this.server = Bun.serve({
        hostname: c.listen_address,
        port: c.listen_port,
        tls,
        fetch: (req) => this.handle(req),
        error: () => new Response("internal error\n", { status: 500 }),
      });
    } catch (err) {
      throw new WebServerError(
        `cannot listen on ${c.listen_address}:${c.listen_port} (webserver.listen_address/listen_port): ${(err as Error).message}`,
      );
    }
  }

  get port(): number {
    return this.server.port ?? this.parts.config.listen_port;
  }

  get url(): string {
    return this.server.url.toString();
  }

  stop(): void {
    void this.server.stop(true);
  }

  metrics(): MetricSample[] {
    return [
      {
        name: "webserver_requests",
        type: "counter",
        help: "HTTP requests the web server answered",
        value: this.requests,
      },
      {
        name: "metrics_samples_skipped",
        type: "counter",
        help: "Metric samples left out of /metrics (a conflicting type or a repeated label set)",
        value: this.skippedSamples,
      },
    ];
  }

  private handle(req: Request): Response {
    this.requests++;
    if (req.method !== "GET" && req.method !== "HEAD")
      return new Response("only GET and HEAD\n", { status: 405, headers: { allow: "GET, HEAD" } });
    const path = new URL(req.url).pathname;
    const c = this.parts.config;
    if (path === c.k8s_healthz_endpoint) return healthResponse(runChecks(this.parts.liveness ?? []));
    if (path === "/readyz") return healthResponse(runChecks(this.parts.readiness));
    if (path === "/metrics" && c.prometheus_metrics_enabled) {
      const exposition = renderPrometheus(this.parts.metrics.metrics());
      this.skippedSamples += exposition.skipped;
      return new Response(exposition.text, { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
    }
    return new Response("not found\n", { status: 404 });
  }
}

function healthResponse(report: HealthReport): Response {
  const body = {
    status: report.ok ? "ok" : "fail",
    failed: report.checks.filter((c) => !c.ok).map((c) => c.name),
    checks: report.checks,
  };
  return Response.json(body, { status: report.ok ? 200 : 503 });
}
