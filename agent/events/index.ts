// The events stage's entry module: what other folders use of record decoding and event types.

export { DecodeError, RecordDecoder } from "./decode.ts";
export { BOUNDS, COUNTER, KIND_BY_ID, KIND_ID, PARAM_COUNT, SCHEMA_VERSION } from "./schema.ts";
export { type BootClock, clockTime, isoTime, toWallTime, type WallTime, wallTimeNs } from "./time.ts";
export type { Event, EventKind, ExecEvent, ExitEvent, ForkEvent, OpenEvent } from "./types.ts";
