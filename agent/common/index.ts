// The shared foundation's entry module: metric samples, the priority vocabulary and the token
// bucket, used by every stage (docs/ARCHITECTURE.md, "Layering").

export {
  ALL_CAPABILITIES,
  capabilityBit,
  parseCapabilityMask,
  renderCapabilities,
} from "./capabilities.ts";
export { editDistance } from "./edit-distance.ts";
export {
  type MetricSample,
  type MetricSource,
  MetricRegistry,
  type MetricType,
  metricTotal,
} from "./metrics.ts";
export {
  PRIORITIES,
  PRIORITY_SPELLINGS,
  PRIORITY_TABLE,
  type Priority,
  type PriorityRow,
  parsePriority,
} from "./priorities.ts";
export { type MonotonicClock, monotonicNs, TokenBucket, type TokenBucketOptions } from "./token-bucket.ts";
