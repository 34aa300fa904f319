// The one priority table: rule files and the config's threshold accept the same spellings.

import { expect, test } from "bun:test";
import { parsePriority, PRIORITIES, PRIORITY_SPELLINGS } from "../../agent/common/priorities.ts";
import { loadConfig } from "../../agent/config/load.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";

test("names in rank order, spellings in any case, info for Informational", () => {
  expect(PRIORITIES).toEqual([
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
  ]);
  expect(parsePriority("WARNING")).toBe("Warning");
  expect(parsePriority("Info")).toBe("Informational");
  expect(parsePriority("warn")).toBeUndefined();
});

test("every spelling is accepted by a rule file and by the config's threshold", () => {
  for (const spelling of PRIORITY_SPELLINGS) {
    const text = `- rule: R\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: ${spelling.toUpperCase()}\n`;
    const r = loadRuleSources([{ name: "r.yaml", text }]);
    expect(r.ruleset.rules[0]?.priority).toBe(parsePriority(spelling) ?? "Debug");
    expect(loadConfig({ name: "c.yaml", text: `priority: ${spelling}\n` }, [], {}).priority).toBe(spelling);
  }
});

test("a wrong priority names the accepted spellings, in rule files and config alike", () => {
  const r = loadRuleSources([
    {
      name: "r.yaml",
      text: "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: warn\n",
    },
  ]);
  expect(r.diagnostics.items[0]?.message).toBe(
    `invalid priority 'warn': expected one of ${PRIORITY_SPELLINGS.join(", ")} (any case)`,
  );
  expect(() => loadConfig({ name: "c.yaml", text: "priority: warn\n" }, [], {})).toThrow(/priority/);
});
