// docs/CONFIG.md is generated from the config schema (agent/config/reference.ts): the committed
// document must be exactly what the generator writes, and it must describe every key the
// schema accepts with the defaults the loader really applies.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../agent/config/load.ts";
import { configReference } from "../../agent/config/reference.ts";

const DOC_PATH = join(import.meta.dir, "../../docs/CONFIG.md");

/** Rows of the reference table: key -> [type, default, embedded config, description]. */
function rows(markdown: string): Map<string, [string, string, string, string]> {
  const out = new Map<string, [string, string, string, string]>();
  for (const line of markdown.split("\n")) {
    const m = /^\| `([^`]+)` \| (.*?) \| (.*?) \| (.*?) \| (.*) \|$/.exec(line);
    if (m !== null) out.set(m[1], [m[2], m[3], m[4], m[5]]);
  }
  return out;
}

/** Every key path of a plain object, mappings included. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    return [path, ...keyPaths(v, path)];
  });
}

describe("docs/CONFIG.md", () => {
  test("equals configReference(), so the document cannot drift from the schema", () => {
    const committed = readFileSync(DOC_PATH, "utf8");
    const generated = configReference();
    if (committed !== generated) {
      throw new Error(
        "docs/CONFIG.md is out of date with agent/config/schema.ts: run `bun scripts/gen-config-docs.ts` and commit the result",
      );
    }
  });

  test("the generator is deterministic", () => {
    expect(configReference()).toBe(configReference());
  });

  test("tells the reader how it is made", () => {
    expect(configReference()).toContain("`bun scripts/gen-config-docs.ts`");
  });
});

describe("configReference() against the loader", () => {
  const table = rows(configReference());
  const defaults = loadConfig({ name: "empty.yaml", text: "" }, [], {});

  test("has one row for every key the loaded configuration has, and no other", () => {
    expect([...table.keys()].sort()).toEqual(keyPaths(defaults).sort());
  });

  test("each leaf's documented default is the default the loader applies", () => {
    const mismatches: string[] = [];
    for (const [key, [, documented]] of table) {
      const actual = key.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], defaults);
      if (actual !== null && typeof actual === "object" && !Array.isArray(actual)) continue;
      // `priority` is documented in its description: its default sits behind a preprocess step.
      if (documented === "") continue;
      if (documented !== `\`${JSON.stringify(actual)}\``)
        mismatches.push(`${key}: doc ${documented}, loader ${JSON.stringify(actual)}`);
    }
    expect(mismatches).toEqual([]);
  });

  test("integer ranges in the table are the ranges the loader enforces", () => {
    for (const [key, [type]] of table) {
      const m = /^integer (\d+)\.\.(\d+)$/.exec(type);
      if (m === null) continue;
      const [min, max] = [Number(m[1]), Number(m[2])];
      const accept = (n: number) => {
        try {
          loadConfig({ name: "x.yaml", text: "" }, [`${key}=${n}`], {});
          return true;
        } catch {
          return false;
        }
      };
      expect([key, accept(min - 1), accept(min), accept(max), accept(max + 1)]).toEqual([
        key,
        false,
        true,
        true,
        false,
      ]);
    }
  });

  test("every enum value listed is accepted, as written", () => {
    for (const [key, [type]] of table) {
      const values = [...type.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      if (values.length === 0) continue;
      // A list of enum values takes each value as a one-element list.
      const list = type.startsWith("list of");
      for (const v of values)
        expect(() =>
          loadConfig({ name: "x.yaml", text: "" }, [`${key}=${list ? `[${v}]` : v}`], {}),
        ).not.toThrow();
    }
  });
});
