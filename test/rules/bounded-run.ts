// Runs the agent's CLI in a subprocess and checks the time and memory it took: hostile-input tests
// assert bounds on a real process instead of hoping the test runner survives.

import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

export interface BoundedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the subprocess, in bytes. */
  maxRss: number;
  timedOut: boolean;
}

/** Bun's own footprint (about 100 MB) plus headroom; the hostile inputs would need gigabytes. */
export const MEMORY_BOUND = 600 * 1024 * 1024;
/** A load that is linear finishes in well under a second; exponential ones never finish. */
export const TIME_BOUND_MS = 20_000;

/** `lanner ARGS...` from source, killed at the time bound. */
export function runCliBounded(args: string[], timeoutMs = TIME_BOUND_MS): BoundedRun {
  const p = Bun.spawnSync([BUN, join(ROOT, "agent/main.ts"), ...args], {
    cwd: ROOT,
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return {
    code: p.exitCode,
    stdout: p.stdout.toString(),
    stderr: p.stderr.toString(),
    maxRss: p.resourceUsage?.maxRSS ?? Number.POSITIVE_INFINITY,
    timedOut: p.exitedDueToTimeout === true,
  };
}

/** A YAML file of `levels` aliases, each a list of nine uses of the previous ("billion laughs"). */
export function aliasBomb(levels = 9, key = (i: number) => String.fromCharCode(97 + i)): string {
  let text = `${key(0)}: &${key(0)} [x,x,x,x,x,x,x,x,x]\n`;
  for (let i = 1; i <= levels; i++) {
    const prev = `*${key(i - 1)}`;
    text += `${key(i)}: &${key(i)} [${Array(9).fill(prev).join(",")}]\n`;
  }
  return text;
}
