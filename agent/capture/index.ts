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
export {
  ALL_KINDS,
  captureSelection,
  closePrefilterFor,
  DEFAULT_SELECTION,
  isEventKind,
  STATE_KINDS,
  selectionFor,
  selectionMap,
} from "./selection.ts";
export {
  boundOpenFilter,
  describeOpenEntry,
  type KernelPrefilter,
  NO_PREFILTER,
  type OpenFacts,
  type OpenFilter,
  type OpenFilterEntry,
  openFilterPasses,
} from "./open-filter.ts";
export { type DropAction, type DropCounters, DropPolicy, type DropVerdict } from "./drop-policy.ts";
export type { FrameSource, SourceEnd } from "./frames.ts";
