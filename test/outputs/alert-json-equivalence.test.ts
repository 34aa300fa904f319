// alertJson's fast writer (one string, a rule's key prefixes remembered, JSON.stringify only for
// strings that need escapes) against the reference writer (one call per key and value):
// byte-identical lines for awkward values, keys on both sides of evt.time, every format switch,
// bigint values and integer-like keys.
import { expect, test } from "bun:test";
import { type Alert, type AlertFormat, alertJson, alertJsonWritten } from "../../agent/outputs/alert.ts";
import type { JsonFieldValue } from "../../agent/rules/output/format.ts";

const VALUES: JsonFieldValue[] = [
  "plain",
  "",
  'quote " and \\ backslash',
  "control \u0001\n\t\r",
  "unicode été 日本 🦀",
  "lone \ud800 surrogate",
  "lone low \udc00 and a pair \ud83e\udd80",
  "delete \u007f and C1 \u0085 \u009f controls",
  "/",
  "<script>&amp;",
  0,
  -1,
  3.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0,
  2 ** 60,
  true,
  false,
  null,
  ["a", 1, true],
  [],
];
const KEYS = [
  "evt.arg.flags",
  "evt.res",
  "evt.time.s",
  "evt.type",
  "fd.name",
  "proc.cmdline",
  "a",
  "~z",
  "evt.time",
];
const FORMATS: AlertFormat[] = [];
for (let bits = 0; bits < 32; bits++)
  FORMATS.push({
    json: true,
    includeOutput: (bits & 1) !== 0,
    includeTags: (bits & 2) !== 0,
    includeMessage: (bits & 4) !== 0,
    includeOutputFields: (bits & 8) !== 0,
    isoTime: (bits & 16) !== 0,
  });

function alertWith(fields: Record<string, JsonFieldValue>, i: number): Alert {
  return {
    time: { sec: 1_700_000_000 + i, nsec: (i * 7919) % 1e9 },
    rule: `Rule "${i}"`,
    priority: "Warning",
    message: `message ${VALUES[i % VALUES.length]}`,
    outputFields: fields,
    source: "syscall",
    tags: i % 3 === 0 ? [] : ["T1003", `tag ${i}`],
    hostname: "node-1",
  };
}

test("the same line as the reference writer for every value, key position and format", () => {
  let n = 0;
  for (let i = 0; i < 400; i++) {
    const fields: Record<string, JsonFieldValue> = {};
    for (let k = 0; k < KEYS.length; k++)
      if ((i + k) % 3 !== 0) fields[KEYS[(i + k) % KEYS.length]] = VALUES[(i * 5 + k) % VALUES.length];
    const a = alertWith(fields, i);
    for (const f of FORMATS) {
      const line = alertJson(a, f);
      expect(line).toBe(alertJsonWritten(a, f));
      expect(JSON.parse(line).hostname).toBe("node-1");
      n++;
    }
  }
  expect(n).toBe(400 * FORMATS.length);
});

test("bigint values and integer-like keys: the reference writer's line", () => {
  const cases: Record<string, JsonFieldValue>[] = [
    { "evt.num": 12345678901234567890n },
    { "x.list": [1n, 2n] },
    { "0": "zero first?", "b.key": "b" },
    { "10": 1, "9": 2 },
  ];
  cases.forEach((fields, i) => {
    const a = alertWith(fields, i);
    for (const f of FORMATS) expect(alertJson(a, f)).toBe(alertJsonWritten(a, f));
  });
  const line = alertJson(alertWith({ "10": 1, "9": 2 }, 0), FORMATS[8]);
  expect(line).toContain('"output_fields":{"10":1,"9":2,"evt.time":');
});

test("one rule whose fields change keys, order and values: each line as the reference writer's", () => {
  // The fast writer remembers a rule's key order; a rule whose fields differ from it must not reuse it.
  const sets: Record<string, JsonFieldValue>[] = [
    { "proc.name": "sh", "fd.name": '"evt.time":0 in a value', "evt.time": 5 },
    { "fd.name": "/etc/shadow", "proc.name": "sh" },
    { "proc.name": "sh", "fd.name": "x", "a.b": null },
    { "proc.name": "sh" },
    { "proc.name": "sh", "fd.name": "x", "1": "integer-like" },
    { "proc.name": "sh", "fd.name": "x" },
    {},
  ];
  for (let round = 0; round < 3; round++)
    sets.forEach((fields, i) => {
      const a = { ...alertWith(fields, i), rule: "one rule", message: '{"evt.time":0}' };
      for (const f of FORMATS) expect(alertJson(a, f)).toBe(alertJsonWritten(a, f));
    });
});

test("more rules than the key-order memory holds: every line still the reference writer's", () => {
  for (let i = 0; i < 30_000; i += 7) {
    const a = { ...alertWith({ "fd.name": `/f${i}`, "proc.name": "sh" }, i), rule: `many ${i}` };
    expect(alertJson(a, FORMATS[31])).toBe(alertJsonWritten(a, FORMATS[31]));
    expect(alertJson(a, FORMATS[10])).toBe(alertJsonWritten(a, FORMATS[10]));
  }
});
