// The rule-key table is the one vocabulary of rule entries: RULE_KEY_TABLE drives the reader, and
// docs/RULES.md's copy of it is checked here; the policies are checked against the reader.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { RULE_KEY_TABLE } from "../../../agent/rules/load/items.ts";
import { loadRuleSources } from "../../../agent/rules/load/load.ts";

const ROOT = resolve(import.meta.dir, "../../..");

function ruleKeyTable(): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  return [
    "| Key | Required | Meaning | Default | Append | Replace |",
    "|---|---|---|---|---|---|",
    ...RULE_KEY_TABLE.map(
      (r) =>
        `| \`${r.yaml}\` | ${yes(r.required)} | ${r.meaning} | ${r.default} | ${yes(r.append)} | ${yes(r.replace)} |`,
    ),
  ].join("\n");
}

const BASE = "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n";

function diagnostics(text: string): string[] {
  return loadRuleSources([{ name: "r.yaml", text: BASE + text }]).diagnostics.items.map(
    (d) => `${d.code}: ${d.message}`,
  );
}

describe("the rule-key table", () => {
  test("docs/RULES.md's table is the code's table", () => {
    const doc = readFileSync(join(ROOT, "docs/RULES.md"), "utf8");
    const block = /<!-- rule-keys:start -->\n([\s\S]*?)\n<!-- rule-keys:end -->/.exec(doc);
    expect(block?.[1]).toBe(ruleKeyTable());
  });

  test("every key is known to the reader (no unknown_key warning)", () => {
    const values: Record<string, string> = {
      source: "syscall",
      enabled: "true",
      tags: "[a]",
      exceptions: "[]",
      warn_evttypes: "false",
      "skip-if-unknown-filter": "false",
      capture: "false",
      capture_duration: "5",
    };
    const extra = Object.entries(values)
      .map(([k, v]) => `  ${k}: ${v}\n`)
      .join("");
    expect(diagnostics(extra).filter((d) => d.startsWith("unknown_key"))).toEqual([]);
  });

  test.each(
    RULE_KEY_TABLE.filter((r) => r.field !== "name" && r.field !== "source").map((r) => [r.yaml, r] as const),
  )("%s: override append/replace allowed exactly as the table says", (yaml, row) => {
    const value =
      yaml === "tags" || yaml === "exceptions"
        ? "[]"
        : yaml === "capture_duration"
          ? "1"
          : yaml === "priority"
            ? "ERROR"
            : ["enabled", "warn_evttypes", "skip-if-unknown-filter", "capture"].includes(yaml)
              ? "true"
              : "x";
    for (const op of ["append", "replace"] as const) {
      const text = `- rule: R\n  ${yaml}: ${value}\n  override:\n    ${yaml}: ${op}\n`;
      const refused = diagnostics(text).some((d) => d.startsWith("invalid_override"));
      expect([yaml, op, refused]).toEqual([yaml, op, !row[op]]);
    }
  });

  test("a definition needs exactly the required keys", () => {
    for (const row of RULE_KEY_TABLE.filter((r) => r.required && r.field !== "name")) {
      const without = BASE.split("\n")
        .filter((l) => !l.startsWith(`  ${row.yaml}:`))
        .join("\n");
      const d = loadRuleSources([{ name: "r.yaml", text: without }]).diagnostics.items.map((x) => x.message);
      expect(d).toContain(`rule 'R' has no '${row.yaml}'`);
    }
  });
});
