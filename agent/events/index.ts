// The events stage's entry module: what other folders use of record decoding and event types.

export { DecodeError, RecordDecoder } from "./decode.ts";
export { resultName } from "./errno.ts";
export { isOpenForRead, isOpenForWrite, O_DIRECTORY, renderOpenFlags } from "./open-flags.ts";
export { falcoExeFlags, octal, RENDERERS, renderExeFlags, rendererFor } from "./render.ts";
export {
  BOUNDS,
  COUNTER,
  EVT_PARAMS,
  type EvtParam,
  FD_TRACK,
  KIND_BY_ID,
  KIND_ID,
  OPEN_FILTER,
  PARAM_COUNT,
  PREFILTER_SWITCH,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS_READ,
} from "./schema.ts";
export { EVENT_TABLE, type KindSpec, type ParamSpec, SYSCALL_SLOTS, type WireType } from "./table.ts";
export {
  type BootClock,
  clockTime,
  isoTime,
  toWallTime,
  type WallTime,
  wallTimeNs,
  wallTimeNsText,
} from "./time.ts";
export type {
  Event,
  EventKind,
  ExecEvent,
  ExitEvent,
  ForkEvent,
  OpenEvent,
  SockAddr,
  SocketTuple,
} from "./types.ts";
