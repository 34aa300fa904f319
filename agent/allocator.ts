// The runtime's settings for the commands that run for long, read from the environment once,
// before any JavaScript runs:
// - the native allocator (mimalloc) hands freed pages back to the kernel a moment after they
//   fall empty, and faults them in again on the next allocation: for an agent that wakes every
//   drain interval, allocates per event and frees it all before the next wake-up, that churn
//   (madvise, page faults, the allocator's scavenger thread) was half its CPU on a parallel build
//   (docs/PERFORMANCE.md). With purging off, freed pages stay with the process for reuse, and the
//   resident size stays at its peak, which every table, queue and buffer bounds;
// - the runtime's own collection timer starts a young-generation collection about every second
//   while the heap grows; the engine's allocation-driven collections are enough for an agent whose
//   garbage is per event, and without the timer the agent spent about a tenth less CPU on a burst
//   of 20,000 processes, with no higher peak resident size (docs/PERFORMANCE.md).
//
// - for the live commands only (run, capture), the JIT's threshold for its top tier (FTL) is ten
//   times the default: at a node's event rate the generated rule function of a rarer event type
//   reached that tier only after minutes, one compile of 10-160 ms at a time, during the node's
//   own work; with the higher threshold those functions stay in the tier below, which compiles
//   in about a tenth of the time, and the hot paths still reach the top tier within seconds under
//   load. Replay, which runs millions of events in seconds, keeps the default (docs/PERFORMANCE.md).
//
// So the executable sets what is unset and executes itself again (same pid, same arguments, same
// open fds). A value the user set is kept; if the exec fails, the command runs as it is.

import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

/** mimalloc's option: milliseconds before an empty page is returned to the kernel; -1: never. */
export const PURGE_DELAY_VARIABLE = "MIMALLOC_PURGE_DELAY";
export const PURGE_DELAY = "-1";
/** Bun's switch for its periodic collection timer. */
export const GC_TIMER_VARIABLE = "BUN_GC_TIMER_DISABLE";
export const GC_TIMER_OFF = "1";

/** The JIT's execution count before a function is compiled by its top tier (the default 100,000). */
export const FTL_THRESHOLD_VARIABLE = "BUN_JSC_thresholdForFTLOptimizeAfterWarmUp";
export const FTL_THRESHOLD = "1000000";

/** The commands that run long enough for the settings to pay for a second start. */
const LONG_RUNNING: readonly string[] = ["run", "capture", "replay"];
/** The commands that follow the kernel's events live, at the node's rate. */
const LIVE: readonly string[] = ["run", "capture"];

export interface RuntimeSetting {
  variable: string;
  value: string;
  commands: readonly string[];
}

/** Every variable a command sets for itself, with its value and the commands it is for. */
export const RUNTIME_SETTINGS: readonly RuntimeSetting[] = [
  { variable: PURGE_DELAY_VARIABLE, value: PURGE_DELAY, commands: LONG_RUNNING },
  { variable: GC_TIMER_VARIABLE, value: GC_TIMER_OFF, commands: LONG_RUNNING },
  { variable: FTL_THRESHOLD_VARIABLE, value: FTL_THRESHOLD, commands: LIVE },
];

/** The environment to exec with, or undefined when this process should just go on. */
export function allocatorEnvironment(
  command: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> | undefined {
  if (command === undefined) return undefined;
  const missing = RUNTIME_SETTINGS.filter(
    (s) => s.commands.includes(command) && env[s.variable] === undefined,
  );
  if (missing.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const s of missing) out[s.variable] = s.value;
  return out;
}

/** NUL-terminated C strings and a NULL-terminated array of pointers to them; the strings are
 * pushed to `keep`, which must outlive the call that reads them. */
function cArray(strings: readonly string[], encoding: "latin1" | "utf8", keep: Buffer[]): BigUint64Array {
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => {
    const b = Buffer.from(`${s}\0`, encoding);
    keep.push(b);
    pointers[i] = BigInt(ptr(b));
  });
  return pointers;
}

/**
 * Executes this program again with RUNTIME_SETTINGS when `argv` names a command one of them is
 * for and it is unset. Returns only when no exec happened: "not needed", or "failed" (no
 * /proc, a deleted executable...), and then the command runs as it is. `exe` and `env` are for
 * tests (the exec replaces the process, so a test can only watch it fail).
 */
export function reexecWithAllocatorSetting(
  argv: readonly string[],
  exe = "/proc/self/exe",
  current: Readonly<Record<string, string | undefined>> = process.env,
): "not needed" | "failed" {
  const env = allocatorEnvironment(argv[0], current);
  if (env === undefined) return "not needed";
  let original: string[];
  let libc: ReturnType<typeof openLibc>;
  try {
    // The arguments exactly as this process received them, the runtime's own included; latin1
    // round-trips every byte.
    original = readFileSync("/proc/self/cmdline", "latin1").split("\0");
    if (original.at(-1) === "") original.pop();
    libc = openLibc();
  } catch {
    return "failed";
  }
  const keep: Buffer[] = [];
  const path = Buffer.from(`${exe}\0`, "utf8");
  const args = cArray(original, "latin1", keep);
  const envp = cArray(
    Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "utf8",
    keep,
  );
  libc.symbols.execve(ptr(path), ptr(args), ptr(envp));
  libc.close();
  return "failed";
}

/** For benchmarks of the agent's code in their own process: the settings `command` runs with, so
 * the figures are what it gets. */
export function reexecBenchmarkWithAllocatorSetting(command: "run" | "replay"): "not needed" | "failed" {
  return reexecWithAllocatorSetting([command]);
}

function openLibc() {
  return dlopen("libc.so.6", {
    execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  });
}
