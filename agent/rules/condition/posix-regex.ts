// Falco compiles `regex` operands with RE2 in POSIX mode and matches the whole value. JavaScript's
// RegExp reads a different dialect, so a pattern is checked and translated first: POSIX bracket
// classes ([[:digit:]]) become JavaScript classes, and what RE2's POSIX mode refuses (Perl classes
// like \d, word boundaries, (?...) groups, lazy quantifiers, back-references) is refused here too,
// at load time, instead of meaning something Falco would not.

import { POSIX_CLASSES } from "./matchers.ts";

export class RegexDialectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegexDialectError";
  }
}

const PERL_ESCAPES = new Set([
  "d",
  "D",
  "s",
  "S",
  "w",
  "W",
  "b",
  "B",
  "A",
  "z",
  "Z",
  "C",
  "Q",
  "E",
  "p",
  "P",
  "G",
  "K",
  "R",
  "X",
  "h",
  "H",
  "k",
  "g",
]);

/** A RegExp that holds when the whole value matches `pattern` as RE2's POSIX mode reads it. */
export function posixRegex(pattern: string): RegExp {
  let out = "";
  let inBracket = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const e = pattern[i + 1];
      if (e === undefined) throw new RegexDialectError("a trailing backslash escapes nothing");
      if (!inBracket && PERL_ESCAPES.has(e))
        throw new RegexDialectError(
          `\\${e} is not POSIX regex syntax (Falco uses RE2 in POSIX mode); use a bracket class such as [[:digit:]]`,
        );
      if (!inBracket && e >= "1" && e <= "9")
        throw new RegexDialectError(`back-references (\\${e}) are not supported by RE2`);
      out += `\\${e}`;
      i++;
      continue;
    }
    if (inBracket) {
      if (c === "[" && pattern[i + 1] === ":") {
        const close = pattern.indexOf(":]", i + 2);
        const name = close < 0 ? "" : pattern.slice(i + 2, close);
        const cls = POSIX_CLASSES[name];
        if (cls === undefined) throw new RegexDialectError(`unknown character class [:${name}:]`);
        out += cls;
        i = close + 1;
        continue;
      }
      if (c === "]" && !/\[\^?$/.test(out)) inBracket = false;
      out += c === "[" ? "\\[" : c;
      continue;
    }
    if (c === "[") {
      inBracket = true;
      out += c;
      if (pattern[i + 1] === "^") out += pattern[++i];
      // A ']' right after '[' or '[^' is a member, as in POSIX.
      if (pattern[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?")
      throw new RegexDialectError(
        "(?...) groups and flags are not POSIX regex syntax (Falco uses RE2 in POSIX mode)",
      );
    if ((c === "*" || c === "+" || c === "?" || c === "}") && pattern[i + 1] === "?" && out !== "") {
      throw new RegexDialectError("lazy quantifiers (*? +? ?? {}?) are not POSIX regex syntax");
    }
    out += c;
  }
  if (inBracket) throw new RegexDialectError("missing ] to close a bracket expression");
  try {
    return new RegExp(`^(?:${out})$`);
  } catch (err) {
    throw new RegexDialectError((err as Error).message.replace(/^Invalid regular expression: /, ""));
  }
}
