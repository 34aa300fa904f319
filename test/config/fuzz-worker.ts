// The config-loader fuzzer's worker, run as a subprocess by fuzz.test.ts (which bounds its time and
// memory). Usage: bun fuzz-worker.ts SEED CASES [ONLY]. It mutates the default configuration and
// random `-o` overrides, and checks the loader's contract: a config comes back, or ConfigError
// with problems naming a place; nothing else is thrown, no case takes long, Object.prototype stays
// clean. Prints one JSON line: {cases, accepted, rejected, failures}.

import { DEFAULT_CONFIG } from "../../agent/config/embedded.ts";
import { ConfigError, loadConfig } from "../../agent/config/load.ts";

const [seedText, casesText, onlyText] = process.argv.slice(2);
const SEED = Number(seedText);
const CASES = Number(casesText);
const ONLY = onlyText === undefined ? undefined : Number(onlyText);
const MAX_MS_PER_CASE = 500;

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

const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, items: readonly T[]): T => items[int(r, items.length)];

/** Tokens that stress YAML and the loader: anchors, aliases, merges, tags, prototype keys, env refs. */
const TOKENS = [
  "&a ",
  "*a",
  "&b [*a, *a, *a]",
  "<<: *a",
  "!!binary ",
  "!!js/function ",
  "__proto__",
  "constructor",
  "prototype",
  "__proto__: {enabled: true}",
  "constructor: {prototype: {x: 1}}",
  "${HOME}",
  "${UNSET_VARIABLE_FOR_FUZZ}",
  "${",
  "[",
  "]",
  "{",
  "}",
  ": ",
  "- ",
  "\n  ",
  "\n",
  "#",
  '"',
  "'",
  "|",
  ">",
  "\t",
  "\x1b[2J",
  "\u202e",
  "\x00",
  "~",
  "null",
  "true",
  "0x7fffffffffffffff",
  "1e999",
  "-0",
  ".nan",
  "9".repeat(400),
  "a".repeat(5000),
  "[".repeat(200),
  "---\n",
  "...\n",
];

const KEYS = [
  "rules_files",
  "priority",
  "stdout_output.enabled",
  "file_output.filename",
  "file_output.__proto__.enabled",
  "__proto__.enabled",
  "constructor.prototype.polluted",
  "outputs_queue.capacity",
  "engine.modern_ebpf.buf_size_preset",
  "state.max_processes",
  "rules.0.enable.rule",
  "log_level",
];

const VALUES = [
  "true",
  "false",
  "5",
  "-1",
  "[a, b]",
  "{x: 1}",
  "&a [*a]",
  "&a {k: *a}",
  '"text"',
  "",
  "~",
  "!!str 1",
];

function mutateText(r: Rand, text: string): string {
  let out = text;
  const steps = 1 + int(r, 6);
  for (let s = 0; s < steps; s++) {
    const at = int(r, out.length + 1);
    switch (int(r, 5)) {
      case 0:
        out = out.slice(0, at) + pick(r, TOKENS) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + int(r, 20));
        break;
      case 2:
        out = out.slice(0, at) + String.fromCharCode(int(r, 256)) + out.slice(at + 1);
        break;
      case 3: {
        const lines = out.split("\n");
        const i = int(r, lines.length);
        lines.splice(i, 0, lines[int(r, lines.length)]);
        out = lines.join("\n");
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return out;
}

function overrides(r: Rand): string[] {
  const n = int(r, 3);
  return Array.from({ length: n }, () => `${pick(r, KEYS)}=${pick(r, VALUES)}`);
}

const failures: string[] = [];
let accepted = 0;
let rejected = 0;
const indices = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
for (const index of indices) {
  const r = mulberry32(Math.imul(SEED, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  const text = mutateText(r, DEFAULT_CONFIG.text);
  const o = overrides(r);
  const env = { HOME: "/root" };
  const start = performance.now();
  try {
    loadConfig({ name: "fuzz.yaml", text }, o, env);
    accepted++;
  } catch (err) {
    if (err instanceof ConfigError) {
      rejected++;
      for (const p of err.problems) {
        if (!/^(fuzz\.yaml(:\d+:\d+)?|-o [^:]*)[:\s]/.test(p))
          failures.push(`case ${index}: problem without a place: ${JSON.stringify(p.slice(0, 200))}`);
      }
    } else {
      failures.push(`case ${index}: threw ${(err as Error).name}: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  const ms = performance.now() - start;
  if (ms > MAX_MS_PER_CASE) failures.push(`case ${index}: took ${ms.toFixed(0)} ms`);
  if (Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>).enabled !== undefined) {
    failures.push(`case ${index}: Object.prototype was modified`);
    break;
  }
}
console.log(JSON.stringify({ cases: indices.length, accepted, rejected, failures: failures.slice(0, 20) }));
