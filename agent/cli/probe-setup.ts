// Opening the live probe the way every live command does (run, capture, selftest): the ring and
// drain settings from the configuration, the kernel's syscall selection from the rules, and a
// refusal turned into an environment error (exit 2).

import { CaptureError, type LiveProbe, openLiveProbe } from "../capture/index.ts";
import { type LannerConfig, ringBytesForPreset } from "../config/index.ts";
import { EXIT_ENVIRONMENT } from "./exit-codes.ts";
import { CliFailure } from "./setup.ts";

/** The kinds to record in the kernel for the rules' event types (agent/capture/selection.ts). */
export { captureSelection } from "../capture/index.ts";

/** Attaches the live probe; a refusal is an environment error (exit 2) with the kernel's detail.
 * `prefilterClose`: the close prefilter (only `run` turns it on, from engine.prefilter and the rules). */
export function openProbe(
  config: LannerConfig,
  selection?: readonly string[],
  prefilterClose = false,
): LiveProbe {
  try {
    return openLiveProbe({
      ringBytes: ringBytesForPreset(config.engine.modern_ebpf.buf_size_preset),
      drainIntervalMs: config.engine.modern_ebpf.drain_interval_ms,
      cpusPerRing: config.engine.modern_ebpf.cpus_for_each_buffer,
      batchBytes: 1 << 20,
      ...(selection === undefined ? {} : { selection }),
      prefilterClose,
    });
  } catch (err) {
    if (err instanceof CaptureError) {
      const detail = err.detail === "" ? "" : `\n${err.detail}`;
      throw new CliFailure(`${err.message}${detail}`, EXIT_ENVIRONMENT);
    }
    throw err;
  }
}
