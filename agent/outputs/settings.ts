// The output settings: the configuration keys of alert delivery, as one zod shape that
// agent/config/schema.ts spreads into the whole schema. Key names follow falco.yaml where Falco has
// the feature; descriptions starting "Lanner:" mark Lanner's own keys (docs/CONFIG.md, docs/OUTPUTS.md).

import { z } from "zod";

/** What a sink does with a new alert when its queue is full (docs/OUTPUTS.md). */
export const FULL_POLICIES = ["drop_newest", "drop_oldest", "spool"] as const;
export type FullPolicy = (typeof FULL_POLICIES)[number];

/** How a batch of alerts travels in one HTTP request. */
export const HTTP_BATCH_MODES = ["single", "json_array", "ndjson"] as const;
export type HttpBatchMode = (typeof HTTP_BATCH_MODES)[number];

/** A sink's own policy; "inherit" takes outputs_queue.policy (or spool when the sink has a spool.dir). */
const policy = z
  .enum([...FULL_POLICIES, "inherit"])
  .default("inherit")
  .describe(
    "Lanner: when this sink's queue is full: drop_newest, drop_oldest, spool (needs spool.dir), or inherit (outputs_queue.policy; spool when spool.dir is set)",
  );

const tlsKeys = {
  insecure: z.boolean().default(false).describe("Skip TLS certificate verification (never in production)"),
  ca_cert: z.string().default("").describe("CA certificate file (PEM) to verify the server with"),
  ca_bundle: z.string().default("").describe("CA bundle file (PEM)"),
  ca_path: z.string().default("").describe("Directory of CA certificates (PEM files)"),
  mtls: z.boolean().default(false).describe("Present a client certificate (client_cert, client_key)"),
  client_cert: z.string().default("").describe("Client certificate file (PEM) for mTLS"),
  client_key: z.string().default("").describe("Client private key file (PEM) for mTLS"),
  compress_uploads: z.boolean().default(false).describe("gzip request bodies"),
  keep_alive: z.boolean().default(true).describe("Reuse connections between requests"),
};

const collectorKeys = (mode: HttpBatchMode) => ({
  ...tlsKeys,
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe("Lanner: extra request headers (values are never logged)"),
  token_env: z
    .string()
    .default("")
    .describe("Lanner: environment variable holding a bearer token (Authorization: Bearer ...)"),
  token_file: z.string().default("").describe("Lanner: file holding a bearer token, read at start"),
  timeout_ms: z.int().min(0).max(600_000).default(0).describe("Lanner: request timeout; 0 = output_timeout"),
  batch: z
    .strictObject({
      mode: z
        .enum(HTTP_BATCH_MODES)
        .default(mode)
        .describe("Lanner: single (one alert per POST), json_array or ndjson"),
      max_alerts: z.int().min(1).max(100_000).default(500).describe("Lanner: alerts per batch at most"),
      max_bytes: z
        .int()
        .min(1024)
        .max(64 << 20)
        .default(1 << 20)
        .describe("Lanner: bytes per batch at most"),
      linger_ms: z
        .int()
        .min(0)
        .max(60_000)
        .default(50)
        .describe("Lanner: wait this long for a batch to fill"),
    })
    .prefault({})
    .describe("Lanner: batching"),
  retry: z
    .strictObject({
      initial_backoff_ms: z.int().min(1).max(600_000).default(250).describe("Lanner: first retry delay"),
      max_backoff_ms: z.int().min(1).max(3_600_000).default(30_000).describe("Lanner: longest retry delay"),
      max_attempts: z
        .int()
        .min(0)
        .max(1_000_000)
        .default(0)
        .describe("Lanner: attempts per batch before it is dropped (counted); 0 = until delivered"),
    })
    .prefault({})
    .describe("Lanner: retries on network errors, 5xx, 408 and 429 (Retry-After honoured)"),
  policy,
  spool: z
    .strictObject({
      dir: z.string().default("").describe("Lanner: spool directory (created 0700); empty = no spool"),
      max_bytes: z
        .int()
        .min(4096)
        .max(2 ** 40)
        .default(256 << 20)
        .describe("Lanner: spool size cap; beyond it alerts are dropped and counted"),
    })
    .prefault({})
    .describe("Lanner: disk spool used while the collector is unreachable"),
});

