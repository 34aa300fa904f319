// The configuration file's schema: one zod schema is the config's type, its validation, its
// defaults and (later) its JSON Schema. Key names follow falco.yaml wherever Falco has the
// feature; Lanner's own keys are marked as such.

import { z } from "zod";
import { PRIORITY_SPELLINGS } from "../common/index.ts";
import { LOG_LEVELS } from "../log.ts";
import { outputKeys } from "../outputs/index.ts";

// The spellings come from the one priority table the rule loader reads too.
const priorityNames = PRIORITY_SPELLINGS;

/** Falco priorities, written in any case ("WARNING", "Warning", "warning"). */
const priority = z.preprocess((v) => (typeof v === "string" ? v.toLowerCase() : v), z.enum(priorityNames));

const selector = z.strictObject({
  rule: z.string().min(1).optional().describe("Rule name; * matches any text"),
  tag: z.string().min(1).optional().describe("Rule tag"),
});

const selectionStep = z.union([z.strictObject({ enable: selector }), z.strictObject({ disable: selector })], {
  error: "each step is 'enable: {rule: NAME}' or 'disable: {tag: TAG}' (a rule name may use *)",
});

const appendOutputEntry = z.strictObject({
  match: z
    .strictObject({
      source: z.string().min(1).optional().describe("Event source, e.g. syscall"),
      tags: z.array(z.string().min(1)).optional().describe("Rules with all these tags"),
      rule: z.string().min(1).optional().describe("Rule name"),
    })
    .optional()
    .describe("Which rules; every rule when absent"),
  extra_output: z.string().optional().describe("Text with %fields appended to the output"),
  suggested_output: z
    .boolean()
    .optional()
    .describe("Append the suggested context fields (container.id, container.name, image, pod, namespace)"),
});

/** A Prometheus-style duration as Falco's metrics.interval takes it: 1h, 30s, 1m30s, 500ms; bare digits are ms. */
const DURATION = /^(?:\d+|(?:\d+(?:ms|s|m|h|d|w|y))+)$/;

