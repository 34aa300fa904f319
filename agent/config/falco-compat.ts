// Falco's falco.yaml read by Lanner: before the schema sees the tree, keys Falco has and Lanner
// does not implement are removed with one warning each (the highest such key: `http_output`, not
// its fourteen children), the deprecated `rules_file` becomes `rules_files`, and values Falco
// accepts where Lanner's default is safer get a warning. Keys nobody knows are left for the
// schema, which reports them as errors with the nearest valid key.

import type { z } from "zod";
import { FALCO_CONFIG_VERSION, FALCO_DEPRECATED_KEYS, FALCO_KEYS } from "./falco-keys.ts";
import { configSchema } from "./schema.ts";

export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };
export type PlainMap = { [key: string]: Plain };

/** Where each key path is written ("file:line:col" or "-o key=value"). */
export type Origins = Map<string, string>;

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
}

let schemaTree: JsonSchemaNode | undefined;
/** The schema's mappings as JSON Schema properties (computed once). */
function lannerSchemaTree(): JsonSchemaNode {
  schemaTree ??= keyTree(configSchema);
  return schemaTree;
}

/** The minimal zod internals keyTree reads (zod v4's `_zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}

/**
 * The mappings of a schema as z.toJSONSchema(schema, { io: "input" }) gives their `properties`
 * (test/config/falco-compat.test.ts compares the two), read straight from the schema: the JSON
 * Schema conversion took tens of milliseconds of every start (docs/PERFORMANCE.md, Replay).
 * Wrappers are looked through; a pipe is its input side (its output when the input is a
 * transform, as for a preprocess); anything else (union, nullable, record, list) is a leaf.
 */
export function keyTree(schema: z.ZodType): JsonSchemaNode {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  switch (def.type) {
    case "object": {
      const properties: Record<string, JsonSchemaNode> = {};
      for (const [key, child] of Object.entries(def.shape ?? {})) properties[key] = keyTree(child);
      return { properties };
    }
    case "default":
    case "prefault":
    case "optional":
    case "nonoptional":
    case "readonly":
    case "catch":
      return def.innerType === undefined ? {} : keyTree(def.innerType);
    case "pipe": {
      const input = def.in as z.ZodType;
      const inner =
        (input as unknown as { _zod: { def: SchemaDef } })._zod.def.type === "transform" ? def.out : input;
      return inner === undefined ? {} : keyTree(inner);
    }
    default:
      return {};
  }
}

let falcoPaths: Set<string> | undefined;
/** Every Falco key path and every prefix of one (`http_output`, `http_output.url`, ...). */
function knownFalcoPaths(): Set<string> {
  if (falcoPaths === undefined) {
    falcoPaths = new Set(Object.keys(FALCO_DEPRECATED_KEYS));
    for (const [path] of FALCO_KEYS) {
      const parts = path.split(".");
      for (let i = 1; i <= parts.length; i++) falcoPaths.add(parts.slice(0, i).join("."));
    }
  }
  return falcoPaths;
}

/** Whether Lanner's schema has the key path (mappings only; list items are not walked). */
export function lannerHasKey(path: string): boolean {
  let node: JsonSchemaNode | undefined = lannerSchemaTree();
  for (const part of path.split(".")) {
    node =
      node?.properties !== undefined && Object.hasOwn(node.properties, part)
        ? node.properties[part]
        : undefined;
    if (node === undefined) return false;
  }
  return true;
}

/** Whether the key path is one of Falco's (a leaf or a mapping that holds some). */
export function isFalcoKey(path: string): boolean {
  return knownFalcoPaths().has(path);
}

const isMap = (v: Plain | undefined): v is PlainMap =>
  v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);

/**
 * Rewrites `root` in place for Falco compatibility. Returns the warnings; adds errors to
 * `problems` (both set: `rules_file` and `rules_files`, as Falco refuses too).
 */
export function adaptFalcoConfig(root: PlainMap, origins: Origins, problems: string[]): string[] {
  const warnings: string[] = [];
  const at = (path: string) => origins.get(path) ?? origins.get("") ?? "config";

  for (const [old, current] of Object.entries(FALCO_DEPRECATED_KEYS)) {
    if (!(old in root)) continue;
    if (current in root) {
      problems.push(
        `${at(old)}: both '${old}' (deprecated) and '${current}' are set; keep only '${current}'`,
      );
      continue;
    }
    const value = root[old] ?? null;
    root[current] = typeof value === "string" ? [value] : value;
    delete root[old];
    origins.set(current, at(old));
    warnings.push(`${at(old)}: '${old}' is deprecated (as in Falco); read as '${current}'`);
  }

  const queue = root.outputs_queue;
  if (isMap(queue) && queue.capacity === 0) {
    warnings.push(
      `${at("outputs_queue.capacity")}: outputs_queue.capacity: 0 is Falco's 'unbounded'; Lanner never runs an unbounded queue and reads it as its bounded default (10000 alerts per sink), which is safer for memory`,
    );
  }

  dropUnsupported(root, "", lannerSchemaTree(), origins, warnings);
  return warnings;
}

function dropUnsupported(
  map: PlainMap,
  prefix: string,
  schema: JsonSchemaNode,
  origins: Origins,
  warnings: string[],
): void {
  for (const key of Object.keys(map)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const child =
      schema.properties !== undefined && Object.hasOwn(schema.properties, key)
        ? schema.properties[key]
        : undefined;
    if (child !== undefined) {
      const value = map[key];
      if (child.properties !== undefined && isMap(value))
        dropUnsupported(value, path, child, origins, warnings);
      continue;
    }
    if (!isFalcoKey(path)) continue;
    warnings.push(
      `${origins.get(path) ?? "config"}: '${path}' is a known Falco key (Falco ${FALCO_CONFIG_VERSION}), not supported by Lanner, ignored`,
    );
    delete map[key];
  }
}
