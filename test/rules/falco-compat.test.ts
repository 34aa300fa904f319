// Acceptance: Falco's own rule files load unchanged. They live outside the repo, in
// ../shared/falco-rules (relative to the repo root); when that directory is missing, every test
// here FAILS with a message saying so, instead of being skipped.
//
// Falco loads falco_rules.yaml first and the incubating and sandbox files after it; each of the
// three files also loads on its own. Every supported order must give no error, keep every rule
// (nothing silently skipped), and give every rule a narrowed set of event types.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatDiagnostic } from "../../agent/rules/load/diagnostics.ts";
import { type LoadResult, loadRuleFiles } from "../../agent/rules/load/load.ts";

const ROOT = resolve(import.meta.dir, "../..");
const RULES_DIR = resolve(ROOT, "../shared/falco-rules");
const STABLE = join(RULES_DIR, "falco_rules.yaml");
const INCUBATING = join(RULES_DIR, "falco-incubating_rules.yaml");
const SANDBOX = join(RULES_DIR, "falco-sandbox_rules.yaml");
const ALL_FILES = [STABLE, INCUBATING, SANDBOX];
const HAVE_RULES = ALL_FILES.every((f) => existsSync(f));

if (!HAVE_RULES) {
  console.error(
    `\n!!! Falco's rule files are missing from ${RULES_DIR} (../shared/falco-rules from the repo root). ` +
      "The Falco compatibility tests FAIL until falco_rules.yaml, falco-incubating_rules.yaml and " +
      "falco-sandbox_rules.yaml are there. !!!\n",
  );
}

function requireRules(): void {
  if (!HAVE_RULES) {
    throw new Error(
      `Falco rule files not found in ${RULES_DIR}: expected ${ALL_FILES.map((f) => f.slice(RULES_DIR.length + 1)).join(", ")} ` +
        "in ../shared/falco-rules from the repo root",
    );
  }
}

/** The orders Falco supports: each file alone, and the stable file followed by the others. */
const ORDERS: { label: string; files: string[] }[] = [
  { label: "stable", files: [STABLE] },
  { label: "incubating alone", files: [INCUBATING] },
  { label: "sandbox alone", files: [SANDBOX] },
  { label: "stable + incubating", files: [STABLE, INCUBATING] },
  { label: "stable + sandbox", files: [STABLE, SANDBOX] },
  { label: "stable + incubating + sandbox", files: [STABLE, INCUBATING, SANDBOX] },
];

const loaded = new Map<string, LoadResult>();
function loadOrder(files: string[]): LoadResult {
  const key = files.join("\n");
  let r = loaded.get(key);
  if (r === undefined) {
    r = loadRuleFiles(files);
    loaded.set(key, r);
  }
  return r;
}

/** Every rule name the files define (`- rule: NAME` entries with a condition, i.e. definitions). */
function definedRuleNames(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/^- rule: (.+)$/gm)) names.add(m[1].trim().replace(/^(["'])(.*)\1$/, "$2"));
  }
  return names;
}

describe("Falco's rule files", () => {
  test("the rule files are present in ../shared/falco-rules", () => {
    requireRules();
  });

  test("stable + incubating + sandbox, in that order, load with 0 errors (warnings printed)", () => {
    requireRules();
    const r = loadOrder(ALL_FILES);
    const warnings = r.diagnostics.items.filter((d) => d.severity === "warning");
    console.log(
      `falco_rules + incubating + sandbox: ${r.ruleset.rules.length} rules, ${r.ruleset.macros.size} macros, ` +
        `${r.ruleset.lists.size} lists; ${warnings.length} warning(s)`,
    );
    for (const w of warnings) console.log(formatDiagnostic(w));
    const errors = r.diagnostics.items.filter((d) => d.severity === "error");
    expect(errors.map(formatDiagnostic)).toEqual([]);
    expect(r.files.map((f) => f.name)).toEqual(ALL_FILES);
  });

  for (const { label, files } of ORDERS) {
    test(`${label}: 0 errors, every rule compiled, every rule on a narrowed set of event types`, () => {
      requireRules();
      const r = loadOrder(files);
      const errors = r.diagnostics.items.filter((d) => d.severity === "error");
      expect(errors.map(formatDiagnostic)).toEqual([]);

      // Nothing is skipped (unknown source, skip-if-unknown-filter): every defined rule is there.
      expect(r.ruleset.rules.map((x) => x.name).sort()).toEqual([...definedRuleNames(files)].sort());

      const broad = r.ruleset.rules
        .filter((x) => x.eventTypes === "all" || x.eventTypes.size > 100)
        .map((x) => x.name);
      expect(broad).toEqual([]);
    });
  }

  test("the stable file has the size its README states (25 rules, 87 macros, 49 lists)", () => {
    requireRules();
    const r = loadOrder([STABLE]);
    expect([r.ruleset.rules.length, r.ruleset.macros.size, r.ruleset.lists.size]).toEqual([25, 87, 49]);
  });
});

describe("lanner rules validate on Falco's rule files", () => {
  const BUN = join(ROOT, "node_modules/.bin/bun");
  const run = (args: string[]) => {
    const p = Bun.spawnSync([BUN, "agent/main.ts", "rules", "validate", ...args], { cwd: ROOT });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  };

  test("exits 0 and prints the summary line", () => {
    requireRules();
    const out = run(ALL_FILES);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const last = out.stdout.trim().split("\n").pop() ?? "";
    expect(last).toMatch(
      /^3 file\(s\): [0-9]+ rules, [0-9]+ macros, [0-9]+ lists; 0 error\(s\), [0-9]+ warning\(s\)$/,
    );
    const r = loadOrder(ALL_FILES);
    expect(last).toContain(
      `${r.ruleset.rules.length} rules, ${r.ruleset.macros.size} macros, ${r.ruleset.lists.size} lists`,
    );
  });

  test("--json parses and reports errors: 0", () => {
    requireRules();
    const out = run(["--json", ...ALL_FILES]);
    expect(out.code).toBe(0);
    const parsed = JSON.parse(out.stdout);
    expect(parsed.errors).toBe(0);
    expect(parsed.files).toEqual(ALL_FILES);
    expect(parsed.diagnostics.filter((d: { severity: string }) => d.severity === "error")).toEqual([]);
    expect(parsed.warnings).toBe(parsed.diagnostics.length);
  });
});
