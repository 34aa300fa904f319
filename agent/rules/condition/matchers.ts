// Glob and path-prefix matching with Falco's semantics: glob is fnmatch(3) without flags
// ('*' also matches '/', a backslash escapes the next character, [a-z], [!a], [[:alpha:]]),
// iglob the same ignoring case; pmatch holds when one of the listed paths is a whole-component
// prefix of the value, and a listed component may itself be a glob (/home/*/.ssh).
// fnmatch never fails on a pattern: what it cannot read it matches literally or not at all, and
// so does this translation (it never throws). The translation runs on RE2 (re2js), so matching is
// linear in the value's length: a pattern of many '*' cannot make the agent backtrack.

import { RE2JS } from "re2js";
import type { WholeMatch } from "./re2-posix.ts";

/** POSIX character classes, as fnmatch and RE2's POSIX mode read them. */
export const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "a-zA-Z0-9",
  alpha: "a-zA-Z",
  blank: " \\t",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "\\x21-\\x7e",
  lower: "a-z",
  print: "\\x20-\\x7e",
  punct: "!-\\/:-@\\[-`{-~",
  space: " \\t\\n\\r\\f\\v",
  upper: "A-Z",
  word: "a-zA-Z0-9_",
  xdigit: "0-9A-Fa-f",
};

/** A class no character is in (RE2 has no lookahead). */
const NOTHING = "[^\\x00-\\x{10FFFF}]";
const NEVER: WholeMatch = { test: () => false };

export function globToRegExp(pattern: string, ignoreCase: boolean): WholeMatch {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (c === "[") {
      const parsed = bracketExpression(pattern, i);
      if (parsed === undefined) source += "\\[";
      else {
        source += parsed.source;
        i = parsed.end;
      }
    } else source += escapeRegExp(c);
  }
  try {
    const re = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return { test: (value) => re.testExact(value) };
  } catch {
    // Unreachable with the translation above; a pattern that still fails matches nothing.
    return NEVER;
  }
}

/**
 * A bracket expression starting at `start` ('['): its RegExp class and the index of its ']', or
 * undefined when it is not closed (then '[' is an ordinary character).
 */
function bracketExpression(pattern: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === "!" || pattern[i] === "^") {
    negate = true;
    i++;
  }
  const members: { lo: number; hi: number }[] = [];
  const classes: string[] = [];
  let first = true;
  for (; i < pattern.length; i++) {
    let c = pattern[i];
    if (c === "]" && !first) {
      const ranges = members.filter((m) => m.lo <= m.hi);
      // A class whose every range is reversed ([z-a]) matches nothing, as in fnmatch.
      if (ranges.length === 0 && classes.length === 0)
        return { source: negate ? "[\\s\\S]" : NOTHING, end: i };
      const body = ranges
        .map((m) =>
          m.lo === m.hi ? charClassEscape(m.lo) : `${charClassEscape(m.lo)}-${charClassEscape(m.hi)}`,
        )
        .join("");
      return { source: `[${negate ? "^" : ""}${body}${classes.join("")}]`, end: i };
    }
    first = false;
    if (c === "[" && pattern[i + 1] === ":") {
      const close = pattern.indexOf(":]", i + 2);
      const name = close < 0 ? undefined : pattern.slice(i + 2, close);
      if (name !== undefined && Object.hasOwn(POSIX_CLASSES, name)) {
        classes.push(POSIX_CLASSES[name]);
        i = close + 1;
        continue;
      }
    }
    if (c === "\\" && i + 1 < pattern.length) c = pattern[++i];
    let lo = c.codePointAt(0) ?? 0;
    let hi = lo;
    if (pattern[i + 1] === "-" && i + 2 < pattern.length && pattern[i + 2] !== "]") {
      let h = pattern[i + 2];
      i += 2;
      if (h === "\\" && i + 1 < pattern.length) h = pattern[++i];
      hi = h.codePointAt(0) ?? 0;
    }
    if (lo > 0xffff || hi > 0xffff) {
      lo = Math.min(lo, 0xffff);
      hi = Math.min(hi, 0xffff);
    }
    members.push({ lo, hi });
  }
  return undefined;
}

function charClassEscape(code: number): string {
  return `\\x{${code.toString(16)}}`;
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

const GLOB_CHARS = /[*?[]/;

/** A set of search paths for pmatch. */
export class PathPrefixSet {
  private readonly paths: (string | WholeMatch)[][];

  constructor(searchPaths: readonly string[]) {
    this.paths = searchPaths.map((p) =>
      splitPath(p).map((component) =>
        GLOB_CHARS.test(component) ? globToRegExp(component, false) : component,
      ),
    );
  }

  matches(path: string): boolean {
    const components = splitPath(path);
    outer: for (const prefix of this.paths) {
      if (prefix.length > components.length) continue;
      for (let i = 0; i < prefix.length; i++) {
        const want = prefix[i];
        if (typeof want === "string" ? want !== components[i] : !want.test(components[i])) continue outer;
      }
      return true;
    }
    return false;
  }
}

function splitPath(path: string): string[] {
  return path.split("/").filter((c) => c !== "");
}