export const outputKeys = {
  json_output: z.boolean().default(true).describe("Alerts as JSON objects (else text lines)"),
  json_include_output_property: z
    .boolean()
    .default(true)
    .describe('JSON alerts carry the rendered text in "output"'),
  json_include_tags_property: z
    .boolean()
    .default(true)
    .describe('JSON alerts carry the rule\'s tags in "tags"'),
  json_include_message_property: z
    .boolean()
    .default(false)
    .describe('JSON alerts carry the message without time and priority in "message"'),
  json_include_output_fields_property: z
    .boolean()
    .default(true)
    .describe('JSON alerts carry the fields in "output_fields"'),
  time_format_iso_8601: z
    .boolean()
    .default(false)
    .describe("Text alert times in ISO 8601 instead of HH:MM:SS"),
  buffered_outputs: z
    .boolean()
    .default(false)
    .describe("Accepted; Lanner writes each batch as it is taken (see file_output.fsync)"),
  output_timeout: z
    .int()
    .min(1)
    .max(600_000)
    .default(2000)
    .describe("Milliseconds a sink write may take (HTTP request timeout unless timeout_ms is set)"),
  stdout_output: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Write alerts to standard output (non-blocking)"),
      policy,
    })
    .prefault({}),
  file_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Append alerts to a file"),
      keep_alive: z.boolean().default(true).describe("Keep the file open (Lanner always does)"),
      filename: z
        .string()
        .min(1)
        .default("./lanner_alerts.jsonl")
        .describe("The alert file, created 0600; a symlink or a file of another user is refused"),
      max_bytes: z
        .int()
        .min(0)
        .max(2 ** 44)
        .default(0)
        .describe("Lanner: rotate when the file would exceed this size; 0 = never"),
      keep: z.int().min(1).max(1000).default(5).describe("Lanner: rotated files kept (name.1 ... name.N)"),
      fsync: z.boolean().default(false).describe("Lanner: fsync after each batch"),
      policy,
    })
    .prefault({}),
  syslog_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Send alerts to the local syslog socket"),
      socket: z.string().min(1).default("/dev/log").describe("Lanner: the syslog datagram socket"),
      format: z.enum(["rfc3164", "rfc5424"]).default("rfc3164").describe("Lanner: syslog line format"),
      policy,
    })
    .prefault({}),
  program_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Pipe alerts to a program's standard input"),
      keep_alive: z
        .boolean()
        .default(false)
        .describe("Keep the program running between alerts (else one run per batch)"),
      program: z.string().default("").describe("Command line, run with sh -c; restarted if it exits"),
      policy,
    })
    .prefault({}),
  http_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("POST alerts to a collector (falcosidekick or any)"),
      url: z.string().default("").describe("Collector URL (http:// or https://)"),
      user_agent: z.string().default("lanner").describe("User-Agent header"),
      echo: z.boolean().default(false).describe("Log each collector response body (debug level)"),
      ...collectorKeys("single"),
    })
    .prefault({}),
  otlp_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Lanner: send alerts as OTLP/HTTP JSON log records"),
      url: z
        .string()
        .default("http://127.0.0.1:4318/v1/logs")
        .describe("Lanner: the OTLP/HTTP logs endpoint"),
      user_agent: z.string().default("lanner").describe("Lanner: User-Agent header"),
      ...collectorKeys("json_array"),
    })
    .prefault({})
    .describe("Lanner: OpenTelemetry logs output"),
  outputs_queue: z
    .strictObject({
      capacity: z
        .int()
        .min(0, "must be at least 0 (0, Falco's unbounded, is read as Lanner's bounded default)")
        .max(10_000_000)
        .default(10_000)
        .describe(
          "Alerts each sink may hold; 0 (Falco's unbounded) is read as Lanner's bounded default, with a warning",
        ),
      max_bytes: z
        .int()
        .min(4096)
        .max(2 ** 40)
        .default(32 << 20)
        .describe("Lanner: bytes each sink's queue may hold"),
      policy: z
        .enum(FULL_POLICIES)
        .default("drop_oldest")
        .describe("Lanner: default policy when a queue is full (drop_oldest keeps the latest alerts)"),
      shutdown_timeout_ms: z
        .int()
        .min(0)
        .max(600_000)
        .default(5000)
        .describe("Lanner: on SIGTERM, time to deliver what is queued before the rest is spooled or counted"),
    })
    .prefault({}),
  alert_rate_limit: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Lanner: throttle alerts per rule"),
      rate: z.number().min(0).max(1e6).default(1).describe("Lanner: alerts per second per rule"),
      max_burst: z.int().min(1).max(1e6).default(100).describe("Lanner: burst per rule"),
    })
    .prefault({})
    .describe("Lanner: per-rule throttling (token bucket); throttled alerts are counted"),
};

const outputSettingsSchema = z.strictObject(outputKeys);
export type OutputSettings = z.infer<typeof outputSettingsSchema>;
export type CollectorSettings = OutputSettings["http_output"] | OutputSettings["otlp_output"];

/** The defaults, for tests and tools that build settings without the config loader. */
export function defaultOutputSettings(overrides: Record<string, unknown> = {}): OutputSettings {
  return outputSettingsSchema.parse(overrides);
}

/** Lanner's bounded default when outputs_queue.capacity is 0 (Falco's "unbounded"). */
export const DEFAULT_QUEUE_CAPACITY = 10_000;
