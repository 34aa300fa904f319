// falco.yaml's append_output: text with %fields added to the output of the rules an entry
// matches (by source, tags, rule name), and `suggested_output`, which appends the context fields
// Falco's container plugin suggests, so alerts of unmodified rules say where they fired.
// Compiled once at start into output tokens; the engine appends them to each matching rule.

import { FieldRegistry } from "../fields/registry.ts";
import { compileOutput, type OutputProblem, type OutputToken } from "./format.ts";

export interface AppendOutputEntry {
  match?: { source?: string; tags?: string[]; rule?: string };
  extra_output?: string;
  suggested_output?: boolean;
}

/** The fields Falco's container plugin marks as suggested output, with the names Falco prints. */
export const SUGGESTED_OUTPUT = [
  "container_id=%container.id",
  "container_name=%container.name",
  "container_image_repository=%container.image.repository",
  "container_image_tag=%container.image.tag",
  "k8s_pod_name=%k8s.pod.name",
  "k8s_ns_name=%k8s.ns.name",
].join(" ");

export interface RuleIdentity {
  name: string;
  source: string;
  tags: readonly string[];
}

export class AppendOutputError extends Error {
  constructor(
    readonly entry: number,
    readonly problem: OutputProblem,
  ) {
    super(`append_output[${entry}]: ${problem.message} (at offset ${problem.pos})`);
    this.name = "AppendOutputError";
  }
}

interface CompiledEntry {
  match: AppendOutputEntry["match"];
  tokens: OutputToken[];
}

export class AppendOutput {
  private readonly entries: CompiledEntry[] = [];

  /** Throws AppendOutputError naming the entry when a text does not compile. */
  constructor(entries: readonly AppendOutputEntry[], registry: FieldRegistry = FieldRegistry.default()) {
    const scope = {
      registry,
      list: () => undefined,
      macro: (name: string) => ({ problem: "undefined_macro" as const, message: `no macro '${name}' here` }),
    };
    entries.forEach((e, i) => {
      const texts: string[] = [];
      if (e.extra_output !== undefined && e.extra_output.trim() !== "") texts.push(e.extra_output.trim());
      if (e.suggested_output === true) texts.push(SUGGESTED_OUTPUT);
      if (texts.length === 0) return;
      const compiled = compileOutput(` ${texts.join(" ")}`, scope);
      if ("problem" in compiled) throw new AppendOutputError(i, compiled.problem);
      this.entries.push({ match: e.match, tokens: compiled.tokens });
    });
  }

  /** The tokens to append to a rule's output (empty when no entry matches it). */
  tokensFor(rule: RuleIdentity): OutputToken[] {
    const out: OutputToken[] = [];
    for (const e of this.entries) if (matches(e.match, rule)) out.push(...e.tokens);
    return out;
  }
}

function matches(m: AppendOutputEntry["match"], rule: RuleIdentity): boolean {
  if (m === undefined) return true;
  if (m.source !== undefined && m.source !== rule.source) return false;
  if (m.rule !== undefined && m.rule !== rule.name) return false;
  if (m.tags !== undefined && !m.tags.every((t) => rule.tags.includes(t))) return false;
  return true;
}
