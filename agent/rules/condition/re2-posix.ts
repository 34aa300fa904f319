// Falco compiles a `regex` operand with RE2 in POSIX mode (re2::RE2::POSIX: egrep syntax,
// leftmost-longest) and matches the whole value (ANCHOR_BOTH). We use re2js, a pure-JavaScript port
// of RE2: matching is linear in the value's length whatever the pattern, so no rule can stall the
// agent with catastrophic backtracking, and the syntax RE2's POSIX mode refuses (\d, \b, (?...),
// back-references, \pL) is refused here with RE2's own message.
//
// re2js exposes POSIX mode only on its inner RE2 class (RE2.compilePOSIX, as RE2J does); we reach it
// through a compiled object's constructor. The version is pinned and
// test/rules/condition/re2-posix.test.ts fails if that path moves.

import { RE2JS, RE2JSException } from "re2js";
import type { WholeMatch } from "./matchers.ts";

export class RegexDialectError extends Error {
  /** Where in the pattern RE2 stopped (0-based), when it says. */
  readonly index: number | undefined;
  constructor(message: string, index?: number) {
    super(message);
    this.name = "RegexDialectError";
    this.index = index;
  }
}

export type { WholeMatch };

/**
 * RE2 refuses programs beyond its memory budget (8 MiB by default in Falco); re2js has no such
 * budget, so we bound the compiled program ourselves.
 */
export const MAX_REGEX_INSTRUCTIONS = 100_000;

interface Re2Program {
  numberOfInstructions(): number;
}
interface Re2Class {
  compilePOSIX(pattern: string): Re2Program;
}
interface Re2jsInternals {
  initTest(pattern: string, flags: number, re2: Re2Program): { testExact(input: string): boolean };
}

const RE2_CLASS = (RE2JS.compile("") as unknown as { re2Input: { constructor: Re2Class } }).re2Input
  .constructor;

/** Compiles `pattern` as RE2's POSIX mode does; throws RegexDialectError with RE2's reason. */
export function compileRe2Posix(pattern: string): WholeMatch {
  let program: Re2Program;
  try {
    program = RE2_CLASS.compilePOSIX(pattern);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    const syntax = err as RE2JSException & { error?: string; input?: string | null };
    const culprit = syntax.input ?? undefined;
    const index = culprit === undefined || culprit === "" ? undefined : pattern.indexOf(culprit);
    const reason = (syntax.error ?? err.message).replace(/^error parsing regexp: /, "");
    const where = index === undefined || index < 0 ? "" : ` at offset ${index}`;
    throw new RegexDialectError(
      `${reason}${culprit === undefined ? "" : `: '${culprit}'`}${where}`,
      index !== undefined && index >= 0 ? index : undefined,
    );
  }
  if (program.numberOfInstructions() > MAX_REGEX_INSTRUCTIONS) {
    throw new RegexDialectError(
      `pattern too large: it compiles to ${program.numberOfInstructions()} instructions, more than ${MAX_REGEX_INSTRUCTIONS}`,
    );
  }
  const exact = (RE2JS as unknown as Re2jsInternals).initTest(pattern, 0, program);
  return { test: (value) => exact.testExact(value) };
}
