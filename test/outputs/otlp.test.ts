// OTLP/HTTP logs: a receiver on 127.0.0.1 decodes what Lanner sends (JSON encoding) and checks the
// records: resource attributes (host, container, pod), severity from the priority, the output as
// body, typed attributes; the same retry machinery applies (a 503 is retried).

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings } from "../../agent/outputs/index.ts";
import { SEVERITY_NUMBER } from "../../agent/outputs/otlp.ts";
import { PRIORITIES } from "../../agent/rules/load/items.ts";
import { fileLogger, makeAlert, until } from "./fixtures/alerts.ts";
import { Collector } from "./fixtures/collector.ts";

setDefaultTimeout(30_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-otlp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);

interface KV {
  key: string;
  value: Record<string, unknown>;
}
interface ResourceLogs {
  resource: { attributes: KV[] };
  scopeLogs: {
    scope: { name: string };
    logRecords: {
      timeUnixNano: string;
      severityNumber: number;
      severityText: string;
      body: { stringValue: string };
      attributes: KV[];
    }[];
  }[];
}
const attr = (kvs: KV[], key: string) => kvs.find((k) => k.key === key)?.value;

describe("otlp_output", () => {
  test("records carry resource, severity, body and typed attributes, in order", async () => {
    const c = new Collector().start();
    const out = createOutputs(
      defaultOutputSettings({
        stdout_output: { enabled: false },
        otlp_output: {
          enabled: true,
          url: c.url("/v1/logs"),
          batch: { linger_ms: 10 },
          retry: { initial_backoff_ms: 20 },
        },
      }),
      { log: logs.log, hostname: "node-1" },
    );
    c.mode = "500";
    c.faultBudget = 1;
    out.publish(
      makeAlert(1, {
        priority: "Critical",
        outputFields: {
          seq: 1,
          "container.id": "0123456789ab",
          "k8s.pod.name": "web-7d9f",
          "k8s.ns.name": "shop",
          "proc.pid": 4242n,
          "evt.is_open_read": true,
          ratio: 0.5,
          "fd.name": null,
        },
      }),
    );
    out.publish(makeAlert(2, { priority: "Debug", outputFields: { seq: 2, "container.id": "host" } }));
    await until(() => c.got.items.length === 2);
    const [a, b] = c.got.items as ResourceLogs[];
    if (a === undefined || b === undefined) throw new Error("two records expected");
    expect(c.got.headers[0]?.get("content-type")).toBe("application/json");
    expect(attr(a.resource.attributes, "host.name")).toEqual({ stringValue: "node-1" });
    expect(attr(a.resource.attributes, "container.id")).toEqual({ stringValue: "0123456789ab" });
    expect(attr(a.resource.attributes, "k8s.pod.name")).toEqual({ stringValue: "web-7d9f" });
    expect(attr(a.resource.attributes, "k8s.namespace.name")).toEqual({ stringValue: "shop" });
    // The host itself is not a container.
    expect(attr(b.resource.attributes, "container.id")).toBeUndefined();
    const rec = a.scopeLogs[0]?.logRecords[0];
    expect(a.scopeLogs[0]?.scope.name).toBe("lanner");
    expect(rec?.severityNumber).toBe(21);
    expect(rec?.severityText).toBe("Critical");
    expect(rec?.timeUnixNano).toBe("1700000000000001000");
    expect(rec?.body.stringValue).toContain("Critical alert number 1");
    const at = rec?.attributes ?? [];
    expect(attr(at, "falco.rule")).toEqual({ stringValue: "Read sensitive file" });
    expect(attr(at, "proc.pid")).toEqual({ intValue: "4242" });
    expect(attr(at, "evt.is_open_read")).toEqual({ boolValue: true });
    expect(attr(at, "ratio")).toEqual({ doubleValue: 0.5 });
    expect(attr(at, "fd.name")).toBeUndefined();
    expect(attr(at, "falco.tags")).toEqual({
      arrayValue: { values: [{ stringValue: "filesystem" }, { stringValue: "mitre_credential_access" }] },
    });
    expect(b.scopeLogs[0]?.logRecords[0]?.severityNumber).toBe(5);
    expect(out.stats()[0]?.retries).toBe(1);
    await out.shutdown(500);
    c.stop();
  });

  test("every priority maps into its OpenTelemetry severity range, most severe highest", () => {
    const numbers = PRIORITIES.map((p) => SEVERITY_NUMBER[p]);
    expect([...numbers].sort((x, y) => y - x)).toEqual(numbers);
    for (const n of numbers) expect(n >= 1 && n <= 24).toBe(true);
  });
});
