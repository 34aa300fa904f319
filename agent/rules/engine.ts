// The rule engine at run time: the loaded rules that are enabled and at or above the priority
// threshold, indexed by event type so an event is only tested against rules that can match it,
// in load order (the first definition's position), as Falco evaluates them.

import type { EventTypeSet } from "./condition/evttypes.ts";
import {
  decideForEventType,
  decidedValue,
  type FieldBinder,
  macrosUsedOnce,
  Planner,
  type Predicate,
} from "./condition/plan.ts";
import { generatePlan, type TypeRun } from "./condition/generated.ts";
import type { CompiledRule, CompiledRuleset } from "./load/compile.ts";
import { PRIORITIES, type Priority } from "./load/items.ts";
import { type BoundOutput, bindOutput, type OutputToken } from "./output/format.ts";

/** One step of Falco's `rules:` config: enable or disable rules by name (with * wildcards) or tag. */
export interface RuleSelectionStep {
  action: "enable" | "disable";
  rule?: string;
  tag?: string;
}

export interface EngineOptions {
  /** Rules less severe than this are not loaded (Falco's `priority`). */
  minPriority: Priority;
  /** `first`: stop at the first matching rule; `all`: report every match (Falco's `rule_matching`). */
  matching: "first" | "all";
  selection: readonly RuleSelectionStep[];
  /** falco.yaml's append_output: tokens added to each matching rule's output. */
  appendOutput?: { tokensFor(rule: CompiledRule): OutputToken[] };
  /**
   * The event type given to evaluate() is always the context's evt.type value (the live binding:
   * both are the event's kind). Rules are then planned once per event type they run on, with
   * their evt.type comparisons decided at planning time; a rule decided false is not tested.
   */
  planPerEventType?: boolean;
  /**
   * With planPerEventType: false plans each type with the planner's closures instead of one
   * generated function per type (condition/generated.ts). Same results; for tests and A/B runs.
   */
  generated?: boolean;
}

export interface ActiveRule<C> {
  rule: CompiledRule;
  predicate: Predicate<C>;
  output: BoundOutput<C>;
  /** The output's tokens, append_output's included (what the kernel prefilter must keep readable). */
  outputTokens: readonly OutputToken[];
  /** Alerts this rule produced. */
  matches: number;
}

export class RuleEngine<C> {
  readonly active: readonly ActiveRule<C>[];
  private readonly byType = new Map<string, ActiveRule<C>[]>();
  /** Per event type: the candidates that can still match and their predicates for that type. */
  private readonly plans = new Map<string, TypePlan<C>>();
  private readonly matching: "first" | "all";
  private readonly typedPlanning:
    | { bind: FieldBinder<C>; eventKey?: (ctx: C) => unknown; generated: boolean }
    | undefined;
  // The generated plans' hit callback and what it reports to (one closure for all events).
  private hitRules: readonly ActiveRule<C>[] = [];
  private hitCount = 0;
  private onMatch: (rule: ActiveRule<C>) => void = () => {};
  private readonly hit = (i: number): boolean => {
    const r = this.hitRules[i];
    r.matches++;
    this.hitCount++;
    this.onMatch(r);
    return this.matching === "first";
  };

  /**
   * `eventKey` identifies the event a context holds (the live binding uses the event object): with
   * it, macro results are shared between the rules evaluated on the same event.
   */
  constructor(
    ruleset: CompiledRuleset,
    options: EngineOptions,
    bind: FieldBinder<C>,
    textOverride?: Parameters<typeof bindOutput<C>>[2],
    eventKey?: (ctx: C) => unknown,
  ) {
    this.matching = options.matching;
    this.typedPlanning =
      options.planPerEventType === true
        ? { bind, eventKey, generated: options.generated !== false }
        : undefined;
    const planner = new Planner(bind, eventKey);
    const threshold = PRIORITIES.indexOf(options.minPriority);
    const enabled = selectRules(ruleset.rules, options.selection);
    this.active = ruleset.rules
      .filter((r) => enabled.has(r.name) && r.priorityRank <= threshold)
      .map((rule) => {
        const outputTokens =
          options.appendOutput === undefined
            ? rule.output
            : [...rule.output, ...options.appendOutput.tokensFor(rule)];
        return {
          rule,
          predicate: planner.condition(rule.condition),
          output: bindOutput(outputTokens, bind, textOverride),
          outputTokens,
          matches: 0,
        };
      });
  }

