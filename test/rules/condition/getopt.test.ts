// getopt() as libsinsp implements it; the cases are libsinsp's own (test/filter_transformer.ut.cpp).

import { describe, expect, test } from "bun:test";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import { getopt } from "../../../agent/rules/condition/getopt.ts";
import { parseCondition } from "../../../agent/rules/condition/parser.ts";
import { planCondition } from "../../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";

const scope: CheckScope = {
  registry: FieldRegistry.default(),
  list: () => undefined,
  macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
};

function holds(condition: string, values: Record<string, FieldValue> = {}): boolean {
  const result = checkCondition(parseCondition(condition), scope);
  if ("issue" in result) throw new Error(`${condition}: ${result.issue.message}`);
  return planCondition(result.checked, (f) => () => values[f.display])(undefined);
}

describe("getopt()", () => {
  test.each([
    ['getopt(("-n",""), "n") intersects ("n")', true],
    ['getopt(("-t", "hello"), "t:") intersects ("t", "hello")', true],
    ['getopt(("-nt", "hello"), "nt:") intersects ("n", "t", "hello")', true],
    ['getopt(("-thello"), "t:") intersects ("t", "hello")', true],
    ['getopt(("-n"), "n") intersects ("t")', false],
    ['getopt(("-n", "--", "-t"), "nt:") intersects ("n")', true],
    ['getopt(("-n", "--", "-t"), "nt:") intersects ("t")', false],
    ['getopt(("-x", "-n"), "n") intersects ("?", "n")', true],
    ['getopt(("-x", "-n"), "n") intersects ("x")', false],
    ['getopt(("-lpe", "/bin/sh"), "lp:e:") intersects ("l","p","e")', true],
    ['getopt(("-lpe", "/bin/sh"), "lpe:") intersects ("/bin/sh")', true],
    ['getopt(("-n", "-t"), "") intersects ("n")', false],
    ['getopt(("arg1", "-n", "arg2"), "n") intersects ("n")', false],
    ['getopt(("-", "-n"), "n") intersects ("n")', false],
    ['getopt(("-t"), "t:") intersects ("")', true],
    ['getopt(("-t"), "t:") intersects ("t")', false],
    ['getopt(("--", "-n"), "n") intersects ("n")', false],
    ['getopt(("--exec", "-n"), "n") intersects ("n")', true],
    ['getopt(("-abcvalue"), "abc:") intersects ("a", "b", "c", "value")', true],
    ['getopt(("-t", "val1", "-t", "val2"), "t:")[t] = val2', true],
    ['getopt(("-t", "val1"), "t:")[t] = val1', true],
    ['getopt(("-n"), "nt:")[n] = n', true],
    ['getopt(("-t"), "t:")[t] = ""', true],
  ])("%s is %p", (condition, want) => {
    expect(holds(condition)).toBe(want);
  });

  test("a selected option that is absent leaves no value: every comparison is false, exists too", () => {
    expect(holds('getopt(("-n"), "nt:")[t] = x')).toBe(false);
    expect(holds('getopt(("-n"), "nt:")[t] != x')).toBe(false);
    expect(holds('getopt(("-n"), "nt:")[t] exists')).toBe(false);
  });

  test("the list may come from field values and the optstring from a field", () => {
    expect(
      holds('getopt((proc.name, "-p", "8080"), "lp:") intersects ("l", "8080")', { "proc.name": "-l" }),
    ).toBe(true);
    expect(holds('getopt(("-p", "1"), proc.name)[p] = 1', { "proc.name": "p:" })).toBe(true);
  });

  test("the function itself", () => {
    expect(getopt(["-nt", "v", "rest"], "nt:")).toEqual(["n", "t", "v"]);
    expect(getopt(["-x"], ":t:")).toEqual(["?"]);
    expect(getopt(["-t"], "t:", "t")).toBe("");
    expect(getopt(["-n"], "nt:", "t")).toBeUndefined();
  });
});
