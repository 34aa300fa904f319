// Loading the configuration: the YAML file (or the embedded default), `${ENV}` expansion, `-o
// key.path=value` overrides, then the zod schema. A problem names the file, line and key path, and
// an unknown key gets the nearest valid key as a suggestion.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { z } from "zod";
import { editDistance } from "../common/index.ts";
import {
  clipMessage,
  coreScalarValue,
  escapeForTerminal,
  isNullScalar,
  parseYamlDocuments,
  parseYamlText,
  positionAt,
  type SourceFile,
  sourceFile,
  type YamlNode,
  YamlSyntaxError,
} from "../yaml/index.ts";
import { adaptFalcoConfig, type Origins, type Plain, type PlainMap } from "./falco-compat.ts";
import { configSchema, type LannerConfig } from "./schema.ts";

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    // Problems quote keys and values from the file: control and escape bytes are shown escaped.
    const safe = problems.flatMap((p) => p.split("\n")).map((p) => escapeForTerminal(clipMessage(p)));
    super(safe.join("\n"));
    this.name = "ConfigError";
    this.problems = safe;
  }
}

type Origin = string;

export interface ConfigSource {
  name: string;
  text: string;
}

/** A loaded configuration, the warnings found on the way, and every file it was read from. */
export interface LoadedConfig {
  config: LannerConfig;
  warnings: string[];
  /** The main file and each file merged through config_files (for watch_config_files). */
  files: string[];
  /** The config_files directories (a new file there changes the config too). */
  directories: string[];
}

export function loadConfig(
  source: ConfigSource,
  overrides: readonly string[] = [],
  env: Record<string, string | undefined> = process.env,
): LannerConfig {
  return loadConfigDetailed(source, overrides, env).config;
}

