// Helpers shared by the rules-language tests (test/rules/load/*.test.ts): small inline YAML rule
// files, loading them, and reading back the compiled rules and diagnostics.

import { expect } from "bun:test";
import { join, resolve } from "node:path";
import { printChecked } from "../../../agent/rules/condition/checked.ts";
import { planCondition } from "../../../agent/rules/condition/plan.ts";
import type { ResolvedField } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";
import type { CompiledRule } from "../../../agent/rules/load/compile.ts";
import { type DiagnosticJson, diagnosticToJson } from "../../../agent/rules/load/diagnostics.ts";
import { type LoadResult, loadRuleSources } from "../../../agent/rules/load/load.ts";

export const ROOT = resolve(import.meta.dir, "../../..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

// ---------------------------------------------------------------------------------------------
// Helpers

/** Strips the first line break and the common indentation, so YAML can be indented in the test. */
export function y(text: string): string {
  const lines = text
    .replace(/^\n/, "")
    .replace(/\n[ ]*$/, "\n")
    .split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join("\n");
}

/** A complete rule entry (rule, desc, condition, output, priority) plus extra lines. */
export function ruleYaml(name: string, condition: string, extra = "", priority = "INFO"): string {
  return (
    `- rule: ${name}\n  desc: test rule ${name}\n  condition: ${condition}\n` +
    `  output: "${name} fired (proc=%proc.name)"\n  priority: ${priority}\n${extra}`
  );
}

export interface Loaded {
  result: LoadResult;
  diags: DiagnosticJson[];
  rules: Map<string, CompiledRule>;
}

/** Loads the texts as files f1.yaml, f2.yaml, ... in that order. */
export function load(...texts: string[]): Loaded {
  const result = loadRuleSources(texts.map((text, i) => ({ name: `f${i + 1}.yaml`, text })));
  return {
    result,
    diags: result.diagnostics.items.map(diagnosticToJson),
    rules: new Map(result.ruleset.rules.map((r) => [r.name, r])),
  };
}

export function errors(l: Loaded): DiagnosticJson[] {
  return l.diags.filter((d) => d.severity === "error");
}

export function codes(l: Loaded): string[] {
  return l.diags.map((d) => `${d.severity}:${d.code}`);
}

export function rule(l: Loaded, name: string): CompiledRule {
  const r = l.rules.get(name);
  if (r === undefined) {
    throw new Error(`rule '${name}' not compiled; diagnostics: ${JSON.stringify(l.diags, null, 1)}`);
  }
  return r;
}

export function cond(l: Loaded, name: string): string {
  return printChecked(rule(l, name).condition);
}

/** The only diagnostic with this code; fails if there is not exactly one. */
export function one(l: Loaded, code: string): DiagnosticJson {
  const found = l.diags.filter((d) => d.code === code);
  if (found.length !== 1)
    throw new Error(`expected one '${code}' diagnostic, got: ${JSON.stringify(l.diags, null, 1)}`);
  return found[0];
}

/** file:line:column of a diagnostic. */
export function at(d: DiagnosticJson): string {
  return `${d.file}:${d.line}:${d.column}`;
}

export function noErrors(l: Loaded): void {
  expect(errors(l)).toEqual([]);
}

export function types(r: CompiledRule): string[] | "all" {
  return r.eventTypes === "all" ? "all" : [...r.eventTypes].sort();
}

export type Event = Map<string, FieldValue>;
export const bind = (field: ResolvedField) => (ctx: Event) => ctx.get(field.display);

export function event(fields: Record<string, FieldValue>): Event {
  return new Map(Object.entries(fields));
}

/** Whether the rule's condition (exceptions included) holds for the event. */
export function holds(r: CompiledRule, fields: Record<string, FieldValue>): boolean {
  return planCondition(r.condition, bind)(event(fields));
}

export function history(r: {
  definition: { history: { action: string; keys?: readonly string[] }[] };
}): string[] {
  return r.definition.history.map((h) =>
    h.keys === undefined ? h.action : `${h.action}[${h.keys.join(",")}]`,
  );
}
