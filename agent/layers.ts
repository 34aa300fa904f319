// The order of the agent's folders: the one table that says which folder may import which.
// A layer imports only layers of a lower rank (so data flows one way and peers of one rank stay
// independent), and only through the other layer's entry module. test/architecture.test.ts checks
// every import in agent/ against this table, and that docs/ARCHITECTURE.md shows it.

/** shared: foundations any layer may use; stage: one step of the event path or its configuration;
 *  assembly: the stages wired together; operations: around a running agent; command: the CLI. */
export type LayerRole = "shared" | "stage" | "assembly" | "operations" | "command";

export interface Layer {
  /** A folder of agent/, or a single file of agent/ (its name without ".ts"). */
  readonly name: string;
  /** The module other layers import, relative to agent/. */
  readonly entry: string;
  /** A layer imports only layers of a lower rank. */
  readonly rank: number;
  readonly role: LayerRole;
  readonly job: string;
}

export const LAYERS: readonly Layer[] = [
  {
    name: "common",
    entry: "common/index.ts",
    rank: 0,
    role: "shared",
    job: "metric samples, the priority vocabulary, the token bucket",
  },
  { name: "log", entry: "log.ts", rank: 0, role: "shared", job: "the agent's own log" },
  {
    name: "allocator",
    entry: "allocator.ts",
    rank: 0,
    role: "shared",
    job: "the allocator's setting for long-running commands (may execute the program again)",
  },
  {
    name: "yaml",
    entry: "yaml/index.ts",
    rank: 0,
    role: "shared",
    job: "YAML with the position of every node, for error messages",
  },
  { name: "layers", entry: "layers.ts", rank: 0, role: "shared", job: "this table" },
  {
    name: "events",
    entry: "events/index.ts",
    rank: 1,
    role: "stage",
    job: "the event table, record decoding, event types and times",
  },
  {
    name: "capture",
    entry: "capture/index.ts",
    rank: 2,
    role: "stage",
    job: "the live probe (load, attach, drain the ring) and the syscall selection",
  },
  {
    name: "state",
    entry: "state/index.ts",
    rank: 2,
    role: "stage",
    job: "process, fd, user and container tables kept from the events",
  },
  {
    name: "rules",
    entry: "rules/index.ts",
    rank: 3,
    role: "stage",
    job: "rule loading, conditions, fields, the engine",
  },
  {
    name: "capturefile",
    entry: "capturefile/index.ts",
    rank: 4,
    role: "stage",
    job: "the capture file: writer, reader, taps",
  },
  {
    name: "outputs",
    entry: "outputs/index.ts",
    rank: 4,
    role: "stage",
    job: "alert formatting and bounded delivery to the sinks",
  },
  {
    name: "config",
    entry: "config/index.ts",
    rank: 5,
    role: "stage",
    job: "the configuration schema, loading and defaults",
  },
  {
    name: "agent",
    entry: "agent/index.ts",
    rank: 5,
    role: "assembly",
    job: "the Agent: source, state, engine and outputs, with clock, metrics and lifecycle",
  },
  {
    name: "server",
    entry: "server/index.ts",
    rank: 5,
    role: "operations",
    job: "the web server: health and metrics endpoints",
  },
  {
    name: "security",
    entry: "security/index.ts",
    rank: 5,
    role: "operations",
    job: "dropping privileges after attach",
  },
  {
    name: "ops",
    entry: "ops/index.ts",
    rank: 6,
    role: "operations",
    job: "signals, hot reload, file watching, periodic metrics",
  },
  { name: "cli", entry: "cli/index.ts", rank: 7, role: "command", job: "the commands" },
  { name: "main", entry: "main.ts", rank: 8, role: "command", job: "the executable's entry point" },
];

export const LAYER_BY_NAME: ReadonlyMap<string, Layer> = new Map(LAYERS.map((l) => [l.name, l]));

/** The layer a path inside agent/ belongs to: its first folder, or a top-level file's name. */
export function layerOf(pathInAgent: string): string {
  const slash = pathInAgent.indexOf("/");
  return slash >= 0 ? pathInAgent.slice(0, slash) : pathInAgent.replace(/\.ts$/, "");
}

/**
 * What is wrong with the module at `from` importing the module at `to` (both relative to agent/):
 * one message per broken rule, none when the import is allowed.
 */
export function importProblems(from: string, to: string): string[] {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === b) return [];
  const fromLayer = LAYER_BY_NAME.get(a);
  const toLayer = LAYER_BY_NAME.get(b);
  const problems: string[] = [];
  for (const name of [a, b])
    if (!LAYER_BY_NAME.has(name)) problems.push(`"${name}" has no row in agent/layers.ts [layer table]`);
  if (fromLayer === undefined || toLayer === undefined) return problems;
  if (to !== toLayer.entry)
    problems.push(
      `imports agent/${to}, inside "${b}": import agent/${toLayer.entry}, its entry module [entry-module rule]`,
    );
  if (toLayer.rank >= fromLayer.rank)
    problems.push(
      `"${a}" (rank ${fromLayer.rank}) imports "${b}" (rank ${toLayer.rank}): a layer imports only ` +
        `layers of a lower rank [layer-order rule]`,
    );
  return problems;
}

/** The table as docs/ARCHITECTURE.md shows it, lowest rank first. */
export function layersMarkdown(): string {
  const rows = [...LAYERS].sort((x, y) => x.rank - y.rank);
  return [
    "| Rank | Layer | Role | Entry module | Job |",
    "|---|---|---|---|---|",
    ...rows.map((l) => `| ${l.rank} | \`${l.name}\` | ${l.role} | \`agent/${l.entry}\` | ${l.job} |`),
  ].join("\n");
}
