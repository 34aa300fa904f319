// The operator table is the one vocabulary: docs/RULES.md's copy matches it, and the parser, the
// checker and the comparisons agree with it row by row.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import {
  LIST_OPERATORS,
  MODIFIABLE_OPERATORS,
  OPERATORS,
  operatorOf,
} from "../../../agent/rules/condition/operators.ts";
import { parseCondition, SUPPORTED_OPERATORS } from "../../../agent/rules/condition/parser.ts";
import { buildTest, operatorProblem } from "../../../agent/rules/condition/compare.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { ScalarValue, ValueKind } from "../../../agent/rules/fields/values.ts";

const ROOT = resolve(import.meta.dir, "../../..");

function operatorTable(): string {
  const lines = [
    "| Operator | Right-hand side | oneof/anyof/allof | Value kinds | A field on the right |",
    "|---|---|---|---|---|",
  ];
  for (const r of OPERATORS) {
    const spelled = r.spellings.map((s) => `\`${s}\``).join(" ");
    const rhs = `${r.rhs}${r.needsBlank ? " (after a blank)" : ""}`;
    lines.push(
      `| ${spelled} | ${rhs} | ${r.modifiable ? "yes" : "no"} | ${r.kinds.join(", ")} | ${r.fieldRhs ? "yes" : "no"} |`,
    );
  }
  return lines.join("\n");
}

const scope: CheckScope = {
  registry: FieldRegistry.default(),
  list: () => undefined,
  macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
};

describe("the operator table", () => {
  test("docs/RULES.md's table is the code's table", () => {
    const doc = readFileSync(join(ROOT, "docs/RULES.md"), "utf8");
    const block = /<!-- operators:start -->\n([\s\S]*?)\n<!-- operators:end -->/.exec(doc);
    expect(block?.[1]).toBe(operatorTable());
  });

  test("every spelling parses to its operator, and the parser knows no other", () => {
    expect([...SUPPORTED_OPERATORS].sort()).toEqual(OPERATORS.flatMap((r) => r.spellings).sort());
    for (const r of OPERATORS) {
      for (const spelling of r.spellings) {
        expect(operatorOf(spelling)).toBe(r.op);
        const rhs = r.rhs === "none" ? "" : r.rhs === "list" ? " (a)" : " 1";
        const ast = parseCondition(`proc.name ${spelling}${rhs}`);
        expect(ast).toMatchObject({ kind: "check", op: r.op });
      }
    }
  });

  test("the derived sets follow the table", () => {
    expect([...LIST_OPERATORS].sort()).toEqual(["in", "intersects", "pmatch"]);
    expect(MODIFIABLE_OPERATORS.has("regex")).toBe(true);
    expect(MODIFIABLE_OPERATORS.has("in")).toBe(false);
  });

  test("the checker accepts an operator on exactly the kinds the table lists", () => {
    const kinds: ValueKind[] = ["string", "number", "bool", "ipaddr", "ipnet", "bytes"];
    for (const r of OPERATORS) {
      for (const kind of kinds) {
        expect([r.op, kind, operatorProblem(kind, r.op, false) === undefined]).toEqual([
          r.op,
          kind,
          r.kinds.includes(kind),
        ]);
      }
    }
  });

  test("a field on the right is refused where the table says so", () => {
    for (const r of OPERATORS) {
      if (r.rhs === "none" || !r.kinds.includes("string")) continue;
      const result = checkCondition(parseCondition(`proc.name ${r.spellings[0]} val(proc.pname)`), scope);
      expect([r.op, "checked" in result]).toEqual([r.op, r.fieldRhs]);
    }
  });
});

describe("string tests that keep their last answer", () => {
  // in, contains, icontains, glob and regex remember the last string they saw: a changed value,
  // an equal string that is another object, and a non-string must all be answered afresh.
  const cases: [Parameters<typeof buildTest>[0], [unknown, boolean][]][] = [
    [
      { kind: "string", falcoType: "CHARBUF", op: "in", literals: ["sh", "bash"] },
      [
        ["sh", true],
        ["sh", true],
        ["zsh", false],
        ["bash", true],
        [["s", "h"].join(""), true],
        [7, false],
        ["sh", true],
      ],
    ],
    [
      { kind: "string", falcoType: "CHARBUF", op: "contains", literals: ["shadow"] },
      [
        ["/etc/shadow", true],
        ["/etc/passwd", false],
        ["/etc/passwd", false],
        ["/etc/shadow-", true],
        [undefined, false],
      ],
    ],
    [
      { kind: "string", falcoType: "CHARBUF", op: "icontains", literals: ["SHADOW"] },
      [
        ["/etc/Shadow", true],
        ["/etc/group", false],
        ["/etc/Shadow", true],
      ],
    ],
    [
      { kind: "string", falcoType: "CHARBUF", op: "glob", literals: ["/etc/*"] },
      [
        ["/etc/x", true],
        ["/tmp/x", false],
        ["/etc/x", true],
        ["/tmp/x", false],
      ],
    ],
    [
      { kind: "string", falcoType: "CHARBUF", op: "regex", literals: ["^ba?sh$"] },
      [
        ["bsh", true],
        ["bash", true],
        ["dash", false],
        ["bash", true],
      ],
    ],
  ];
  for (const [spec, sequence] of cases) {
    test(`${spec.op} ${spec.literals.join(",")}`, () => {
      const t = buildTest(spec);
      expect(sequence.map(([v]) => t(v as ScalarValue))).toEqual(sequence.map(([, want]) => want));
    });
  }
});
