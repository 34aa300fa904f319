// The capture stage's entry module: the live probe and its errors.

export {
  CaptureError,
  type CaptureFailure,
  type FrameSink,
  type KernelCounters,
  type LiveProbe,
  openLiveProbe,
  type ProbeOptions,
} from "./probe.ts";
