// evt.rawarg.NAME is typed from the event parameter table as libsinsp types it, so numeric
// parameters compare as numbers: `evt.rawarg.res < -1` holds for -22.

import { describe, expect, test } from "bun:test";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import { parseCondition } from "../../../agent/rules/condition/parser.ts";
import { planCondition } from "../../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import { RAWARG_NUMERIC_TYPES } from "../../../agent/rules/fields/rawarg-types.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";

const registry = FieldRegistry.default();
const scope: CheckScope = {
  registry,
  list: () => undefined,
  macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
};

function holds(condition: string, values: Record<string, FieldValue>): boolean {
  const result = checkCondition(parseCondition(condition), scope);
  if ("issue" in result) throw new Error(result.issue.message);
  return planCondition(result.checked, (f) => () => values[f.display])(undefined);
}

function issue(condition: string): string | undefined {
  const result = checkCondition(parseCondition(condition), scope);
  return "issue" in result ? result.issue.message : undefined;
}

describe("evt.rawarg types", () => {
  test("the table has libsinsp's types for the parameters Lanner fills", () => {
    expect(RAWARG_NUMERIC_TYPES.get("res")).toBe("INT64"); // PT_ERRNO
    expect(RAWARG_NUMERIC_TYPES.get("fd")).toBe("INT64"); // PT_FD
    expect(RAWARG_NUMERIC_TYPES.get("dirfd")).toBe("INT64"); // PT_FD
    expect(RAWARG_NUMERIC_TYPES.get("flags")).toBe("UINT32"); // PT_FLAGS32 (open's)
    expect(RAWARG_NUMERIC_TYPES.get("mode")).toBe("UINT32");
    expect(RAWARG_NUMERIC_TYPES.get("size")).toBe("UINT32"); // read's, the first with 'size'
    expect(RAWARG_NUMERIC_TYPES.get("name")).toBeUndefined(); // a path: text
  });

  test("resolving evt.rawarg.res gives a signed 64-bit number", () => {
    const f = registry.resolve("evt.rawarg.res", undefined);
    expect(f.def.kind).toBe("number");
    expect(f.def.info.type).toBe("INT64");
    expect(registry.resolve("evt.rawarg.res", undefined).def).toBe(f.def);
    expect(registry.resolve("evt.rawarg.name", undefined).def.kind).toBe("string");
  });

  test.each([
    ["evt.rawarg.res < -1", { "evt.rawarg.res": -22 }, true],
    ["evt.rawarg.res < -1", { "evt.rawarg.res": 3 }, false],
    ["evt.rawarg.res = -22", { "evt.rawarg.res": -22 }, true],
    ["evt.rawarg.dirfd = -100", { "evt.rawarg.dirfd": -100 }, true],
    ["evt.rawarg.flags > 9", { "evt.rawarg.flags": 10 }, true],
    ["evt.rawarg.mode in (420, 384)", { "evt.rawarg.mode": 384 }, true],
    ["evt.rawarg.name = /etc/shadow", { "evt.rawarg.name": "/etc/shadow" }, true],
  ])("%s with %p is %p", (condition, values, want) => {
    expect(holds(condition, values)).toBe(want);
  });

  test("literals are checked against the parameter's type", () => {
    expect(issue("evt.rawarg.flags = -1")).toContain("out of range for a uint32 field");
    expect(issue("evt.rawarg.res = abc")).toContain("'abc' is not a number");
    expect(issue("evt.rawarg.res contains x")).toContain("'contains' is not supported for numeric fields");
  });

  test("evt.rawarg takes no transformer and is not a right-hand side field", () => {
    expect(issue("tolower(evt.rawarg.name) = x")).toContain("does not support transformers");
    expect(issue("proc.pid = val(evt.rawarg.res)")).toContain(
      "field 'evt.rawarg' can't be used as a right-hand side field",
    );
  });
});

describe("keyed fields with an empty key", () => {
  test('proc.env[""] and proc.aenv[""] read as the bare field, as libsinsp reads them', () => {
    for (const name of ["proc.env", "proc.aenv"]) {
      const f = registry.resolve(name, "");
      expect(f.def.name).toBe(name);
      expect(f.arg).toBeUndefined();
      expect(issue(`${name}[""] contains HOME`)).toBeUndefined();
    }
  });

  test("other keyed fields still refuse an empty key", () => {
    expect(issue('proc.aname[""] = x')).toContain("does not accept the argument");
    expect(issue('container.label[""] = x')).toBeDefined();
  });
});
