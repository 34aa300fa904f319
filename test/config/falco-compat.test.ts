// Falco's configuration read by Lanner (agent/config/falco-compat.ts, falco-keys.ts): Falco keys
// Lanner implements take effect with Falco's meaning and default, Falco keys it does not implement
// are one warning each, keys nobody knows are errors with the nearest valid key.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dump } from "js-yaml";
import { z } from "zod";
import { isFalcoKey, keyTree, lannerHasKey } from "../../agent/config/falco-compat.ts";
import { configSchema } from "../../agent/config/schema.ts";
import { FALCO_KEYS, type FalcoValue, LANNER_DEFAULT_DIFFERS } from "../../agent/config/falco-keys.ts";
import { ConfigError, loadConfigDetailed } from "../../agent/config/load.ts";

const FIXTURE = join(import.meta.dir, "fixtures/falco-mixed.yaml");

function load(text: string, name = "falco.yaml", overrides: string[] = []) {
  return loadConfigDetailed({ name, text }, overrides, {});
}

function problemsOf(text: string, overrides: string[] = []): readonly string[] {
  try {
    load(text, "falco.yaml", overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("the configuration was accepted");
}

/** A mapping with every Falco key path set to Falco's value (null ones get a value of their type). */
function everyFalcoKey(): Record<string, FalcoValue> {
  const root: Record<string, FalcoValue> = {};
  for (const [path, value] of FALCO_KEYS) {
    const parts = path.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Record<string, FalcoValue>;
    }
    node[parts[parts.length - 1]] = value;
  }
  // Falco's default config_files names a directory that exists only where Falco is installed.
  root.config_files = [];
  return root;
}

describe("Falco's key list", () => {
  test("has no duplicate paths and no path that is a prefix of another leaf", () => {
    const paths = FALCO_KEYS.map(([p]) => p);
    expect(new Set(paths).size).toBe(paths.length);
    for (const p of paths) expect(paths.filter((q) => q.startsWith(`${p}.`))).toEqual([]);
  });

  test("a config with every Falco key at Falco's default passes with 0 errors", () => {
    const loaded = load(dump(everyFalcoKey()));
    // Each warning names a known Falco key, and every unsupported leaf is covered by one.
    const warned = loaded.warnings
      .map((w) => /'([^']+)' is a known Falco key/.exec(w)?.[1])
      .filter((k) => k !== undefined);
    for (const [path] of FALCO_KEYS) {
      if (lannerHasKey(path)) continue;
      expect(warned.some((k) => path === k || path.startsWith(`${k}.`))).toBe(true);
    }
    // Implemented keys take Falco's values.
    expect(loaded.config.json_output).toBe(false);
    expect(loaded.config.rules_files).toEqual([
      "/etc/falco/falco_rules.yaml",
      "/etc/falco/falco_rules.local.yaml",
      "/etc/falco/rules.d",
    ]);
    expect(loaded.config.webserver.enabled).toBe(true);
    expect(loaded.config.webserver.listen_port).toBe(8765);
    expect(loaded.config.outputs_queue.capacity).toBe(0); // the outputs read 0 as DEFAULT_QUEUE_CAPACITY
    expect(loaded.config.metrics.interval).toBe("1h");
  });

  test("each implemented Falco key defaults to Falco's value, or is listed with the reason it differs", () => {
    const defaults = load("").config as unknown as Record<string, unknown>;
    const differing: string[] = [];
    for (const [path, falcoValue] of FALCO_KEYS) {
      if (!lannerHasKey(path) || falcoValue === null) continue;
      const ours = path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], defaults);
      if (JSON.stringify(ours) !== JSON.stringify(falcoValue)) differing.push(path);
    }
    expect(differing.sort()).toEqual(Object.keys(LANNER_DEFAULT_DIFFERS).sort());
  });

  test("isFalcoKey knows leaves, their mappings and the deprecated rules_file, and nothing else", () => {
    expect(isFalcoKey("http_output")).toBe(true);
    expect(isFalcoKey("http_output.url")).toBe(true);
    expect(isFalcoKey("rules_file")).toBe(true);
    expect(isFalcoKey("http_output.urls")).toBe(false);
    expect(isFalcoKey("state")).toBe(false);
  });
});

describe("the fixture with one key of each class", () => {
  const text = readFileSync(FIXTURE, "utf8");

  test("the only error is the unknown key, with the nearest valid key", () => {
    expect(problemsOf(text)).toEqual(["falco.yaml:26:1: unknown key 'log_levle'; did you mean 'log_level'?"]);
  });

  test("without the unknown key it loads: Falco's meaning for implemented keys, one warning per unsupported key", () => {
    const loaded = load(text.replace("log_levle: debug\n", ""));
    expect(loaded.config.json_output).toBe(true);
    expect(loaded.config.priority).toBe("warning");
    expect(loaded.config.rules_files).toEqual(["/etc/lanner/rules.yaml"]);
    expect(loaded.config.outputs_queue.capacity).toBe(0); // the outputs read 0 as DEFAULT_QUEUE_CAPACITY
    expect(loaded.config.engine.modern_ebpf.buf_size_preset).toBe(6);
    expect(loaded.config.webserver).toMatchObject({ enabled: true, listen_port: 9376 });
    expect(loaded.warnings).toEqual([
      "falco.yaml:6:1: 'rules_file' is deprecated (as in Falco); read as 'rules_files'",
      expect.stringContaining("falco.yaml:9:3: outputs_queue.capacity: 0 is Falco's 'unbounded'"),
      "falco.yaml:11:1: 'libs_logger' is a known Falco key (Falco 0.44.1), not supported by Lanner, ignored",
      "falco.yaml:16:3: 'engine.kmod' is a known Falco key (Falco 0.44.1), not supported by Lanner, ignored",
      "falco.yaml:20:5: 'engine.modern_ebpf.drop_failed_exit' is a known Falco key (Falco 0.44.1), not supported by Lanner, ignored",
      "falco.yaml:23:3: 'webserver.threadiness' is a known Falco key (Falco 0.44.1), not supported by Lanner, ignored",
    ]);
  });

  test("Falco's cpus_for_each_buffer is read with Falco's meaning, without a warning", () => {
    const loaded = load("engine:\n  modern_ebpf:\n    cpus_for_each_buffer: 2\n");
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.engine.modern_ebpf.cpus_for_each_buffer).toBe(2);
  });

  test("an unknown key under a Falco mapping Lanner lacks is still covered by that mapping's warning", () => {
    const loaded = load("libs_logger:\n  enabeld: true\n");
    expect(loaded.warnings).toEqual([expect.stringContaining("'libs_logger' is a known Falco key")]);
  });

  test("an unknown key under a mapping Lanner has is an error", () => {
    expect(problemsOf("webserver:\n  listen_prot: 1\n")).toEqual([
      "falco.yaml:2:3: unknown key 'webserver.listen_prot'; did you mean 'webserver.listen_port'?",
    ]);
  });
});

