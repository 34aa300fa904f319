// Rule test files (*.tests.yaml): per rule, events given as field values that must fire the rule
// and events that must not. The format is in docs/RULES.md; this reads it with positions.

import {
  isNullScalar,
  mappingGet,
  parseYamlDocuments,
  positionAt,
  type SourceFile,
  type YamlNode,
  YamlSyntaxError,
} from "../../yaml/index.ts";

export type CaseValue = string | number | boolean | null | CaseValue[];

export interface TestCase {
  name: string;
  expect: "fires" | "does_not_fire";
  /** Field name as written in rules (proc.aname[2], evt.arg.flags) -> value. */
  fields: Map<string, CaseValue>;
  /** "file:line" of the case. */
  where: string;
}

export interface RuleTests {
  rule: string;
  cases: TestCase[];
  where: string;
}

export interface TestFile {
  /** Rule files named by the test file, resolved relative to it. */
  rulesFiles: string[] | undefined;
  tests: RuleTests[];
}

export class TestFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TestFileError";
  }
}

export function readTestFile(file: SourceFile, resolvePath: (p: string) => string): TestFile {
  let docs: YamlNode[];
  try {
    docs = parseYamlDocuments(file);
  } catch (err) {
    if (err instanceof YamlSyntaxError)
      throw new TestFileError(`${where(file, err.offset)}: invalid YAML: ${err.message}`);
    throw err;
  }
  const root = docs[0];
  if (root === undefined || root.kind !== "mapping")
    throw new TestFileError(
      `${file.name}: a rule test file is a mapping with 'tests' (and optionally 'rules_files')`,
    );
  const out: TestFile = { rulesFiles: undefined, tests: [] };
  const rulesFiles = mappingGet(root, "rules_files");
  if (rulesFiles !== undefined) {
    if (rulesFiles.kind !== "sequence")
      throw new TestFileError(`${where(file, rulesFiles.start)}: 'rules_files' must be a list of paths`);
    out.rulesFiles = rulesFiles.items.map((i) => resolvePath(scalarText(i, "rules_files")));
  }
  const tests = mappingGet(root, "tests");
  if (tests === undefined || tests.kind !== "sequence")
    throw new TestFileError(`${file.name}: 'tests' must be a list of {rule, fires, does_not_fire}`);
  for (const t of tests.items) {
    if (t.kind !== "mapping")
      throw new TestFileError(
        `${where(file, t.start)}: each test is a mapping with 'rule', 'fires' and/or 'does_not_fire'`,
      );
    const ruleNode = mappingGet(t, "rule");
    if (ruleNode === undefined) throw new TestFileError(`${where(file, t.start)}: a test needs 'rule'`);
    const rule = scalarText(ruleNode, "rule");
    const cases: TestCase[] = [];
    for (const expect of ["fires", "does_not_fire"] as const) {
      const list = mappingGet(t, expect);
      if (list === undefined || isNullScalar(list)) continue;
      if (list.kind !== "sequence")
        throw new TestFileError(`${where(file, list.start)}: '${expect}' must be a list of cases`);
      for (const [i, c] of list.items.entries()) cases.push(readCase(c, expect, i, file));
    }
    if (cases.length === 0)
      throw new TestFileError(
        `${where(file, t.start)}: the test for '${rule}' has no cases under fires or does_not_fire`,
      );
    out.tests.push({ rule, cases, where: where(file, t.start) });
  }
  return out;
}

function readCase(node: YamlNode, expect: TestCase["expect"], index: number, file: SourceFile): TestCase {
  if (node.kind !== "mapping")
    throw new TestFileError(
      `${where(file, node.start)}: a case is a mapping with 'fields' (and optionally 'name')`,
    );
  const fieldsNode = mappingGet(node, "fields");
  if (fieldsNode === undefined || fieldsNode.kind !== "mapping") {
    throw new TestFileError(
      `${where(file, node.start)}: a case needs 'fields', a mapping of field name to value`,
    );
  }
  const nameNode = mappingGet(node, "name");
  const fields = new Map<string, CaseValue>();
  for (const { key, value } of fieldsNode.entries) fields.set(key.value, plainValue(value));
  return {
    name: nameNode === undefined ? `${expect} #${index + 1}` : scalarText(nameNode, "name"),
    expect,
    fields,
    where: where(file, node.start),
  };
}

function plainValue(node: YamlNode): CaseValue {
  if (node.kind === "sequence") return node.items.map(plainValue);
  if (node.kind === "mapping")
    throw new TestFileError(`${where(node.file, node.start)}: a field value is a single value or a list`);
  if (node.style === "empty") return null;
  return node.value;
}

function scalarText(node: YamlNode, key: string): string {
  if (node.kind !== "scalar")
    throw new TestFileError(`${where(node.file, node.start)}: '${key}' must be a single value`);
  return node.value;
}

function where(file: SourceFile, offset: number): string {
  const p = positionAt(file, offset);
  return `${file.name}:${p.line}`;
}
