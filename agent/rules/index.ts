// The rules stage's entry module: loading rule files, the engine that runs them, and what the
// rule commands (explain, test) print.

export { type CheckedExpr, printChecked } from "./condition/checked.ts";
export { factoryCacheStats } from "./condition/generated.ts";
export { type ActiveRule, type EngineOptions, RuleEngine, type RuleSelectionStep } from "./engine.ts";
export { FieldRegistry } from "./fields/registry.ts";
export { liveBinder, liveEventKey, liveText } from "./live.ts";
export {
  addLivenessWarnings,
  capturedEventTypes,
  countFullyLive,
  type RuleLiveness,
  ruleLiveness,
  rulesetLiveness,
} from "./liveness.ts";
export { ENGINE_VERSION, type Provenance } from "./load/collect.ts";
export type { CompiledRule, CompiledRuleset } from "./load/compile.ts";
export { DiagnosticBag, diagnosticToJson, formatDiagnostic } from "./load/diagnostics.ts";
export { parsePriority, type Priority } from "./load/items.ts";
export {
  type DerivedOpenFilter,
  deriveOpenFilter,
  FILTERED_OPEN_KINDS,
  type PrefilterRule,
  prefilterFor,
  ruleEntries,
} from "./prefilter.ts";
export { type LoadResult, loadRuleSources, type RuleSource, readRuleSources } from "./load/load.ts";
export { AppendOutput, AppendOutputError } from "./output/append.ts";
export type { JsonFieldValue } from "./output/format.ts";
export { readTestFile, TestFileError } from "./testing/cases.ts";
export { runRuleTests } from "./testing/runner.ts";
