// Opening the live probe the way every live command does (run, capture, selftest): the ring and
// drain settings from the configuration, the kernel's syscall selection from the rules, and a
// refusal turned into an environment error (exit 2).

import {
  CaptureError,
  type KernelPrefilter,
  type LiveProbe,
  describeOpenEntry,
  NO_PREFILTER,
  openLiveProbe,
} from "../capture/index.ts";
import { type LannerConfig, ringBytesForPreset } from "../config/index.ts";
import { type PrefilterRule, prefilterFor } from "../rules/index.ts";
import { EXIT_ENVIRONMENT } from "./exit-codes.ts";
import { CliFailure } from "./setup.ts";

/** The kinds to record in the kernel for the rules' event types (agent/capture/selection.ts). */
export { captureSelection } from "../capture/index.ts";

/** Attaches the live probe; a refusal is an environment error (exit 2) with the kernel's detail.
 * `prefilter`: what else the kernel drops (only `run` sets it, from engine.prefilter and the
 * rules: agent/rules/prefilter.ts). */
export function openProbe(
  config: LannerConfig,
  selection?: readonly string[],
  prefilter: KernelPrefilter = NO_PREFILTER,
): LiveProbe {
  try {
    return openLiveProbe({
      ringBytes: ringBytesForPreset(config.engine.modern_ebpf.buf_size_preset),
      drainIntervalMs: config.engine.modern_ebpf.drain_interval_ms,
      cpusPerRing: config.engine.modern_ebpf.cpus_for_each_buffer,
      batchBytes: 1 << 20,
      ...(selection === undefined ? {} : { selection }),
      prefilter,
    });
  } catch (err) {
    if (err instanceof CaptureError) {
      const detail = err.detail === "" ? "" : `\n${err.detail}`;
      throw new CliFailure(`${err.message}${detail}`, EXIT_ENVIRONMENT);
    }
    throw err;
  }
}

/** The kernel prefilter `run` sets for an engine's active rules (engine.prefilter switches it). */
export function enginePrefilter(
  engine: { active: readonly PrefilterRule[] },
  config: LannerConfig,
): KernelPrefilter {
  const { close, open } = prefilterFor(engine.active, config.engine.prefilter);
  return { close, open };
}

/** The log fields that say what the kernel records: the selection and the prefilter. */
export function selectionLogFields(probe: LiveProbe): Record<string, string | number | boolean> {
  const p = probe.prefilter();
  return {
    kinds: probe.selection().length,
    selected: probe.selection().join(","),
    close_prefilter: p.close,
    open_prefilter: p.open === "all" ? "off" : p.open.map(describeOpenEntry).join("; "),
  };
}
