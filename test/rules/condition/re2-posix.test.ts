// The regex operator on RE2's POSIX mode (re2js): what it accepts and refuses, where it says the
// problem is, and that re2js's inner POSIX entry point this module relies on is still there.

import { describe, expect, test } from "bun:test";
import {
  compileRe2Posix,
  MAX_REGEX_INSTRUCTIONS,
  RegexDialectError,
} from "../../../agent/rules/condition/re2-posix.ts";
import { globToRegExp } from "../../../agent/rules/condition/matchers.ts";

function refusal(pattern: string): RegexDialectError {
  try {
    compileRe2Posix(pattern);
  } catch (err) {
    if (err instanceof RegexDialectError) return err;
    throw err;
  }
  throw new Error(`accepted: ${pattern}`);
}

describe("RE2 POSIX mode", () => {
  test.each([
    ["[[:digit:]]+", "123", true],
    ["[[:digit:]]+", "12a", false],
    ["a|ab", "ab", true],
    ["ab|a", "ab", true],
    ["x*?", "xxx", true],
    ["a.c", "a\nc", false],
    ["[^a]", "\n", false],
    ["^a$", "a", true],
    ["a$", "a\n", false],
    ["(a+)+$", `${"a".repeat(20_000)}!`, false],
    ["(a+)+b|.*evil", `${"a".repeat(20_000)}!evil`, true],
    ["\\x41", "A", true],
    ["é+", "éé", true],
  ])("%j on %j is %p (whole value)", (pattern, value, want) => {
    expect(compileRe2Posix(pattern).test(value)).toBe(want);
  });

  test.each([
    ["\\d+", "invalid escape sequence: '\\d' at offset 0", 0],
    ["ab\\bc", "invalid escape sequence: '\\b' at offset 2", 2],
    ["(?:a)", "missing argument to repetition operator: '?' at offset 1", 1],
    ["(?i)a", "missing argument to repetition operator", 1],
    ["(a)\\1", "invalid escape sequence: '\\1' at offset 3", 3],
    ["\\pL", "invalid escape sequence: '\\p'", 0],
    ["ab[z-a]", "invalid character class range: 'z-a' at offset 3", 3],
    ["[[:foo:]]", "invalid character class range: '[:foo:]'", 1],
    ["a{1001}", "invalid repeat count", 1],
    ["(a{1000}){1000}", "invalid repeat count", undefined],
  ])("%j is refused with RE2's reason and place", (pattern, reason, index) => {
    const err = refusal(pattern);
    expect(err.message).toContain(reason);
    if (index !== undefined) expect(err.index).toBe(index);
  });

  test("a program past the instruction budget is refused", () => {
    const err = refusal("[a-z]{1000}".repeat(101));
    expect(err.message).toContain(`more than ${MAX_REGEX_INSTRUCTIONS}`);
    expect(err.index).toBeUndefined();
  });
});

describe("globs (token matcher: at most pattern x value steps)", () => {
  test.each([
    ["/home/*/.ssh/*", "/home/alice/.ssh/id_rsa", true],
    ["/home/*/.ssh/*", "/home/alice/x/.ssh", false],
    ["*../*../*", "/a/../b/../c", true],
    ["*../*../*", "/a/../b", false],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a\\*c", "a*c", true],
    ["a\\*c", "abc", false],
    ["[a-c]x[!0-9]", "bxy", true],
    ["[a-c]x[!0-9]", "bx1", false],
    ["[[:digit:]]*", "7up", true],
    ["*", "", true],
    ["a*", "a", true],
    ["*a", "ba", true],
    ["*a*b", "xaxxb", true],
    ["*a*b", "xaxxbc", false],
    ["[", "[", true],
    ["a[b", "a[b", true],
    ["*a*a*a*a*a*a*a*a*b", `${"a".repeat(20_000)}`, false],
    ["*.conf", "/etc/x.conf", true],
    ["[!a]x", "bx", true],
    ["[[:constructor:]]", "c", false],
    ["[[:constructor:]]", "[[:constructor:]]", false],
  ])("glob %j on %j is %p", (pattern, value, want) => {
    expect(globToRegExp(pattern, false).test(value)).toBe(want);
  });

  test("iglob ignores case", () => {
    expect(globToRegExp("*.CONF", true).test("/etc/x.conf")).toBe(true);
    expect(globToRegExp("[A-C]x", true).test("bX")).toBe(true);
    expect(globToRegExp("*.conf", false).test("/etc/x.CONF")).toBe(false);
  });
});
