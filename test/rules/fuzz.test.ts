// A seeded fuzzer for the condition language and the rule loader. It starts from the real
// conditions and rule files in ../shared/falco-rules (relative to the repo root), mutates them
// (byte flips, deletions, grammar tokens, truncation, nesting; for files also line deletions,
// swaps, indentation and stray characters) and checks the contracts callers rely on:
//   - parseCondition returns a tree or throws ConditionSyntaxError, with positions inside the text;
//   - checkCondition returns {checked} or {issue}, and a checked condition evaluates without throwing;
//   - loadRuleSources never throws: every problem comes back as a diagnostic.
// Runs are deterministic. A failure names the master seed and the case; rerun one case with
//   LANNER_FUZZ_SEED=<seed> LANNER_FUZZ_ONLY=<case> bun test test/rules/fuzz.test.ts
// Each mutating test runs twice: with the fixed seed (the same cases every run) and with a seed
// that rotates daily (a third as many new cases each day; its value is in the test's name).
// When the rule files are missing the tests FAIL (they do not skip).

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import type { Expr } from "../../agent/rules/condition/ast.ts";
import { type CheckScope, checkCondition } from "../../agent/rules/condition/check.ts";
import type { CheckedExpr } from "../../agent/rules/condition/checked.ts";
import { ConditionSyntaxError, parseCondition } from "../../agent/rules/condition/parser.ts";
import { type FieldBinder, planCondition } from "../../agent/rules/condition/plan.ts";
import type { ResolvedField } from "../../agent/rules/fields/registry.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import type { FieldValue, ScalarValue } from "../../agent/rules/fields/values.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";

const RULES_DIR = resolve(import.meta.dir, "../../../shared/falco-rules");

const DEFAULT_SEED = 0x1a22e5;
const FIXED_SEED = readIntEnv("LANNER_FUZZ_SEED") ?? DEFAULT_SEED;
const ROTATING_SEED = Math.floor(Date.now() / 86_400_000);
/** The two runs of each mutating test: [label, seed, share of the case counts]. */
const RUNS: readonly [string, number, number][] =
  process.env.LANNER_FUZZ_SEED === undefined
    ? [
        ["fixed", FIXED_SEED, 1],
        ["rotating", ROTATING_SEED, 1 / 3],
      ]
    : [["given", FIXED_SEED, 1]];
/** The seed of the test running now (tests in a file run one after another). */
let SEED = FIXED_SEED;
let SHARE = 1;
const ONLY = readIntEnv("LANNER_FUZZ_ONLY");

/** How many mutated conditions and rule files to try; sized to keep each part to a few seconds. */
const CONDITION_CASES = 30_000;
const FILE_CASES = 900;
/** A whole fuzzing test may take this long on a loaded machine (each input has its own bound). */
const FUZZ_TEST_TIMEOUT_MS = 120_000;
/** No single input may take longer than this (a hang or a blow-up shows here). */
const MAX_MS_PER_CONDITION = 250;
const MAX_MS_PER_FILE = 2000;
/** Mutated conditions are cut to this length, so each input stays small. */
const MAX_CONDITION_LENGTH = 2000;

/**
 * Times `work` once more after an input went over its limit: the inputs are deterministic, so a
 * real blow-up is slow again, while a collector pause or a busy machine is not. Returns the second
 * time when it is over the limit too, else undefined. Errors were already judged on the first run.
 */
function slowAgain(limitMs: number, work: () => void): number | undefined {
  const started = performance.now();
  try {
    work();
  } catch {
    // judged on the first run
  }
  const elapsed = performance.now() - started;
  return elapsed > limitMs ? elapsed : undefined;
}

function readIntEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got '${raw}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Known bugs. The fuzzer finds them; they are reported, not failed on, so the suite stays green
// and any NEW crash still fails. Each entry is one root cause, with the smallest reproducer.

interface KnownBug {
  name: string;
  reproducer: string;
  matches(err: unknown): boolean;
}

// None open. (A reversed glob bracket range, `fd.name glob "[z-a]"`, used to throw from
// checkCondition; it now matches nothing, as fnmatch does, and the fuzzer fails on any throw.)
const KNOWN_BUGS: readonly KnownBug[] = [];

