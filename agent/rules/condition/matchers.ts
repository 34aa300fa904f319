// Glob and path-prefix matching with Falco's semantics: glob is fnmatch(3) without flags
// ('*' also matches '/', a backslash escapes the next character, [a-z], [!a], [[:alpha:]]),
// iglob the same ignoring case; pmatch holds when one of the listed paths is a whole-component
// prefix of the value, and a listed component may itself be a glob (/home/*/.ssh).
// fnmatch never fails on a pattern: what it cannot read it matches literally or not at all, and
// so does this matcher (it never throws).
//
// Matching runs on a token list (literal runs, '?', bracket classes, '*') with the classic
// two-pointer algorithm that backtracks only to the last '*': time is at most the product of the
// pattern's and the value's lengths, never exponential, however many '*' a pattern has. (A regex
// translation would backtrack on the JavaScript engine, or cost a regex engine call per event.)

/** A pattern compiled for whole-value matching. */
export interface WholeMatch {
  test(value: string): boolean;
}

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

const NOTHING = "[^\\s\\S]";

type GlobToken =
  | { kind: "text"; text: string }
  | { kind: "one" }
  | { kind: "class"; re: RegExp }
  | { kind: "star" };

export function globToRegExp(pattern: string, ignoreCase: boolean): WholeMatch {
  const tokens: GlobToken[] = [];
  const text = (c: string): void => {
    const last = tokens[tokens.length - 1];
    const t = ignoreCase ? c.toLowerCase() : c;
    if (last?.kind === "text") last.text += t;
    else tokens.push({ kind: "text", text: t });
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (tokens[tokens.length - 1]?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") tokens.push({ kind: "one" });
    else if (c === "\\" && i + 1 < pattern.length) text(pattern[++i]);
    else if (c === "[") {
      const parsed = bracketExpression(pattern, i);
      if (parsed === undefined) text("[");
      else {
        // One character against one class: a RegExp that cannot backtrack.
        tokens.push({ kind: "class", re: new RegExp(`^${parsed.source}$`, ignoreCase ? "i" : "") });
        i = parsed.end;
      }
    } else text(c);
  }
  return { test: (value) => matchTokens(tokens, ignoreCase ? value.toLowerCase() : value) };
}

/** Whole-value match; on a mismatch, only the last '*' seen takes one more character. */
function matchTokens(tokens: readonly GlobToken[], s: string): boolean {
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (ti < tokens.length || si < s.length) {
    if (ti < tokens.length) {
      const t = tokens[ti];
      if (t.kind === "star") {
        starTi = ti++;
        starSi = si;
        continue;
      }
      if (si < s.length) {
        if (t.kind === "text") {
          if (s.startsWith(t.text, si)) {
            si += t.text.length;
            ti++;
            continue;
          }
        } else if (t.kind === "one" || t.re.test(s[si])) {
          si++;
          ti++;
          continue;
        }
      }
    }
    if (starTi < 0 || starSi >= s.length) return false;
    si = ++starSi;
    ti = starTi + 1;
  }
  return true;
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
  return `\\u${code.toString(16).padStart(4, "0")}`;
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
