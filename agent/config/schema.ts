// The configuration file's schema: one zod schema is the config's type, its validation, its
// defaults and (later) its JSON Schema. Key names follow falco.yaml wherever Falco has the
// feature; Lanner's own keys are marked as such.

import { z } from "zod";
import { PRIORITY_SPELLINGS } from "../common/priorities.ts";
import { LOG_LEVELS } from "../log.ts";

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
  json_output: z.boolean().default(true).describe("Alerts as JSON objects (else text lines)"),
  json_include_output_property: z
    .boolean()
    .default(true)
    .describe('JSON alerts carry the rendered text in "output"'),
  json_include_tags_property: z
    .boolean()
    .default(true)
    .describe('JSON alerts carry the rule\'s tags in "tags"'),
  time_format_iso_8601: z
    .boolean()
    .default(false)
    .describe("Text alert times in ISO 8601 instead of HH:MM:SS"),
  stdout_output: z
    .strictObject({ enabled: z.boolean().default(true).describe("Write alerts to standard output") })
    .prefault({}),
  file_output: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Append alerts to a file"),
      keep_alive: z.boolean().default(true).describe("Keep the file open (Lanner always does)"),
      filename: z
        .string()
        .min(1)
        .default("./lanner_alerts.jsonl")
        .describe("The alert file, created with mode 0600 if missing"),
    })
    .prefault({}),
  outputs_queue: z
    .strictObject({
      capacity: z
        .int()
        .min(
          1,
          "must be at least 1: Lanner's queues are always bounded (Falco's 0 = unbounded is not accepted)",
        )
        .max(10_000_000)
        .default(10_000)
        .describe("Alerts each sink may hold before new ones are dropped and counted"),
    })
    .prefault({}),
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
          drain_interval_ms: z
            .int()
            .min(1)
            .max(1000)
            .default(10)
            .describe("Lanner: how often the ring buffer is drained"),
        })
        .prefault({}),
    })
    .prefault({}),
  state: z
    .strictObject({
      max_processes: z.int().min(16).max(10_000_000).default(65_536).describe("Lanner: process table cap"),
      host_root: z
        .string()
        .min(1)
        .default("/")
        .describe("Lanner: where the host's root is mounted (/host in a pod)"),
    })
    .prefault({})
    .describe("Lanner: state tables"),
});

export type LannerConfig = z.infer<typeof configSchema>;

/** Ring buffer bytes for a Falco buf_size_preset. */
export function ringBytesForPreset(preset: number): number {
  return 1 << (19 + preset);
}