export const configSchema = z.strictObject({
  rules_files: z
    .array(z.string().min(1))
    .default([])
    .describe("Rule files or directories, loaded in order; empty means Lanner's embedded default rules"),
  priority: priority
    .default("debug")
    .describe("Minimum rule priority to load, any case (default: debug, i.e. all rules)"),
  rule_matching: z
    .enum(["first", "all"])
    .default("first")
    .describe("Report the first matching rule per event, or all"),
  rules: z.array(selectionStep).default([]).describe("Enable/disable rules by name or tag, applied in order"),
  // Alert delivery: every output key, defined with the sinks (agent/outputs/settings.ts).
  ...outputKeys,
  log_level: z
    .enum(LOG_LEVELS)
    .default("info")
    .describe("The agent's own log (JSON lines on stderr, text on a terminal)"),
  engine: z
    .strictObject({
      kind: z
        .literal("modern_ebpf")
        .default("modern_ebpf")
        .describe("Lanner has one capture engine: a CO-RE eBPF probe"),
      modern_ebpf: z
        .strictObject({
          buf_size_preset: z
            .int()
            .min(1)
            .max(10)
            .default(4)
            .describe("Ring buffer size: 1 = 1 MiB ... 4 = 8 MiB ... 10 = 512 MiB"),
          cpus_for_each_buffer: z
            .int()
            .min(0)
            .max(4096)
            .default(0)
            .describe(
              "Rings: 0 = one ring shared by all CPUs (records in one global order), N = one ring of buf_size_preset's size per N online CPUs, as in Falco",
            ),
          drain_interval_ms: z
            .int()
            .min(1)
            .max(1000)
            .default(100)
            .describe(
              "Lanner: how often the ring buffer is drained, in ms; a drain that finds an eighth of a ring filled brings the next one forward to a tenth of this. The longest an event waits before the rules see it",
            ),
        })
        .prefault({}),
      prefilter: z
        .boolean()
        .default(true)
        .describe(
          "Lanner: drop in the kernel what no loaded rule and no state update can use: opens whose flags and path no rule can match (the open prefilter, derived from the rules; `rules explain` shows it) and successful closes of fds whose creation was not recorded (when no rule runs on close)",
        ),
    })
    .prefault({}),
  syscall_event_drops: z
    .strictObject({
      threshold: z
        .number()
        .min(0)
        .max(1)
        .default(0.1)
        .describe("Drop ratio over the last second (dropped / seen) above which the actions apply"),
      actions: z
        .array(z.enum(["ignore", "log", "alert", "exit"]))
        .default(["log", "alert"])
        .describe("What to do when the threshold is passed: ignore, log, alert, exit"),
      rate: z
        .number()
        .min(0)
        .max(1000)
        .default(0.03333)
        .describe("Actions per second allowed (token bucket refill rate; 0.03333 = one per 30 s)"),
      max_burst: z.int().min(1).max(1000).default(1).describe("Actions allowed in a burst"),
    })
    .prefault({})
    .describe("Kernel drops: what happens when the probe loses events"),
  state: z
    .strictObject({
      max_processes: z.int().min(16).max(10_000_000).default(65_536).describe("Lanner: process table cap"),
      host_root: z
        .string()
        .min(1)
        .default("/")
        .describe("Lanner: where the host's root is mounted (/host in a pod)"),
      max_fds_per_process: z
        .int()
        .min(16)
        .max(1_048_576)
        .default(1024)
        .describe("Lanner: fds tracked per process; the oldest is dropped (counted) past it"),
      max_fds_total: z
        .int()
        .min(1024)
        .max(100_000_000)
        .default(262_144)
        .describe("Lanner: fds tracked over all processes"),
      max_containers: z
        .int()
        .min(16)
        .max(1_000_000)
        .default(4096)
        .describe("Lanner: containers whose metadata is cached (least recently used out)"),
      max_users: z
        .int()
        .min(16)
        .max(10_000_000)
        .default(65_536)
        .describe("Lanner: passwd and group entries kept, each"),
      repair_rate: z
        .number()
        .min(0)
        .max(100_000)
        .default(200)
        .describe("Lanner: processes first seen mid-life read from /proc, per second"),
      repair_burst: z.int().min(1).max(1_000_000).default(1000).describe("Lanner: burst of those reads"),
    })
    .prefault({})
    .describe("Lanner: state tables"),
  container_engines: z
    .strictObject({
      containerd: containerEngine("/run/containerd/io.containerd.runtime.v2.task"),
      "cri-o": containerEngine("/var/lib/containers/storage/overlay-containers"),
      docker: containerEngine("/var/lib/docker"),
    })
    .prefault({})
    .describe("Container runtimes whose on-disk state gives container and pod metadata (no network client)"),
  append_output: z
    .array(appendOutputEntry)
    .default([{ suggested_output: true }])
    .describe("Text added to rule outputs, as falco.yaml; suggested_output adds container and pod context"),
  // --- Operating the agent (config files, reload, web server, periodic metrics) ---
  config_files: z
    .array(
      z.union([
        z.string().min(1),
        z.strictObject({
          path: z.string().min(1),
          strategy: z.enum(["append", "override", "add-only"]).default("append"),
        }),
      ]),
    )
    .default([])
    .describe(
      "More config files or directories (their files in name order) merged over this one, in order; strategy append (lists appended, other keys replaced), override or add-only; a missing path is skipped with a warning",
    ),
  watch_config_files: z
    .boolean()
    .default(true)
    .describe("Reload (as on SIGHUP) when a config or rules file changes"),
  webserver: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Serve /healthz, /readyz and /metrics over HTTP"),
      listen_port: z.int().min(0).max(65_535).default(8765).describe("TCP port (0: any free port)"),
      listen_address: z
        .union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address, e.g. 0.0.0.0 or ::1" })
        .default("0.0.0.0")
        .describe("Address to listen on"),
      k8s_healthz_endpoint: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be a path starting with /")
        .default("/healthz")
        .describe("Path of the liveness endpoint"),
      prometheus_metrics_enabled: z
        .boolean()
        .default(false)
        .describe("Serve /metrics in Prometheus text format"),
      ssl_enabled: z.boolean().default(false).describe("HTTPS instead of HTTP"),
      ssl_certificate: z
        .string()
        .min(1)
        .default("/etc/lanner/lanner.pem")
        .describe("PEM file holding the private key and the certificate (as Falco's)"),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Report the metrics periodically"),
      interval: z
        .string()
        .regex(DURATION, "must be a duration such as 1h, 15m, 30s, 1m30s or 500ms")
        .refine((text) => durationMs(text) >= 100, "must be at least 100ms")
        .default("1h")
        .describe("How often: a duration (1h, 30s, 1m30s; bare digits are ms), at least 100ms"),
      output_rule: z
        .boolean()
        .default(true)
        .describe(
          "As an internal alert (rule 'Lanner internal: metrics snapshot') through the outputs; else a log line",
        ),
      output_file: z.string().default("").describe("Also append each snapshot as a JSON line to this file"),
      include_empty_values: z.boolean().default(false).describe("Include metrics whose value is 0"),
    })
    .prefault({}),
  capture: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe("Write a capture file when a rule with `capture: true` fires"),
      path_prefix: z
        .string()
        .min(1)
        .default("/tmp/lanner")
        .describe("Capture files are <path_prefix>_<rule>_<alert time in ns>.lcap (docs/CAPTURE.md)"),
      mode: z
        .enum(["rules", "all_rules"])
        .default("rules")
        .describe("rules: only rules with `capture: true`; all_rules: every rule"),
      default_duration: z
        .int()
        .min(1)
        .max(3_600_000)
        .default(5000)
        .describe("Milliseconds (event time) captured after the alert, for rules without capture_duration"),
      // falco.yaml leaves this key empty (null): read as not set, as Falco does.
      max_file_size_mb: z
        .preprocess(
          (v) => (v === null ? undefined : v),
          z
            .int()
            .min(
              1,
              "must be at least 1: a capture file is always capped (Falco's 0 = unlimited is not accepted)",
            )
            .max(4096)
            .default(100),
        )
        .describe("Cap on one capture file; the capture ends when it is reached (empty: the default)"),
      ring_size_mb: z
        .int()
        .min(1)
        .max(1024)
        .default(4)
        .describe("Lanner: memory for the recent records written before the alert"),
      compression: z
        .enum(["none", "gzip", "zstd"])
        .default("zstd")
        .describe("Lanner: compression of each block of the capture file"),
    })
    .prefault({})
    .describe("Rule-triggered capture (Falco's capture keys, docs/CAPTURE.md)"),
});

function containerEngine(stateDir: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe("Read this runtime's state"),
      state_dir: z
        .string()
        .min(1)
        .default(stateDir)
        .describe(`Lanner: its state directory below host_root (default ${stateDir})`),
    })
    .prefault({});
}

export type LannerConfig = z.infer<typeof configSchema>;

/** Ring buffer bytes for a Falco buf_size_preset. */
export function ringBytesForPreset(preset: number): number {
  return 1 << (19 + preset);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Milliseconds of a duration that matches DURATION (metrics.interval). */
export function durationMs(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * DURATION_UNIT_MS[m[2]];
  return total;
}
