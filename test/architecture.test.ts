// Every import in agent/ follows the layer table (agent/layers.ts): across layers only through the
// entry module, and only downwards. docs/ARCHITECTURE.md shows that same table.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { importProblems, LAYER_BY_NAME, LAYERS, layerOf, layersMarkdown } from "../agent/layers.ts";

const ROOT = join(import.meta.dir, "..");
const AGENT = join(ROOT, "agent");

interface ImportRef {
  line: number;
  specifier: string;
}

// Declarations start a line (the formatter puts them there); the clause between `import`/`export`
// and `from` is names, braces, commas and `*`, so `export const x = "... from ..."` is not one.
const DECLARATION = /^(?:import|export)\b[\w\s{},*$]*?\bfrom\s*["']([^"']+)["']/gm;
const SIDE_EFFECT = /^import\s*["']([^"']+)["']/gm;
// import("x"), in code or in a type position.
const DYNAMIC = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The module specifiers a TypeScript source imports or re-exports, with the line of each. */
function scanImports(text: string): ImportRef[] {
  const found = new Map<number, string>();
  for (const re of [DECLARATION, SIDE_EFFECT, DYNAMIC])
    for (const m of text.matchAll(re)) found.set(m.index, m[1]!);
  return [...found]
    .sort(([x], [y]) => x - y)
    .map(([offset, specifier]) => ({ line: text.slice(0, offset).split("\n").length, specifier }));
}

function agentSources(dir = AGENT): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...agentSources(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** file:line: problem, for every import in `sources` (paths relative to agent/) that breaks a rule. */
function violations(sources: ReadonlyMap<string, string>): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  for (const [file, text] of sources)
    for (const { line, specifier } of scanImports(text)) {
      if (!specifier.startsWith(".")) continue; // packages, node:, bun:
      const target = resolve(AGENT, dirname(file), specifier);
      if (!target.startsWith(`${AGENT}/`)) continue; // native/build, package.json, rules/
      const to = relative(AGENT, target);
      if (layerOf(to) !== layerOf(file)) checked++;
      for (const p of importProblems(file, to)) problems.push(`agent/${file}:${line}: ${p}`);
    }
  return { checked, problems };
}

describe("the import scanner", () => {
  test("finds declarations, re-exports, side-effect and dynamic imports with their lines", () => {
    const text = [
      'import { a } from "./a.ts";',
      "import type {",
      "  B,",
      "  C,",
      '} from "../b/c.ts";',
      'export { d } from "./d.ts";',
      'export * from "./e.ts";',
      'import "./f.ts";',
      "const g = await import('./g.ts');",
      'export const HELP = `use it from "here"`;',
      '// import { h } from "./h.ts";',
    ].join("\n");
    expect(scanImports(text)).toEqual([
      { line: 1, specifier: "./a.ts" },
      { line: 2, specifier: "../b/c.ts" },
      { line: 6, specifier: "./d.ts" },
      { line: 7, specifier: "./e.ts" },
      { line: 8, specifier: "./f.ts" },
      { line: 9, specifier: "./g.ts" },
    ]);
  });
});

describe("the layer rules", () => {
  const source = (file: string, ...lines: string[]) => new Map([[file, lines.join("\n")]]);

  test("another layer's inner module is refused, naming file, line and the entry to use", () => {
    const { problems } = violations(
      source("rules/fields/extract/x.ts", "// why", 'import { FD_TRACK } from "../../../events/schema.ts";'),
    );
    expect(problems).toEqual([
      "agent/rules/fields/extract/x.ts:2: imports agent/events/schema.ts, inside " +
        '"events": import agent/events/index.ts, its entry module [entry-module rule]',
    ]);
  });

  test("a lower layer importing a higher one is refused, even through its entry", () => {
    const { problems } = violations(
      source("state/x.ts", 'import type { RuleEngine } from "../rules/index.ts";'),
    );
    expect(problems).toEqual([
      'agent/state/x.ts:1: "state" (rank 2) imports "rules" (rank 3): a layer imports only layers ' +
        "of a lower rank [layer-order rule]",
    ]);
  });

  test("layers of one rank do not import each other", () => {
    const { problems } = violations(
      source("capture/x.ts", 'export { StateTracker } from "../state/index.ts";'),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("[layer-order rule]");
  });

  test("both rules at once, a folder without a row, and what is allowed", () => {
    const sources = new Map([
      ["events/x.ts", 'import { runCli } from "../cli/dispatch.ts";'],
      ["newstage/x.ts", 'import { Logger } from "../log.ts";'],
      [
        "rules/load/x.ts",
        [
          'import { parseYamlText } from "../../yaml/index.ts";',
          'import { check } from "../condition/check.ts";',
          'import { z } from "zod";',
          'import lib from "../../../native/build/liblanner.so" with { type: "file" };',
        ].join("\n"),
      ],
    ]);
    const { checked, problems } = violations(sources);
    expect(checked).toBe(3);
    expect(problems.map((p) => p.replace(/: .*\[/, ": [").replace(/\]$/, ""))).toEqual([
      "agent/events/x.ts:1: [entry-module rule",
      "agent/events/x.ts:1: [layer-order rule",
      "agent/newstage/x.ts:1: [layer table",
    ]);
  });
});

describe("agent/", () => {
  test("every import follows the layer table (agent/layers.ts)", () => {
    const sources = new Map(agentSources().map((p) => [relative(AGENT, p), readFileSync(p, "utf8")]));
    const { checked, problems } = violations(sources);
    expect(problems).toEqual([]);
    // The scanner still sees the imports between layers (a broken scanner would pass vacuously).
    expect(checked).toBeGreaterThan(100);
  });

  test("every folder and top-level module has one row, and each entry module exists", () => {
    const names = readdirSync(AGENT)
      .filter((n) => statSync(join(AGENT, n)).isDirectory() || n.endsWith(".ts"))
      .map(layerOf)
      .sort();
    expect(LAYERS.map((l) => l.name).sort()).toEqual(names);
    expect(LAYER_BY_NAME.size).toBe(LAYERS.length);
    for (const l of LAYERS) {
      expect(existsSync(join(AGENT, l.entry))).toBe(true);
      expect(layerOf(l.entry)).toBe(l.name);
    }
  });

  test("docs/ARCHITECTURE.md's layer table is agent/layers.ts's", () => {
    const doc = readFileSync(join(ROOT, "docs/ARCHITECTURE.md"), "utf8");
    const block = /<!-- layers:start -->\n([\s\S]*?)\n<!-- layers:end -->/.exec(doc);
    expect(block?.[1]).toBe(layersMarkdown());
  });
});
