// Opening the live probe the way every live command does (run, capture, selftest): the ring and
// drain settings from the configuration, the kernel's syscall selection from the rules, and a
// refusal turned into an environment error (exit 2).

import {
  CaptureError,
  DEFAULT_SELECTION,
  type LiveProbe,
  openLiveProbe,
  STATE_KINDS,
  selectionFor,
} from "../capture/index.ts";
import { type LannerConfig, ringBytesForPreset } from "../config/index.ts";
import { EXIT_ENVIRONMENT } from "./exit-codes.ts";
import { CliFailure } from "./setup.ts";

/** The kinds to record in the kernel: what the active rules run on plus what the state needs;
 * a rule on every event type gets the default selection (the read/write family stays off). */
export function captureSelection(ruleTypes: ReadonlySet<string> | "all"): readonly string[] {
  if (ruleTypes === "all") return [...new Set([...DEFAULT_SELECTION, ...STATE_KINDS])];
  return selectionFor(ruleTypes).kinds;
}

/** Attaches the live probe; a refusal is an environment error (exit 2) with the kernel's detail. */
export function openProbe(config: LannerConfig, selection?: readonly string[]): LiveProbe {
  try {
    return openLiveProbe({
      ringBytes: ringBytesForPreset(config.engine.modern_ebpf.buf_size_preset),
      drainIntervalMs: config.engine.modern_ebpf.drain_interval_ms,
      batchBytes: 1 << 20,
      ...(selection === undefined ? {} : { selection }),
    });
  } catch (err) {
    if (err instanceof CaptureError) {
      const detail = err.detail === "" ? "" : `\n${err.detail}`;
      throw new CliFailure(`${err.message}${detail}`, EXIT_ENVIRONMENT);
    }
    throw err;
  }
}
