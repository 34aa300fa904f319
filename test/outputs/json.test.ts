// sortedJson (agent/outputs/json.ts): JSON as Falco writes alerts, object keys sorted at every
// level and 64-bit integers exact.

import { describe, expect, test } from "bun:test";
import { type JsonValue, sortedJson } from "../../agent/outputs/json.ts";

describe("sortedJson: scalars", () => {
  test.each<[string, JsonValue, string]>([
    ["null", null, "null"],
    ["true", true, "true"],
    ["false", false, "false"],
    ["zero", 0, "0"],
    ["negative zero", -0, "0"],
    ["a negative integer", -42, "-42"],
    ["a fraction", 1.5, "1.5"],
    ["a large double", 1e21, "1e+21"],
    ["NaN", Number.NaN, "null"],
    ["Infinity", Number.POSITIVE_INFINITY, "null"],
    ["-Infinity", Number.NEGATIVE_INFINITY, "null"],
    ["an empty string", "", '""'],
  ])("%s", (_, value, expected) => {
    expect(sortedJson(value)).toBe(expected);
  });

  test.each<[string, bigint, string]>([
    ["2^53 + 1, which a double cannot hold", 9007199254740993n, "9007199254740993"],
    ["a nanosecond timestamp", 1_700_000_000_123_456_789n, "1700000000123456789"],
    ["2^64 - 1", 18446744073709551615n, "18446744073709551615"],
    ["a negative bigint", -9223372036854775808n, "-9223372036854775808"],
    ["zero", 0n, "0"],
  ])("bigint: %s, written exactly", (_, value, expected) => {
    expect(sortedJson(value)).toBe(expected);
  });
});

describe("sortedJson: string escaping", () => {
  test.each([
    ["quotes and backslashes", 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
    ["newline, tab, carriage return", "a\nb\tc\rd", '"a\\nb\\tc\\rd"'],
    ["backspace and form feed", "\b\f", '"\\b\\f"'],
    ["other control characters", "\u0000\u001b\u001f", '"\\u0000\\u001b\\u001f"'],
    ["DEL is not escaped", "\u007f", '"\u007f"'],
    ["non-ASCII stays UTF-8", "naïve ☃ 😀", '"naïve ☃ 😀"'],
    ["a lone surrogate is escaped", "\ud800", '"\\ud800"'],
    ["a slash is not escaped", "/etc/shadow", '"/etc/shadow"'],
  ])("%s", (_, value, expected) => {
    const out = sortedJson(value);
    expect(out).toBe(expected);
    expect(JSON.parse(out)).toBe(value);
  });

  test("keys are escaped too", () => {
    const out = sortedJson({ 'a"b': 1, "c\nd": 2 });
    expect(out).toBe('{"a\\"b":1,"c\\nd":2}');
    expect(JSON.parse(out)).toEqual({ 'a"b': 1, "c\nd": 2 });
  });
});

describe("sortedJson: objects and arrays", () => {
  test("object keys are sorted, whatever the insertion order", () => {
    expect(sortedJson({ zeta: 1, alpha: 2, Mid: 3, _u: 4, "1": 5 })).toBe(
      '{"1":5,"Mid":3,"_u":4,"alpha":2,"zeta":1}',
    );
  });

  test("dotted field names sort as plain strings", () => {
    expect(sortedJson({ "proc.name": "a", "fd.name": "b", "evt.time": 1n, "proc.aname[2]": null })).toBe(
      '{"evt.time":1,"fd.name":"b","proc.aname[2]":null,"proc.name":"a"}',
    );
  });

  test("nested objects are sorted at every level", () => {
    const value: JsonValue = { b: { y: { n: 1, m: 2 }, x: [{ d: 1, c: 2 }] }, a: {} };
    expect(sortedJson(value)).toBe('{"a":{},"b":{"x":[{"c":2,"d":1}],"y":{"m":2,"n":1}}}');
  });

  test("arrays keep their order and may nest", () => {
    const value: JsonValue = [3, [2, [1, []]], "x", null, true, 5n, { b: 1, a: 0 }];
    expect(sortedJson(value)).toBe('[3,[2,[1,[]]],"x",null,true,5,{"a":0,"b":1}]');
  });

  test("empty containers", () => {
    expect(sortedJson([])).toBe("[]");
    expect(sortedJson({})).toBe("{}");
  });

  test("the output has no whitespace and round-trips through JSON.parse (without bigints)", () => {
    const value = { tags: ["b", "a"], output_fields: { "user.uid": 0, "fd.name": null }, rule: "R" };
    const out = sortedJson(value);
    expect(out).not.toMatch(/\s/);
    expect(JSON.parse(out)).toEqual(value);
  });

  test("a bigint inside an object stays exact where JSON.stringify cannot write it", () => {
    const value = { output_fields: { "evt.time": 18446744073709551615n } };
    expect(() => JSON.stringify(value)).toThrow();
    expect(sortedJson(value)).toBe('{"output_fields":{"evt.time":18446744073709551615}}');
  });
});