describe("Falco's values", () => {
  test("rules_file and rules_files together are refused, as Falco does", () => {
    expect(problemsOf("rules_file: /a.yaml\nrules_files: [/b.yaml]\n")).toEqual([
      "falco.yaml:1:1: both 'rules_file' (deprecated) and 'rules_files' are set; keep only 'rules_files'",
    ]);
  });

  test("Falco's http_output block (implemented by Lanner) takes effect", () => {
    const config = load("http_output:\n  enabled: true\n  url: http://127.0.0.1:2801/\n").config;
    expect(config.http_output.enabled).toBe(true);
    expect(config.http_output.url).toBe("http://127.0.0.1:2801/");
  });

  test("rules_file as a list is taken as the list", () => {
    expect(load("rules_file: [/a.yaml, /b.yaml]\n").config.rules_files).toEqual(["/a.yaml", "/b.yaml"]);
  });

  test("capacity 0 from -o is read as the bounded default, with the warning blamed on the -o", () => {
    const loaded = load("", "x.yaml", ["outputs_queue.capacity=0"]);
    expect(loaded.config.outputs_queue.capacity).toBe(0); // the outputs read 0 as DEFAULT_QUEUE_CAPACITY
    expect(loaded.warnings[0]).toStartWith(
      "-o outputs_queue.capacity=0: outputs_queue.capacity: 0 is Falco's",
    );
  });

  test.each([
    ["1h", true],
    ["1m30s", true],
    ["500ms", true],
    ["5000", true],
    ["50ms", false],
    ["1 hour", false],
    ["h", false],
  ])("metrics.interval %p accepted: %p", (interval, ok) => {
    const text = `metrics:\n  interval: "${interval}"\n`;
    if (ok) expect(load(text).config.metrics.interval).toBe(interval);
    else expect(problemsOf(text)[0]).toStartWith("falco.yaml:2:3: key 'metrics.interval': ");
  });

  test.each([
    ["0.0.0.0", true],
    ["::1", true],
    ["127.0.0.1", true],
    ["localhost", false],
    ["999.1.1.1", false],
  ])("webserver.listen_address %p accepted: %p", (address, ok) => {
    const text = `webserver:\n  listen_address: "${address}"\n`;
    if (ok) expect(load(text).config.webserver.listen_address).toBe(address);
    else
      expect(problemsOf(text)).toEqual([
        "falco.yaml:2:3: key 'webserver.listen_address': must be an IPv4 or IPv6 address, e.g. 0.0.0.0 or ::1",
      ]);
  });
});

describe("keyTree: the schema's mappings without the JSON Schema conversion", () => {
  /** Every mapping path of a tree of `properties`, as "a.b.c". */
  function paths(node: { properties?: Record<string, unknown> }, prefix = ""): string[] {
    const out: string[] = [];
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix === "" ? key : `${prefix}.${key}`;
      out.push(path, ...paths(child as { properties?: Record<string, unknown> }, path));
    }
    return out;
  }

  test("gives the same key paths as z.toJSONSchema for Lanner's whole config schema", () => {
    const viaJsonSchema = paths(
      z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as never,
    );
    const direct = paths(keyTree(configSchema));
    expect(viaJsonSchema.length).toBeGreaterThan(100);
    expect(direct).toEqual(viaJsonSchema);
  });

  test("looks through wrappers and a preprocess, and stops at unions, nullables, records and lists", () => {
    const schema = z.strictObject({
      a: z.object({ b: z.number().default(1), c: z.object({ d: z.string() }).optional() }).default({ b: 1 }),
      e: z.preprocess((v) => v, z.object({ f: z.boolean() })),
      g: z.union([z.object({ h: z.string() }), z.string()]),
      i: z.record(z.string(), z.object({ j: z.string() })),
      k: z.array(z.object({ l: z.string() })),
      m: z.object({ n: z.string() }).nullable().readonly(),
    });
    const viaJsonSchema = paths(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as never);
    expect(paths(keyTree(schema))).toEqual(viaJsonSchema);
    // A nullable mapping is an anyOf in JSON Schema: a leaf, like a union.
    expect(viaJsonSchema).toEqual(["a", "a.b", "a.c", "a.c.d", "e", "e.f", "g", "i", "k", "m"]);
  });
});
