// HTTPS delivery with certificates made at test time by openssl: the server is verified against a
// custom CA (ca_cert, ca_bundle, ca_path), refused without it unless `insecure`, and mTLS presents
// a client certificate that a collector requiring one checks.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings, type Outputs } from "../../agent/outputs/index.ts";
import { fileLogger, makeAlert, seqs, until } from "./fixtures/alerts.ts";
import { Collector } from "./fixtures/collector.ts";

setDefaultTimeout(60_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);
const p = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
}

/** A key and a certificate signed by the test CA. */
function issue(name: string, ext: string): void {
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", `${name}.key`);
  writeFileSync(p(`${name}.ext`), ext);
  openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
  );
}

beforeAll(() => {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-subj",
    "/CN=lanner-test-ca",
    "-days",
    "1",
  );
  issue("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue("client", "extendedKeyUsage=clientAuth\n");
  mkdirSync(p("cadir"));
  copyFileSync(p("ca.crt"), p("cadir/test-ca.pem"));
});

function outputs(url: string, http: Record<string, unknown>): Outputs {
  return createOutputs(
    defaultOutputSettings({
      stdout_output: { enabled: false },
      http_output: { enabled: true, url, retry: { initial_backoff_ms: 20, max_backoff_ms: 100 }, ...http },
    }),
    { log: logs.log, hostname: "node-1" },
  );
}

const serverTls = () => ({
  cert: readFileSync(p("server.crt"), "utf8"),
  key: readFileSync(p("server.key"), "utf8"),
});

describe("TLS", () => {
  test.each([
    ["ca_cert", { ca_cert: p("ca.crt") }],
    ["ca_bundle", { ca_bundle: p("ca.crt") }],
    ["ca_path", { ca_path: p("cadir") }],
  ])("the server is verified with %s", async (_, keys) => {
    const c = new Collector({ tls: serverTls() }).start();
    const out = outputs(c.url(), keys);
    out.publish(makeAlert(1));
    await until(() => c.got.items.length === 1);
    expect(seqs(c.got.items)).toEqual([1]);
    await out.shutdown(500);
    c.stop();
  });

  test("an unknown CA is refused (retried, nothing delivered) unless insecure", async () => {
    const c = new Collector({ tls: serverTls() }).start();
    const strict = outputs(c.url(), {});
    strict.publish(makeAlert(1));
    await until(() => (strict.stats()[0]?.failures ?? 0) >= 2);
    expect(c.got.items.length).toBe(0);
    expect(strict.health()[0]?.ok).toBe(false);
    const report = await strict.shutdown(200);
    expect(report.sinks[0]?.dropped).toBe(1);
    const lax = outputs(c.url(), { insecure: true });
    lax.publish(makeAlert(2));
    await until(() => c.got.items.length === 1);
    await lax.shutdown(500);
    c.stop();
  });

  test("mTLS: a collector that requires a client certificate gets one", async () => {
    const c = new Collector({
      tls: {
        ...serverTls(),
        ca: readFileSync(p("ca.crt"), "utf8"),
        requestCert: true,
        rejectUnauthorized: true,
      },
    }).start();
    const without = outputs(c.url(), { ca_cert: p("ca.crt") });
    without.publish(makeAlert(1));
    await until(() => (without.stats()[0]?.failures ?? 0) >= 1);
    await without.shutdown(100);
    expect(c.got.items.length).toBe(0);
    const withCert = outputs(c.url(), {
      ca_cert: p("ca.crt"),
      mtls: true,
      client_cert: p("client.crt"),
      client_key: p("client.key"),
    });
    withCert.publish(makeAlert(2));
    await until(() => c.got.items.length === 1);
    expect(seqs(c.got.items)).toEqual([2]);
    await withCert.shutdown(500);
    c.stop();
  });

  test("an unreadable certificate file is a clear error naming the key", () => {
    expect(() => outputs("https://127.0.0.1:1/", { ca_cert: p("missing.pem") })).toThrow(
      "cannot read ca_cert",
    );
    expect(() => outputs("https://127.0.0.1:1/", { ca_path: p("missing-dir") })).toThrow("ca_path");
  });
});
