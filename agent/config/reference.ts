// The configuration reference (docs/CONFIG.md) rendered from the zod schema, so the document
// cannot drift from what the agent accepts. A test compares the committed file with this output.

import { z } from "zod";
import { DEFAULT_CONFIG } from "./embedded.ts";
import { lannerHasKey } from "./falco-compat.ts";
import { FALCO_CONFIG_VERSION, FALCO_KEYS, LANNER_DEFAULT_DIFFERS } from "./falco-keys.ts";
import { loadConfig } from "./load.ts";
import { configSchema } from "./schema.ts";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

export function configReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const embedded = loadConfig(DEFAULT_CONFIG, [], {}) as unknown as Record<string, unknown>;
  const rows: string[] = [];
  walk(schema, "", rows, embedded);
  const unsupported = FALCO_KEYS.map(([path]) => path).filter((path) => !lannerHasKey(path));
  const differs = Object.entries(LANNER_DEFAULT_DIFFERS).map(([path, why]) => `| \`${path}\` | ${why} |`);
  return [
    "# Configuration reference",
    "",
    "Generated from `agent/config/schema.ts` by `bun scripts/gen-config-docs.ts`; a test fails if this",
    "file and the schema disagree. Key names follow falco.yaml where Falco has the feature; keys marked",
    "*Lanner* are Lanner's own. Unknown keys are errors (with the nearest valid key suggested), values",
    "may use `${ENV_VAR}`, and `-o key.path=value` overrides any key from the command line.",
    "",
    "*Default* is the schema's default, what a key you leave out gets (Falco's default wherever Falco",
    "has the key, except the keys listed further down). *Embedded config* is the value in the",
    "configuration built into the executable (agent/config/default.yaml, used when `run` gets no",
    "`-c`), where it differs from the default.",
    "",
    "| Key | Type | Default | Embedded config | Description |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "## Falco keys",
    "",
    `Lanner reads Falco's falco.yaml (keys as of Falco ${FALCO_CONFIG_VERSION}, listed in`,
    "agent/config/falco-keys.ts). A Falco key Lanner implements has Falco's meaning; its default is",
    "Falco's except for these keys:",
    "",
    "| Key | Why Lanner's default differs |",
    "|---|---|",
    ...differs,
    "",
    "Falco's deprecated `rules_file` is read as `rules_files`, with a warning. These Falco keys are",
    'not implemented: each one present gives one warning ("known Falco key, not supported by',
    'Lanner, ignored"), never an error; a key under one of them is covered by its warning.',
    "",
    ...unsupported.map((path) => `- \`${path}\``),
    "",
  ].join("\n");
}

function walk(s: JsonSchema, path: string, rows: string[], embedded: Record<string, unknown>): void {
  if (s.properties !== undefined && path !== "") rows.push(row(path, s, "mapping", ""));
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const childPath = path === "" ? key : `${path}.${key}`;
    if (child.properties !== undefined) walk(child, childPath, rows, embedded);
    else {
      const value = childPath
        .split(".")
        .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], embedded);
      const differs = child.default !== undefined && JSON.stringify(value) !== JSON.stringify(child.default);
      rows.push(row(childPath, child, typeOf(child), differs ? `\`${JSON.stringify(value)}\`` : ""));
    }
  }
}

function typeOf(s: JsonSchema): string {
  if (s.enum !== undefined) return s.enum.map((v) => `\`${String(v)}\``).join(", ");
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.type === "array")
    return `list of ${s.items === undefined ? "values" : typeOf(s.items).replace(/^mapping$/, "mappings")}`;
  if (s.anyOf !== undefined) return s.anyOf.map(typeOf).join(" or ");
  if (s.properties !== undefined) return `mapping (${Object.keys(s.properties).join(", ")})`;
  const t = Array.isArray(s.type) ? s.type.join("/") : (s.type ?? "any");
  const range = s.type === "integer" && s.minimum !== undefined ? ` ${s.minimum}..${s.maximum ?? ""}` : "";
  return `${t}${range}`;
}

function row(path: string, s: JsonSchema, type: string, embedded: string): string {
  const def = s.default === undefined ? "" : `\`${JSON.stringify(s.default)}\``;
  const desc = (s.description ?? "").replace(/^Lanner: /, "*Lanner*: ").replace(/\|/g, "\\|");
  return `| \`${path}\` | ${type} | ${def} | ${embedded} | ${desc} |`;
}
