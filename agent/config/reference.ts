// The configuration reference (docs/CONFIG.md) rendered from the zod schema, so the document
// cannot drift from what the agent accepts. A test compares the committed file with this output.

import { z } from "zod";
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
  const rows: string[] = [];
  walk(schema, "", rows);
  return [
    "# Configuration reference",
    "",
    "Generated from `agent/config/schema.ts` by `bun scripts/gen-config-docs.ts`; a test fails if this",
    "file and the schema disagree. Key names follow falco.yaml where Falco has the feature; keys marked",
    "*Lanner* are Lanner's own. Unknown keys are errors (with the nearest valid key suggested), values",
    "may use `${ENV_VAR}`, and `-o key.path=value` overrides any key from the command line.",
    "",
    "| Key | Type | Default | Description |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function walk(s: JsonSchema, path: string, rows: string[]): void {
  if (s.properties !== undefined && path !== "") rows.push(row(path, s, "mapping"));
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const childPath = path === "" ? key : `${path}.${key}`;
    if (child.properties !== undefined) walk(child, childPath, rows);
    else rows.push(row(childPath, child, typeOf(child)));
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

function row(path: string, s: JsonSchema, type: string): string {
  const def = s.default === undefined ? "" : `\`${JSON.stringify(s.default)}\``;
  const desc = (s.description ?? "").replace(/^Lanner: /, "*Lanner*: ").replace(/\|/g, "\\|");
  return `| \`${path}\` | ${type} | ${def} | ${desc} |`;
}