const knownHits = new Map<string, { count: number; example: string }>();

function knownBug(err: unknown, input: string): boolean {
  const bug = KNOWN_BUGS.find((b) => b.matches(err));
  if (bug === undefined) return false;
  const hit = knownHits.get(bug.name);
  if (hit === undefined) knownHits.set(bug.name, { count: 1, example: input.slice(0, 300) });
  else hit.count++;
  return true;
}

afterAll(() => {
  for (const [name, hit] of knownHits) {
    const bug = KNOWN_BUGS.find((b) => b.name === name);
    console.warn(
      `fuzz: known bug '${name}' hit ${hit.count} time(s) (reproducer: ${bug?.reproducer}); ` +
        `first input: ${JSON.stringify(hit.example)}`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Randomness: a small seeded generator, one independent stream per case.

type Rand = () => number;

function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function caseRand(stream: number, index: number): Rand {
  return mulberry32(
    Math.imul(SEED ^ Math.imul(stream, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(index, 0xc2b2ae35),
  );
}

const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, items: readonly T[]): T => items[int(r, items.length)];

function caseIndices(total: number): number[] {
  if (ONLY !== undefined) return [ONLY];
  return Array.from({ length: Math.ceil(total * SHARE) }, (_, i) => i);
}

function where(stream: string, index: number): string {
  return `[${stream} case ${index}, reproduce with LANNER_FUZZ_SEED=${SEED} LANNER_FUZZ_ONLY=${index}]`;
}

// ---------------------------------------------------------------------------------------------
// The corpus: Falco's rule files

interface Corpus {
  files: { name: string; text: string }[];
  conditions: string[];
  lists: Map<string, string[]>;
  macros: Map<string, string>;
}

let corpusCache: Corpus | undefined;

function corpus(): Corpus {
  if (corpusCache !== undefined) return corpusCache;
  if (!existsSync(RULES_DIR)) {
    throw new Error(
      `Falco rule files not found at ${RULES_DIR} (expected ../shared/falco-rules from the repo root); ` +
        "the fuzzer needs them and fails without them",
    );
  }
  const names = readdirSync(RULES_DIR)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort();
  if (names.length === 0) throw new Error(`no .yaml rule files in ${RULES_DIR}`);
  const c: Corpus = { files: [], conditions: [], lists: new Map(), macros: new Map() };
  for (const name of names) {
    const text = readFileSync(join(RULES_DIR, name), "utf8");
    c.files.push({ name, text });
    const doc = load(text);
    if (!Array.isArray(doc)) continue;
    for (const item of doc) {
      if (item === null || typeof item !== "object") continue;
      const entry = item as Record<string, unknown>;
      if (typeof entry.condition === "string") c.conditions.push(entry.condition);
      if (typeof entry.macro === "string" && typeof entry.condition === "string") {
        c.macros.set(entry.macro, entry.condition);
      }
      if (typeof entry.list === "string" && Array.isArray(entry.items)) {
        c.lists.set(entry.list, entry.items.map(String));
      }
    }
  }
  if (c.conditions.length < 100) {
    throw new Error(`only ${c.conditions.length} conditions found in ${RULES_DIR}; the corpus looks broken`);
  }
  corpusCache = c;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Mutating conditions

const TOKENS: readonly string[] = [
  " and ",
  " or ",
  "and",
  "or",
  "not ",
  "not(",
  " and(",
  " or(",
  "(",
  ")",
  "((",
  "))",
  " in ",
  " in (",
  "in",
  " intersects ",
  " pmatch ",
  " exists",
  "exists",
  " = ",
  "=",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  " contains ",
  " icontains ",
  " bcontains ",
  " startswith ",
  " bstartswith ",
  " endswith ",
  " glob ",
  " iglob ",
  " regex ",
  " oneof ",
  " anyof ",
  " allof ",
  "oneof",
  "val(",
  "tolower(",
  "toupper(",
  "b64(",
  "basename(",
  "len(",
  "concat(",
  'join(",", (',
  "getopt(",
  "[",
  "]",
  "[0]",
  "[2]",
  "[x]",
  '["a b"]',
  '"',
  "'",
  "\\",
  "\\x",
  "\\x4",
  "\\x41",
  '\\"',
  "\\'",
  "\\q",
  ",",
  ", ",
  "0x",
  "0x1f",
  "1e+5",
  "-1",
  "+",
  ".",
  "*",
  "?",
  "[a-z]",
  "[!a]",
  "proc.name",
  "proc.aname",
  "proc.aname[2]",
  "fd.types",
  "fd.ip",
  "fd.net",
  "fd.sport",
  "user.uid",
  "evt.type",
  "evt.num",
  "evt.rawtime",
  "evt.buffer",
  "evt.is_open_read",
  "evt.arg.flags",
  "evt.arg[0]",
  "proc.env[HOME]",
  "container.mount.dest[/x]",
  "bash",
  "10.0.0.0/8",
  "::1",
  "http",
  "true",
  "cafebabe",
  "open",
  "/tmp/*",
  '"a b"',
  "''",
  "()",
  "shell_binaries",
  "never_true",
  "\t",
  "\n",
  "\r",
  "\b",
  "\v",
];

const ALPHABET =
  "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 \t\n\r()[],=!<>\"'\\/.*?+-_:;#$%&|^~{}`@\v\f\b\0é日\u{1F600}";

/** Small well-formed checks, to splice into conditions between existing ones. */
const CLAUSES: readonly string[] = [
  "proc.name = bash",
  "proc.name in (bash, sh)",
  "proc.name in shell_binaries",
  "proc.aname[2] startswith oneof (ba, sh)",
  "proc.aname != init",
  "fd.types intersects (unix)",
  "fd.types in (file)",
  "fd.ip = 10.0.0.0/8",
  "fd.net != 192.168.0.0/16",
  "fd.sport = http",
  "user.uid < 1000",
  "evt.type in (open, openat)",
  "evt.rawtime > 5",
  "evt.buffer bcontains cafe",
  "evt.is_open_read = true",
  "tolower(proc.name) glob *sh",
  "len(proc.cmdline) > 10",
  'concat(proc.name, "-", proc.exe) contains -',
  'join(",", (proc.name, proc.exe)) exists',
  "proc.name = val(proc.pname)",
  "proc.pid < val(proc.ppid)",
  'proc.cmdline regex "[a-z]+ -c .*"',
  "fd.name pmatch (/home/*/.ssh, /etc)",
  "proc.env[HOME] exists",
  "not proc.name exists",
  "never_true",
];

/** One mutation of a condition; returns the new text. */
function mutateCondition(r: Rand, text: string): string {
  const at = () => int(r, text.length + 1);
  switch (int(r, 11)) {
    case 9:
    case 10: {
      // splice a well-formed check in, joined by and/or, at a blank
      const blanks = [...text.matchAll(/\s(?=and |or |not |\()/g)].map((m) => m.index ?? 0);
      const clause = `${pick(r, [" and ", " or ", " and not "])}${pick(r, CLAUSES)}`;
      if (blanks.length === 0) return `${text}${clause}`;
      const i = pick(r, blanks);
      return `${text.slice(0, i)}${clause}${text.slice(i)}`;
    }
    case 0: {
      // flip one character
      if (text.length === 0) return pick(r, [...ALPHABET]);
      const i = int(r, text.length);
      return text.slice(0, i) + pick(r, [...ALPHABET]) + text.slice(i + 1);
    }
    case 1: {
      // delete a span
      const i = at();
      return text.slice(0, i) + text.slice(i + 1 + int(r, 12));
    }
    case 2:
    case 3: {
      // insert a grammar token
      const i = at();
      return text.slice(0, i) + pick(r, TOKENS) + text.slice(i);
    }
    case 4:
      // truncate
      return text.slice(0, at());
    case 5: {
      // nest a span in parentheses or not(...), usually shallow, sometimes past the depth limit
      const i = at();
      const j = i + int(r, text.length - i + 1);
      const depth = r() < 0.9 ? 1 + int(r, 4) : 150 + int(r, 150);
      const open = r() < 0.7 ? "(" : "not(";
      return text.slice(0, i) + open.repeat(depth) + text.slice(i, j) + ")".repeat(depth) + text.slice(j);
    }
    case 6: {
      // duplicate a span
      const i = at();
      const j = Math.min(text.length, i + int(r, 40));
      return text.slice(0, j) + text.slice(i, j) + text.slice(j);
    }
    case 7: {
      // swap two words
      const words = text.split(/(\s+)/);
      if (words.length < 3) return text;
      const a = int(r, words.length);
      const b = int(r, words.length);
      [words[a], words[b]] = [words[b], words[a]];
      return words.join("");
    }
    default: {
      // replace an operator or keyword with another
      const ops = text.match(/\b(and|or|not|in|exists|contains|startswith|endswith|pmatch|glob)\b|[=<>!]=?/g);
      if (ops === null) return text;
      const target = pick(r, ops);
      return text.replace(target, pick(r, TOKENS));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checking and evaluating

function fuzzScope(c: Corpus): CheckScope {
  const registry = FieldRegistry.default();
  const done = new Map<string, CheckedExpr | { problem: "undefined_macro"; message: string }>();
  const inProgress = new Set<string>();
  const s: CheckScope = {
    registry,
    list: (name) => c.lists.get(name),
    macro: (name) => {
      const cached = done.get(name);
      if (cached !== undefined) return cached;
      if (inProgress.has(name))
        return { problem: "macro_cycle", message: `macro '${name}' refers to itself` };
      const body = c.macros.get(name);
      if (body === undefined) return { problem: "undefined_macro", message: `undefined macro '${name}'` };
      inProgress.add(name);
      let result: CheckedExpr | { problem: "undefined_macro"; message: string };
      try {
        const checked = checkCondition(parseCondition(body), s);
        result =
          "checked" in checked
            ? checked.checked
            : { problem: "undefined_macro", message: `macro '${name}': ${checked.issue.message}` };
      } catch (err) {
        if (!(err instanceof ConditionSyntaxError)) throw err;
        result = { problem: "undefined_macro", message: `macro '${name}' does not parse` };
      } finally {
        inProgress.delete(name);
      }
      done.set(name, result);
      return result;
    },
  };
  return s;
}

/** A made-up event: every field has a value of its kind (lists and ancestors get several). */
function syntheticValue(field: ResolvedField): FieldValue {
  const one = (): ScalarValue => {
    switch (field.def.kind) {
      case "string":
        return field.def.name === "evt.type" ? "open" : "/tmp/[a]*bash";
      case "number":
        return field.def.info.type === "ABSTIME" ? 1_700_000_000_000_000_000n : 1;
      case "bool":
        return true;
      case "ipaddr":
      case "ipnet":
        return "10.0.0.1";
      case "bytes":
        return new Uint8Array([0xca, 0xfe, 0x41]);
    }
  };
  return field.multi === "single" ? one() : [one(), one()];
}

const syntheticBinder: FieldBinder<null> = (field) => {
  const value = syntheticValue(field);
  return () => value;
};
const emptyBinder: FieldBinder<null> = () => () => undefined;

function evaluate(checked: CheckedExpr): void {
  planCondition(checked, syntheticBinder)(null);
  planCondition(checked, emptyBinder)(null);
}

function checkPositions(e: Expr, length: number, label: string): void {
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    for (const key of ["pos", "opPos"]) {
      if (key in n) {
        const pos = n[key];
        if (!Number.isInteger(pos) || (pos as number) < 0 || (pos as number) > length) {
          throw new Error(`node ${String(n.kind)} has ${key} ${String(pos)} outside 0..${length} (${label})`);
        }
      }
    }
    for (const value of Object.values(n)) {
      if (Array.isArray(value)) for (const v of value) visit(v);
      else if (value !== null && typeof value === "object") visit(value);
    }
  };
  visit(e);
}

// ---------------------------------------------------------------------------------------------
// The condition fuzzer

describe("fuzz: conditions", () => {
  test("the corpus is there", () => {
    const c = corpus();
    expect(c.files.length).toBeGreaterThan(0);
    expect(c.conditions.length).toBeGreaterThan(100);
  });

  test("every unmutated Falco condition parses", () => {
    const c = corpus();
    for (const condition of c.conditions) {
      try {
        parseCondition(condition);
      } catch (err) {
        throw new Error(`Falco condition does not parse: ${JSON.stringify(condition)}: ${String(err)}`);
      }
    }
  });

  for (const [label, seed, share] of RUNS)
    test(
      `mutated conditions parse or fail cleanly, and check without throwing (${label} seed ${seed})`,
      () => {
        SEED = seed;
        SHARE = share;
        const c = corpus();
        const scope = fuzzScope(c);
        let parsed = 0;
        let syntaxErrors = 0;
        let checked = 0;
        let issues = 0;
        for (const index of caseIndices(CONDITION_CASES)) {
          const r = caseRand(1, index);
          let input = pick(r, c.conditions);
          const rounds = r() < 0.6 ? 1 : 2 + int(r, 3);
          for (let i = 0; i < rounds; i++) input = mutateCondition(r, input);
          if (input.length > MAX_CONDITION_LENGTH) {
            const start = int(r, input.length - MAX_CONDITION_LENGTH);
            input = input.slice(start, start + MAX_CONDITION_LENGTH);
          }
          const label = `${where("condition", index)} input ${JSON.stringify(input)}`;

          const started = performance.now();
          let ast: Expr | undefined;
          try {
            ast = parseCondition(input);
          } catch (err) {
            if (!(err instanceof ConditionSyntaxError)) {
              throw new Error(`${label}: parseCondition threw ${String(err)} (not a ConditionSyntaxError)`);
            }
            if (!Number.isInteger(err.pos) || err.pos < 0 || err.pos > input.length) {
              throw new Error(`${label}: syntax error position ${err.pos} is outside 0..${input.length}`);
            }
            syntaxErrors++;
          }
          if (ast !== undefined) {
            parsed++;
            checkPositions(ast, input.length, label);
            try {
              const result = checkCondition(ast, scope);
              if ("checked" in result) {
                checked++;
                evaluate(result.checked);
              } else {
                issues++;
                const { pos } = result.issue;
                if (!Number.isInteger(pos) || pos < 0 || pos > input.length) {
                  throw new Error(`${label}: issue position ${pos} is outside 0..${input.length}`);
                }
                expect(typeof result.issue.message).toBe("string");
              }
            } catch (err) {
              if (!knownBug(err, input)) {
                throw new Error(
                  `${label}: checking or evaluating threw ${String(err)}\n${(err as Error).stack}`,
                );
              }
            }
          }
          const elapsed = performance.now() - started;
          if (elapsed > MAX_MS_PER_CONDITION) {
            const again = slowAgain(MAX_MS_PER_CONDITION, () => {
              const result = checkCondition(parseCondition(input), scope);
              if ("checked" in result) evaluate(result.checked);
            });
            if (again !== undefined)
              throw new Error(
                `${label}: took ${elapsed.toFixed(0)} ms, then ${again.toFixed(0)} ms (limit ${MAX_MS_PER_CONDITION} ms)`,
              );
          }
        }
        if (ONLY === undefined) {
          // The mutations must exercise both outcomes of both passes, or the fuzzer tests nothing.
          expect(parsed).toBeGreaterThan(CONDITION_CASES / 20);
          expect(syntaxErrors).toBeGreaterThan((CONDITION_CASES * SHARE) / 20);
          expect(checked).toBeGreaterThan(0);
          expect(issues).toBeGreaterThan(0);
        }
      },
      FUZZ_TEST_TIMEOUT_MS,
    );

  for (const [label, seed, share] of RUNS)
    test(
      `random token soup parses or fails cleanly (${label} seed ${seed})`,
      () => {
        SEED = seed;
        SHARE = share;
        for (const index of caseIndices(3000)) {
          const r = caseRand(2, index);
          let input = "";
          const n = 1 + int(r, 25);
          for (let i = 0; i < n; i++) input += r() < 0.8 ? pick(r, TOKENS) : pick(r, [...ALPHABET]);
          try {
            parseCondition(input);
          } catch (err) {
            if (!(err instanceof ConditionSyntaxError)) {
              throw new Error(`${where("soup", index)} ${JSON.stringify(input)}: threw ${String(err)}`);
            }
          }
        }
      },
      FUZZ_TEST_TIMEOUT_MS,
    );
});

// ---------------------------------------------------------------------------------------------
// The rule-file fuzzer

const YAML_SNIPPETS: readonly string[] = [
  "- rule: fuzzed rule",
  "- macro: fuzzed_macro",
  "- list: fuzzed_list",
  "  condition: (",
  "  condition: proc.name = bash and",
  "  condition: fuzzed_macro and never_true",
  '  condition: fd.name glob "[a-z]*"',
  '  items: [a, b, \'c d\', "e\\"f"]',
  "  items: []",
  "  items: fuzzed_list",
  "  append: true",
  "  override:\n    condition: append\n    exceptions: replace",
  "  exceptions:\n    - name: ex\n      fields: [proc.name, fd.name]\n      comps: [=, startswith]\n      values:\n        - [bash, /tmp]",
  "  exceptions:\n    - name: ex2\n      fields: proc.name\n      comps: in\n      values: [bash, sh]",
  "  exceptions:\n    - name: ex3\n      fields: [proc.pid]\n      values: [[notanumber]]",
  "  enabled: false",
  "  enabled: maybe",
  "  priority: BOGUS",
  "  priority: WARNING",
  "  output: %proc.name %nosuch.field %tolower(proc.name) %",
  "  output: >-\n    x %proc.aname[2]",
  "  tags: [a, b",
  "  desc: |",
  "  source: syscall",
  "  source: k8s_audit",
  "- required_engine_version: 99.0.0",
  "- required_plugin_versions:\n  - name: container\n    version: 99.0.0",
  "---",
  "...",
  "%YAML 1.2",
  "!!binary",
  "&anchor",
  "*anchor",
  "<<: *anchor",
  "{",
  "}",
  "[",
  "]",
  "? complex key",
  ": value",
  "\t",
  "#",
  "'",
  '"',
  "|",
  ">",
  "@",
  "`",
  "\r",
  "\0",
];

/** One mutation of a rule file's lines. */
function mutateLines(r: Rand, lines: string[], c: Corpus): void {
  const i = int(r, lines.length + 1);
  const line = lines[i] ?? "";
  switch (int(r, 10)) {
    case 0:
      lines.splice(i, 1 + int(r, 3));
      break;
    case 1: {
      const j = int(r, lines.length);
      if (i < lines.length) [lines[i], lines[j]] = [lines[j], lines[i]];
      break;
    }
    case 2: {
      // change indentation
      const k = int(r, 4);
      if (k === 0) lines[i] = line.replace(/^ {1,4}/, "");
      else if (k === 1) lines[i] = " ".repeat(1 + int(r, 4)) + line;
      else if (k === 2) lines[i] = `\t${line}`;
      else lines[i] = line.trimStart();
      break;
    }
    case 3: {
      // stray characters
      const at = int(r, line.length + 1);
      const stray = pick(
        r,
        YAML_SNIPPETS.filter((s) => s.length <= 3),
      );
      lines[i] = line.slice(0, at) + stray + line.slice(at);
      break;
    }
    case 4:
      lines.splice(i, 0, line);
      break;
    case 5:
      lines.splice(i, 0, ...pick(r, YAML_SNIPPETS).split("\n"));
      break;
    case 6: {
      // mutate a condition where there is one
      const m = /^(\s*condition:\s*)(.*)$/.exec(line);
      if (m !== null) lines[i] = m[1] + mutateCondition(r, m[2]);
      else {
        const k = lines.findIndex((l, n) => n >= i && /^\s*condition:/.test(l));
        if (k >= 0)
          lines[k] = lines[k].replace(
            /condition:\s*(.*)$/,
            (_, rest: string) => `condition: ${mutateCondition(r, rest)}`,
          );
      }
      break;
    }
    case 7:
      lines.length = Math.max(0, i);
      break;
    case 8:
      // a condition line from elsewhere
      lines.splice(i, 0, `  condition: ${pick(r, c.conditions).split("\n").join(" ")}`);
      break;
    default: {
      // flip one character
      if (line.length === 0) break;
      const at = int(r, line.length);
      lines[i] = line.slice(0, at) + pick(r, [...ALPHABET]) + line.slice(at + 1);
    }
  }
}

/** A window of whole entries: from one `- ` line, about `size` lines long. */
function window(r: Rand, text: string, size: number): string[] {
  const lines = text.split("\n");
  const starts = lines.flatMap((l, n) => (l.startsWith("- ") ? [n] : []));
  const start = starts.length === 0 ? 0 : pick(r, starts);
  return lines.slice(start, start + size);
}

function dumpForRepro(index: number, texts: string[]): string {
  const path = join(tmpdir(), `lanner-fuzz-${SEED}-${index}.yaml`);
  try {
    writeFileSync(path, texts.join("\n# ---- next source ----\n"));
    return path;
  } catch {
    return "(could not write the input to a file)";
  }
}

describe("fuzz: rule files", () => {
  test("the unmutated rule files load without errors", () => {
    const c = corpus();
    const result = loadRuleSources(c.files.slice(0, 1));
    expect(result.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.ruleset.rules.length).toBeGreaterThan(0);
  });

  for (const [label, seed, share] of RUNS)
    test(
      `mutated rule files never make loadRuleSources throw (${label} seed ${seed})`,
      () => {
        SEED = seed;
        SHARE = share;
        const c = corpus();
        let withErrors = 0;
        let clean = 0;
        for (const index of caseIndices(FILE_CASES)) {
          const r = caseRand(3, index);
          const file = pick(r, c.files);
          const whole = r() < 0.12;
          const lines = whole ? file.text.split("\n") : window(r, file.text, 20 + int(r, 220));
          const rounds = 1 + int(r, 6);
          for (let i = 0; i < rounds; i++) mutateLines(r, lines, c);
          const sources = [{ name: `${file.name}~${index}`, text: lines.join(r() < 0.1 ? "\r\n" : "\n") }];
          if (r() < 0.2) {
            // an unmutated window first, so appends and overrides in the mutated one have targets
            sources.unshift({ name: `${file.name}@base`, text: window(r, file.text, 150).join("\n") });
          }
          const started = performance.now();
          try {
            const result = loadRuleSources(sources);
            for (const d of result.diagnostics.items) {
              expect(d.severity === "error" || d.severity === "warning").toBe(true);
              expect(typeof d.message).toBe("string");
              expect(d.message.length).toBeGreaterThan(0);
            }
            if (result.diagnostics.items.some((d) => d.severity === "error")) withErrors++;
            else clean++;
            for (const rule of result.ruleset.rules) evaluate(rule.condition);
          } catch (err) {
            if (!knownBug(err, sources.map((s) => s.text).join("\n"))) {
              const path = dumpForRepro(
                index,
                sources.map((s) => s.text),
              );
              throw new Error(
                `${where("file", index)} loadRuleSources or evaluating its rules threw ${String(err)}; ` +
                  `the input is in ${path}\n${(err as Error).stack}`,
              );
            }
          }
          const elapsed = performance.now() - started;
          if (elapsed > MAX_MS_PER_FILE) {
            const again = slowAgain(MAX_MS_PER_FILE, () => {
              for (const rule of loadRuleSources(sources).ruleset.rules) evaluate(rule.condition);
            });
            if (again !== undefined)
              throw new Error(
                `${where("file", index)} took ${elapsed.toFixed(0)} ms, then ${again.toFixed(0)} ms (limit ${MAX_MS_PER_FILE} ms)`,
              );
          }
        }
        if (ONLY === undefined) {
          expect(withErrors).toBeGreaterThan((FILE_CASES * SHARE) / 10);
          expect(clean).toBeGreaterThan(0);
        }
      },
      FUZZ_TEST_TIMEOUT_MS,
    );
});
