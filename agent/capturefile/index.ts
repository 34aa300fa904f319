// The capture file's entry module: format, writer, reader, and the two ways the agent uses them.

export {
  BLOCK,
  BLOCK_MAX_BYTES,
  CaptureFileError,
  type CaptureHeader,
  type CaptureStats,
  type Compression,
  eventTableHash,
  FORMAT_VERSION,
} from "./format.ts";
export { CaptureReader, type ReaderOptions, type RecordBatch } from "./reader.ts";
export { CaptureFileSource } from "./source.ts";
export { CaptureTap } from "./tap.ts";
export { type RuleCaptureOptions, RuleCaptureTap, slug } from "./trigger.ts";
export { type CaptureLimits, CaptureWriter } from "./writer.ts";
export type { RecordTap } from "./record-tap.ts";