export function loadConfigDetailed(
  source: ConfigSource,
  overrides: readonly string[] = [],
  env: Record<string, string | undefined> = process.env,
): LoadedConfig {
  const file = sourceFile(source.name, source.text);
  const origins: Origins = new Map();
  const problems: string[] = [];
  const warnings: string[] = [];
  const root = parseConfigText(file, origins, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  // config_files may itself come from -o (as in Falco); the other overrides apply after the merge.
  const filesOverrides = overrides.filter((o) => o.startsWith("config_files="));
  for (const o of filesOverrides) applyOverride(root, o, origins, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const merged = mergeConfigFiles(root, source.name, origins, env, problems, warnings);
  if (problems.length > 0) throw new ConfigError(problems);

  for (const o of overrides) if (!filesOverrides.includes(o)) applyOverride(root, o, origins, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  warnings.push(...adaptFalcoConfig(root, origins, problems));
  if (problems.length > 0) throw new ConfigError(problems);

  // Without zod's generated parsers: a config is parsed once or twice a run, and generating them
  // took about 20 ms of every start (docs/PERFORMANCE.md, Replay).
  const result = configSchema.safeParse(root, { jitless: true });
  if (result.success) {
    return {
      config: result.data,
      warnings,
      files: [source.name, ...merged.files],
      directories: merged.directories,
    };
  }
  for (const issue of result.error.issues) problems.push(describeIssue(issue, origins, file));
  throw new ConfigError(problems);
}

/** One file's text as a plain mapping; problems are added, never thrown. */
function parseConfigText(
  file: SourceFile,
  origins: Origins,
  env: Record<string, string | undefined>,
  problems: string[],
): PlainMap {
  let root: PlainMap = {};
  try {
    const docs = parseYamlDocuments(file);
    if (docs.length > 1) {
      problems.push(
        `${where(file, docs[1].start)}: a configuration file holds one YAML document; a second one starts here`,
      );
    }
    const doc = docs[0];
    if (doc !== undefined && !isNullScalar(doc)) {
      if (doc.kind !== "mapping")
        problems.push(`${where(file, doc.start)}: the configuration must be a mapping of keys`);
      else root = toPlain(doc, [], origins, env, problems) as PlainMap;
    }
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    problems.push(`${where(file, err.offset)}: invalid YAML: ${err.message}`);
  }
  return root;
}

type Strategy = "append" | "override" | "add-only";

/**
 * Merges the files named by `config_files` into `root`, in order, as Falco does: a directory
 * contributes its regular files in name order; only top-level keys are merged (append: a list is
 * appended, anything else replaced; override: replaced; add-only: set only if absent). An included
 * file may not name config_files itself. A path that does not exist is skipped with a warning.
 */
function mergeConfigFiles(
  root: PlainMap,
  mainName: string,
  origins: Origins,
  env: Record<string, string | undefined>,
  problems: string[],
  warnings: string[],
): { files: string[]; directories: string[] } {
  const files: string[] = [];
  const directories: string[] = [];
  const entries = root.config_files;
  if (!Array.isArray(entries)) return { files, directories };
  entries.forEach((entry, i) => {
    const at = origins.get(`config_files.${i}`) ?? mainName;
    let path: string;
    let strategy: Strategy = "append";
    if (typeof entry === "string") path = entry;
    else if (
      entry !== null &&
      typeof entry === "object" &&
      !Array.isArray(entry) &&
      typeof entry.path === "string"
    ) {
      path = entry.path;
      const s = entry.strategy;
      if (s === "append" || s === "override" || s === "add-only") strategy = s;
      else if (s !== undefined) return; // the schema reports the bad strategy
    } else return; // the schema reports the bad entry
    if (resolve(path) === resolve(mainName)) {
      problems.push(`${at}: config_files includes the main configuration file itself (${path})`);
      return;
    }
    let names: string[];
    try {
      if (statSync(path).isDirectory()) {
        directories.push(path);
        names = readdirSync(path)
          .sort()
          .map((n) => join(path, n))
          .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true);
      } else names = [path];
    } catch (err) {
      warnings.push(`${at}: config_files entry '${path}' skipped: ${(err as Error).message}`);
      return;
    }
    for (const name of names) {
      let text: string;
      try {
        text = readFileSync(name, "utf8");
      } catch (err) {
        problems.push(`${at}: cannot read config file '${name}': ${(err as Error).message}`);
        continue;
      }
      const included = parseConfigText(sourceFile(name, text), origins, env, problems);
      files.push(name);
      for (const [key, value] of Object.entries(included)) {
        if (key === "config_files") {
          problems.push(
            `${origins.get(key) ?? name}: an included config file may not name config_files itself (only the main file does)`,
          );
          continue;
        }
        const current = Object.hasOwn(root, key) ? root[key] : undefined;
        if (strategy === "add-only" && current !== undefined) continue;
        if (strategy === "append" && Array.isArray(current) && Array.isArray(value))
          setOwn(root, key, [...current, ...value]);
        else setOwn(root, key, value);
      }
    }
  });
  return { files, directories };
}

function where(file: SourceFile, offset: number): string {
  const p = positionAt(file, offset);
  return `${file.name}:${p.line}:${p.column}`;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Converts to plain values; `origins` maps each key path to where its key (or item) is written. */
function toPlain(
  node: YamlNode,
  path: string[],
  origins: Origins,
  env: Record<string, string | undefined>,
  problems: string[],
): Plain {
  if (path.length === 0 && !origins.has("")) origins.set("", where(node.file, node.start));
  switch (node.kind) {
    case "mapping": {
      const out: PlainMap = {};
      for (const { key, value } of node.entries) {
        origins.set([...path, key.value].join("."), where(key.file, key.start));
        setOwn(out, key.value, toPlain(value, [...path, key.value], origins, env, problems));
      }
      return out;
    }
    case "sequence":
      return node.items.map((item, i) => {
        origins.set([...path, String(i)].join("."), where(item.file, item.start));
        return toPlain(item, [...path, String(i)], origins, env, problems);
      });
    case "scalar": {
      const value = coreScalarValue(node);
      if (typeof value !== "string" || !value.includes("${")) return value;
      // ${VAR} takes the environment variable's value, as falco.yaml allows; an unquoted value is
      // then typed as YAML would type it, so `capacity: ${CAP}` with CAP=5 is the number 5.
      const expanded = value.replace(ENV_REF, (_, name: string) => {
        const v = env[name];
        if (v === undefined) {
          problems.push(
            `${where(node.file, node.start)}: key '${path.join(".")}' uses \${${name}}, but the environment variable ${name} is not set`,
          );
          return "";
        }
        return v;
      });
      return node.style === "plain" ? coreScalarValue({ ...node, value: expanded }) : expanded;
    }
  }
}

/** `-o key.path=value`: the value is read as YAML (5, true, [a, b], "text"). */
function applyOverride(root: PlainMap, text: string, origins: Origins, problems: string[]): void {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    problems.push(`-o ${text}: expected KEY.PATH=VALUE, e.g. -o file_output.enabled=false`);
    return;
  }
  const path = text.slice(0, eq).split(".");
  if (path.some((p) => p === "")) {
    problems.push(`-o ${text}: the key path has an empty component`);
    return;
  }
  let value: Plain = null;
  try {
    // The same bounded reader as files: aliases in a value are capped like aliases in a file.
    const [doc] = parseYamlText(`-o ${text.slice(0, eq)}`, text.slice(eq + 1)).documents;
    if (doc !== undefined) value = plainOf(doc);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    problems.push(`-o ${text}: the value is not valid YAML: ${err.message.split("\n")[0]}`);
    return;
  }
  for (let i = 1; i <= path.length; i++) {
    const prefix = path.slice(0, i).join(".");
    if (!origins.has(prefix)) origins.set(prefix, `-o ${text}`);
  }
  let node: PlainMap = root;
  for (let i = 0; i < path.length - 1; i++) {
    // Own keys only: `-o __proto__.x=1` names a key '__proto__' (unknown to the schema), never
    // Object.prototype.
    const next = Object.hasOwn(node, path[i]) ? node[path[i]] : undefined;
    if (next === undefined || next === null || typeof next !== "object" || Array.isArray(next))
      setOwn(node, path[i], {});
    node = node[path[i]] as PlainMap;
  }
  setOwn(node, path[path.length - 1], value);
  origins.set(path.join("."), `-o ${text}`);
}

/** A key written as an own property, even '__proto__' (plain assignment would set the prototype). */
export function setOwn(target: PlainMap, key: string, value: Plain): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An `-o` value read with YAML's core types, as a file's values are. */
function plainOf(node: YamlNode): Plain {
  switch (node.kind) {
    case "scalar":
      return coreScalarValue(node);
    case "sequence":
      return node.items.map(plainOf);
    case "mapping": {
      const out: PlainMap = {};
      for (const { key, value } of node.entries) setOwn(out, key.value, plainOf(value));
      return out;
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue, origins: Map<string, Origin>, file: SourceFile): string {
  const path = issue.path.map(String);
  const key = path.join(".");
  let origin: Origin | undefined;
  for (let n = path.length; n >= 0 && origin === undefined; n--)
    origin = origins.get(path.slice(0, n).join("."));
  const at = origin ?? file.name;
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((k) => {
        const full = [...path, k].join(".");
        const keyOrigin = origins.get(full) ?? at;
        const hint = nearestKey(path, k);
        return `${keyOrigin}: unknown key '${full}'${hint === undefined ? "" : `; did you mean '${[...path, hint].join(".")}'?`}`;
      })
      .join("\n");
  }
  return `${at}: key '${key === "" ? "(top level)" : key}': ${issue.message}`;
}

interface SchemaDef {
  type: string;
  options?: { _zod: { def: SchemaDef } }[];
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
}

/** A schema key's definition; own keys only, so '__proto__' or 'constructor' find nothing. */
function ownShape(def: SchemaDef | undefined, key: string): { _zod: { def: SchemaDef } } | undefined {
  const shape = def?.shape;
  return shape !== undefined && Object.hasOwn(shape, key) ? shape[key] : undefined;
}

/** The valid key closest to `key` among the keys of the object at `path` in the schema. */
function nearestKey(path: readonly string[], key: string): string | undefined {
  let def: SchemaDef | undefined = (configSchema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  const unwrap = (d: SchemaDef | undefined): SchemaDef | undefined => {
    let cur = d;
    while (cur?.innerType !== undefined) cur = cur.innerType._zod.def;
    return cur;
  };
  // Inside a union (a `rules:` step), look at every alternative that has the key.
  const step = (d: SchemaDef | undefined, key: string): SchemaDef | undefined => {
    const u = unwrap(d);
    if (u?.type === "array") return u.element?._zod.def;
    if (u?.type === "union") {
      for (const o of u.options ?? []) {
        const found = ownShape(unwrap(o._zod.def), key);
        if (found !== undefined) return found._zod.def;
      }
      return undefined;
    }
    return ownShape(u, key)?._zod.def;
  };
  for (const p of path) def = step(def, p);
  def = unwrap(def);
  const keys =
    def?.type === "union"
      ? (def.options ?? []).flatMap((o) => Object.keys(unwrap(o._zod.def)?.shape ?? {}))
      : Object.keys(def?.shape ?? {});
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(key.length / 3)) + 1;
  for (const k of keys) {
    const d = editDistance(key, k, bestDistance);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
