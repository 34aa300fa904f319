// Loading rule files end to end: read each file (pass 1), apply them in order (pass 2), compile
// (pass 3). Files load in the order given; a directory stands for its .yaml/.yml files sorted by
// name. Problems never throw: they come back as diagnostics, and the rules that compiled are usable.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readYamlFile, type SourceFile, sourceFile } from "../../yaml/index.ts";
import { FieldRegistry } from "../fields/registry.ts";
import { Collection } from "./collect.ts";
import { type CompiledRuleset, compileCollection } from "./compile.ts";
import { DiagnosticBag } from "./diagnostics.ts";
import { readRuleFile } from "./read.ts";

export interface RuleSource {
  /** What error messages call it: a path, or a label such as "<embedded default rules>". */
  name: string;
  text: string;
}

export interface LoadResult {
  ruleset: CompiledRuleset;
  diagnostics: DiagnosticBag;
  files: SourceFile[];
}

export function loadRuleSources(
  sources: readonly RuleSource[],
  registry = FieldRegistry.default(),
  diagnostics = new DiagnosticBag(),
): LoadResult {
  const collection = new Collection(diagnostics);
  const files: SourceFile[] = [];
  const broken = new Set<string>();
  for (const source of sources) {
    const file = sourceFile(source.name, source.text);
    files.push(file);
    const read = readRuleFile(file, diagnostics);
    for (const name of read.brokenNames) broken.add(name);
    collection.apply(read.items, broken);
  }
  const ruleset = compileCollection(collection, registry, diagnostics);
  return { ruleset, diagnostics, files };
}

/** Expands paths (files, or directories of .yaml/.yml files sorted by name) and reads them. */
export function readRuleSources(paths: readonly string[], diagnostics: DiagnosticBag): RuleSource[] {
  const out: RuleSource[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      unreadable(diagnostics, path, err);
      continue;
    }
    const files = isDir
      ? readdirSync(path)
          .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
          .sort()
          .map((f) => join(path, f))
      : [path];
    for (const file of files) {
      try {
        out.push({ name: file, text: readYamlFile(file) });
      } catch (err) {
        unreadable(diagnostics, file, err);
      }
    }
  }
  return out;
}

export function loadRuleFiles(paths: readonly string[], registry = FieldRegistry.default()): LoadResult {
  const diagnostics = new DiagnosticBag();
  return loadRuleSources(readRuleSources(paths, diagnostics), registry, diagnostics);
}

function unreadable(diagnostics: DiagnosticBag, path: string, err: unknown): void {
  diagnostics.add({
    severity: "error",
    code: "file_read",
    message: `cannot read rules file: ${(err as Error).message}`,
    context: [],
    fileName: path,
  });
}
