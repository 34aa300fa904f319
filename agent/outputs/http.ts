// POSTs batches of alerts to a collector: falcosidekick (one Falco JSON alert per POST), any HTTP
// endpoint taking a JSON array or NDJSON, or an OTLP/HTTP logs receiver (otlp.ts builds its lines).
// Network errors, timeouts, 5xx, 408 and 429 are retryable (DeliveryError, Retry-After passed on);
// any other 4xx refuses the batch for good: counted as rejected, the response body logged at most
// once a minute. TLS is verified unless `insecure`; custom CAs and client certificates (mTLS).
// Header values and the token are never logged.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TokenBucket } from "../common/index.ts";
import { DeliveryError, type Transport } from "./delivery.ts";
import type { CollectorSettings, HttpBatchMode } from "./settings.ts";

export class HttpSinkError extends Error {}

/** How a batch of lines becomes one request body. */
export type BodyEncoding = HttpBatchMode | "otlp";

export interface HttpTransportOptions {
  name: string;
  settings: CollectorSettings;
  encoding: BodyEncoding;
  timeoutMs: number;
  /** Rejections and echoed bodies (debug). */
  log: (level: "warning" | "debug", msg: string, fields: Record<string, string | number>) => void;
}

interface TlsOptions {
  rejectUnauthorized: boolean;
  ca?: string[];
  cert?: string;
  key?: string;
}

const MAX_LOGGED_BODY = 512;

export class HttpTransport implements Transport {
  readonly name: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly tls: TlsOptions;
  private readonly rejectLog = new TokenBucket({ rate: 1 / 60, maxBurst: 1 });
  /** Requests answered 2xx. */
  requests = 0;

  constructor(private readonly opts: HttpTransportOptions) {
    const s = opts.settings;
    this.name = opts.name;
    this.url = checkUrl(s.url, opts.name);
    this.tls = tlsOptions(s, opts.name);
    this.headers = {
      "User-Agent": s.user_agent,
      "Content-Type": contentType(opts.encoding),
      ...s.headers,
    };
    if (!s.keep_alive) this.headers.Connection = "close";
    if (s.compress_uploads) this.headers["Content-Encoding"] = "gzip";
    const token = readToken(s, opts.name);
    if (token !== "") this.headers.Authorization = `Bearer ${token}`;
  }

  async writeBatch(lines: string[], signal: AbortSignal): Promise<number> {
    if (this.opts.encoding !== "single")
      return await this.post(encodeBody(this.opts.encoding, lines), lines.length, signal, 0);
    let rejected = 0;
    for (let i = 0; i < lines.length; i++) rejected += await this.post(lines[i] as string, 1, signal, i);
    return rejected;
  }

  /** One request; resolves with the lines rejected (0 or `count`), throws DeliveryError to retry. */
  private async post(
    body: string,
    count: number,
    signal: AbortSignal,
    deliveredBefore: number,
  ): Promise<number> {
    const payload = this.settingsCompress() ? Bun.gzipSync(Buffer.from(body, "utf8")) : body;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers: this.headers,
        body: payload,
        keepalive: this.opts.settings.keep_alive,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        tls: this.tls,
        redirect: "error",
      } as RequestInit);
    } catch (err) {
      const e = err as Error;
      const why = e.name === "TimeoutError" ? `timed out after ${this.opts.timeoutMs} ms` : e.message;
      throw new DeliveryError(`${this.name}: ${why}`, deliveredBefore);
    }
    let text = "";
    try {
      text = await res.text();
    } catch (err) {
      throw new DeliveryError(
        `${this.name}: reading the response failed: ${(err as Error).message}`,
        deliveredBefore,
      );
    }
    if (res.ok) {
      this.requests++;
      if ("echo" in this.opts.settings && this.opts.settings.echo)
        this.opts.log("debug", "collector response", {
          sink: this.name,
          status: res.status,
          body: cut(text),
        });
      return 0;
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408)
      throw new DeliveryError(
        `${this.name}: HTTP ${res.status}`,
        deliveredBefore,
        retryAfterMs(res.headers.get("retry-after")),
      );
    if (this.rejectLog.take())
      this.opts.log("warning", "the collector rejected alerts", {
        sink: this.name,
        status: res.status,
        body: cut(text),
        alerts: count,
      });
    return count;
  }

  private settingsCompress(): boolean {
    return this.opts.settings.compress_uploads;
  }

  async close(): Promise<void> {}
}

export function encodeBody(encoding: BodyEncoding, lines: readonly string[]): string {
  switch (encoding) {
    case "single":
    case "json_array":
      return `[${lines.join(",")}]`;
    case "ndjson":
      return `${lines.join("\n")}\n`;
    case "otlp":
      return `{"resourceLogs":[${lines.join(",")}]}`;
  }
}

function contentType(encoding: BodyEncoding): string {
  return encoding === "ndjson" ? "application/x-ndjson" : "application/json";
}

/** Retry-After: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function cut(text: string): string {
  return text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}...` : text;
}

function checkUrl(url: string, sink: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpSinkError(`${sink}: url '${url}' is not a valid URL (expected http://host:port/path)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new HttpSinkError(`${sink}: url '${url}' must start with http:// or https://`);
  return u.toString();
}

function readPem(path: string, key: string, sink: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new HttpSinkError(`${sink}: cannot read ${key} '${path}': ${(err as Error).message}`);
  }
}

function tlsOptions(s: CollectorSettings, sink: string): TlsOptions {
  const tls: TlsOptions = { rejectUnauthorized: !s.insecure };
  const ca: string[] = [];
  if (s.ca_cert !== "") ca.push(readPem(s.ca_cert, "ca_cert", sink));
  if (s.ca_bundle !== "") ca.push(readPem(s.ca_bundle, "ca_bundle", sink));
  if (s.ca_path !== "") {
    if (!existsSync(s.ca_path) || !statSync(s.ca_path).isDirectory())
      throw new HttpSinkError(`${sink}: ca_path '${s.ca_path}' is not a directory`);
    for (const name of readdirSync(s.ca_path).sort())
      if (/\.(pem|crt)$/.test(name)) ca.push(readPem(join(s.ca_path, name), "ca_path file", sink));
  }
  if (ca.length > 0) tls.ca = ca;
  if (s.mtls) {
    if (s.client_cert === "" || s.client_key === "")
      throw new HttpSinkError(`${sink}: mtls is on but client_cert or client_key is empty`);
    tls.cert = readPem(s.client_cert, "client_cert", sink);
    tls.key = readPem(s.client_key, "client_key", sink);
  }
  return tls;
}

function readToken(s: CollectorSettings, sink: string): string {
  if (s.token_env !== "") {
    const v = process.env[s.token_env] ?? "";
    if (v === "")
      throw new HttpSinkError(`${sink}: token_env names '${s.token_env}', which is empty or unset`);
    return v.trim();
  }
  if (s.token_file !== "") {
    const v = readPem(s.token_file, "token_file", sink).trim();
    if (v === "") throw new HttpSinkError(`${sink}: token_file '${s.token_file}' is empty`);
    return v;
  }
  return "";
}