  /** The rules that can match events of this type, in load order. */
  candidates(eventType: string): readonly ActiveRule<C>[] {
    let list = this.byType.get(eventType);
    if (list === undefined) {
      list = this.active.filter((a) => typeMatches(a.rule.eventTypes, eventType));
      this.byType.set(eventType, list);
    }
    return list;
  }

  /** Tests the event against its candidate rules; calls onMatch for each match (or the first). */
  evaluate(eventType: string, ctx: C, onMatch: (rule: ActiveRule<C>) => void): number {
    let plan = this.plans.get(eventType);
    if (plan === undefined) {
      plan = this.planFor(eventType);
      this.plans.set(eventType, plan);
    }
    const { rules, predicates, run } = plan;
    if (run !== undefined) {
      // Not reentrant: an onMatch that evaluated another event would reset the count.
      this.hitRules = rules;
      this.hitCount = 0;
      this.onMatch = onMatch;
      run(ctx, this.hit);
      return this.hitCount;
    }
    let n = 0;
    for (let i = 0; i < rules.length; i++) {
      if (!predicates[i](ctx)) continue;
      const r = rules[i];
      r.matches++;
      n++;
      onMatch(r);
      if (this.matching === "first") break;
    }
    return n;
  }

  private planFor(eventType: string): TypePlan<C> {
    const candidates = this.candidates(eventType);
    const typed = this.typedPlanning;
    if (typed === undefined) return { rules: candidates, predicates: candidates.map((r) => r.predicate) };
    if (typed.generated) {
      const generated = generatePlan(
        candidates.map((r) => r.rule.condition),
        typed.bind,
        (cmp) => decideForEventType(cmp, eventType),
      );
      return { rules: generated.kept.map((i) => candidates[i]), predicates: [], run: generated.run };
    }
    // One planner per type, so macros stay shared between the rules of that type.
    const planner = new Planner(
      typed.bind,
      typed.eventKey,
      eventType,
      macrosUsedOnce(candidates.map((r) => r.rule.condition)),
    );
    const rules: ActiveRule<C>[] = [];
    const predicates: Predicate<C>[] = [];
    for (const r of candidates) {
      const p = planner.condition(r.rule.condition);
      if (decidedValue(p) === false) continue;
      rules.push(r);
      predicates.push(p);
    }
    return { rules, predicates };
  }

  /** Every event type some active rule runs on ("all" if a rule runs on every type). */
  eventTypes(): ReadonlySet<string> | "all" {
    const out = new Set<string>();
    for (const a of this.active) {
      if (a.rule.eventTypes === "all") return "all";
      for (const t of a.rule.eventTypes) out.add(t);
    }
    return out;
  }
}

interface TypePlan<C> {
  readonly rules: readonly ActiveRule<C>[];
  readonly predicates: readonly Predicate<C>[];
  /** The generated function for this type's rules, when planned that way (then predicates is empty). */
  readonly run?: TypeRun<C>;
}

function typeMatches(set: EventTypeSet, eventType: string): boolean {
  return set === "all" || set.has(eventType);
}

/**
 * Applies `rules:` selection steps in order on top of each rule's own `enabled` flag: a later
 * step wins over an earlier one, so `disable rule: "*"` then `enable tag: network` leaves only
 * the network rules on.
 */
export function selectRules(
  rules: readonly CompiledRule[],
  steps: readonly RuleSelectionStep[],
): Set<string> {
  const enabled = new Set(rules.filter((r) => r.enabled).map((r) => r.name));
  for (const step of steps) {
    const byName = step.rule === undefined ? undefined : wildcard(step.rule);
    for (const r of rules) {
      const hit = byName?.test(r.name) === true || (step.tag !== undefined && r.tags.includes(step.tag));
      if (!hit) continue;
      if (step.action === "enable") enabled.add(r.name);
      else enabled.delete(r.name);
    }
  }
  return enabled;
}

function wildcard(pattern: string): RegExp {
  const source = pattern.replace(/[\\^$.+?()[\]{}|/-]/g, (c) => `\\${c}`).replace(/\*/g, ".*");
  return new RegExp(`^${source}$`);
}
