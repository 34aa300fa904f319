// Glob and path-prefix matching with Falco's semantics: glob is fnmatch(3) without flags
// ('*' also matches '/', a backslash escapes the next character), iglob the same ignoring case;
// pmatch holds when one of the listed paths is a whole-component prefix of the value, and a listed
// component may itself be a glob (/home/*/.ssh).

export function globToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (c === "[") {
      const end = findClassEnd(pattern, i);
      if (end < 0) {
        source += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      source += `[${negate ? "^" : ""}${body.replace(/[\\\]]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`${source}$`, ignoreCase ? "i" : "");
}

/** Index of the ']' closing a bracket expression that opens at `start`, or -1. */
function findClassEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "!" || pattern[i] === "^") i++;
  if (pattern[i] === "]") i++; // a leading ']' is a literal member
  for (; i < pattern.length; i++) if (pattern[i] === "]") return i;
  return -1;
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

const GLOB_CHARS = /[*?[]/;

/** A set of search paths for pmatch. */
export class PathPrefixSet {
  private readonly paths: (string | RegExp)[][];

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
