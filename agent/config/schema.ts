// The configuration file's schema: one zod schema is the config's type, its validation, its
// defaults and (later) its JSON Schema. Key names follow falco.yaml wherever Falco has the
// feature; Lanner's own keys are marked as such.

import { z } from "zod";
import { LOG_LEVELS } from "../log.ts";
import { outputKeys } from "../outputs/settings.ts";

const priorityNames = [
  "emergency",
  "alert",
  "critical",
  "error",
  "warning",
  "notice",
  "informational",
  "info",
  "debug",
] as const;

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
