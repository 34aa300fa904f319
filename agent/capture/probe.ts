// The live capture source: checks the environment, loads and attaches the eBPF probe, and
// drains its ring buffer on a timer into a sink as batches of frames
// ([u32 little-endian length][MessagePack record], docs/EVENTS.md).
import { closeSync, openSync, statSync } from "node:fs";
import type { MetricSample, MetricSource } from "../common/index.ts";
import { BOUNDS, COUNTER, type EventKind, FD_TRACK, KIND_BY_ID, SCHEMA_VERSION } from "../events/index.ts";
import { checkEnvironment, readEnvironment } from "./environment.ts";
import { CaptureError } from "./errors.ts";
import { errnoName, loadFailure } from "./load-failure.ts";
import { probeObject } from "./native-libs.ts";
import { encodeOpenFilter, type KernelPrefilter, NO_PREFILTER, prefilterSwitch } from "./open-filter.ts";
import { machineRingLayout } from "./rings.ts";
import { DEFAULT_SELECTION, selectionMap } from "./selection.ts";
import { asPointer, cString, failedProgram, type Handle, loadShim, logTail, type Shim } from "./shim.ts";

export { CaptureError, type CaptureFailure } from "./errors.ts";

export interface KernelCounters {
  /** Events that passed the probe's filters (syscall number, not the agent itself). */
  seen: number;
  /** Records written to the ring. */
  written: number;
  /** Records dropped because the ring was full (the agent drained too slowly). */
  ringFull: number;
  /** Records dropped because they would exceed the probe's record size bound. */
  tooBig: number;
  /** Reads of user or kernel memory that failed (the value was sent empty; not a drop). */
  readFault: number;
  /** Successful closes the close prefilter dropped: their fd's creation was never recorded. */
  prefiltered: number;
  /** Opens the open prefilter dropped: no entry of the filter matched (not counted in `seen`). */
  openPrefiltered: number;
  /** New processes the prefilter's fd tracker had no room for (all their closes are sent). */
  fdTrackFull: number;
  /** Events the kernel never handed to the probe because its program was already running on
   * that CPU (preempted mid-record; Linux 5.12+ counts them, 0 before). */
  programBusy: number;
  /** Records written, per kind (kinds with none are absent). */
  writtenByKind: Partial<Record<EventKind, number>>;
  /** Records dropped for any reason, per kind (kinds with none are absent). */
  droppedByKind: Partial<Record<EventKind, number>>;
}

/** realtime = boottime + offset (the offset as it was when the probe opened). */
export interface BootClock {
  offsetSec: number;
  offsetNsec: number;
}

/** Receives `count` frames; `frames` is only valid during the call (its memory is reused). */
export type FrameSink = (frames: Uint8Array, count: number) => void;

export interface LiveProbe extends MetricSource {
  readonly clock: BootClock;
  /**
   * Records exactly these kinds from now on (plus the tracepoint kinds, always on): rewrites the
   * kernel's selection map without detaching; unselected syscalls are dropped before any record
   * is built. `prefilter` (none if absent) drops more in the kernel: successful closes of fds
   * whose creation was not recorded, and opens no entry of its open filter matches
   * (open-filter.ts). The open filter is written to the spare copy of its map and the switch
   * flipped with the selection, so an open never sees half a filter. Throws RangeError for a
   * name the event table does not know or a filter over the bounds.
   */
  setSelection(kinds: Iterable<string>, prefilter?: KernelPrefilter): void;
  /** The prefilter in force. */
  prefilter(): KernelPrefilter;
  /** The kinds selected now, sorted. */
  selection(): readonly EventKind[];
  /** The agent's tgid as the host numbers it, once the probe has seen the agent (else 0). */
  agentHostTgid(): number;
  /** Drains every drainIntervalMs on a timer (which keeps the process alive until stop), sooner
   * while the ring fills fast (BUSY_RING_FRACTION). */
  start(sink: FrameSink): void;
  /** Detaches the programs, drains what is left into the sink, frees everything. Idempotent. */
  stop(): void;
  counters(): KernelCounters;
  /** Per ring: bytes waiting to be drained and records dropped because it was full. */
  rings(): RingStats[];
}

export interface RingStats {
  waitingBytes: number;
  ringFull: number;
}

export interface ProbeOptions {
  /** Ring buffer size: a power of two and a multiple of the page size (8 MiB by default in the probe). */
  ringBytes: number;
  drainIntervalMs: number;
  /** Drain buffer size; raised to one maximal record (16 KiB + 4) if smaller. */
  batchBytes: number;
  /** The eBPF object to load instead of the embedded probe (tests load deliberately broken ones). */
  object?: Uint8Array;
  /** Kinds to record from the start (DEFAULT_SELECTION if absent); see LiveProbe.setSelection. */
  selection?: Iterable<string>;
  /** The prefilter from the start (none if absent); see LiveProbe.setSelection. */
  prefilter?: KernelPrefilter;
  /** engine.modern_ebpf.cpus_for_each_buffer: 0 (or absent) = one ring shared by every CPU, N = one
   * ring of `ringBytes` per N online CPUs (agent/capture/rings.ts). */
  cpusPerRing?: number;
}

const PAGE_BYTES = 4096;
const FRAME_HEADER_BYTES = 4;

/**
 * Opens the live probe: environment checks, then load and attach, then it is ready to start.
 * Throws CaptureError (whose message says what to do) and RangeError for invalid options.
 */
export function openLiveProbe(options: ProbeOptions): LiveProbe {
  validateOptions(options);
  const problem = checkEnvironment(readEnvironment());
  if (problem) throw problem;

  let shim: Shim;
  let object: Uint8Array;
  try {
    shim = loadShim();
    object = options.object ?? probeObject();
  } catch (error) {
    throw new CaptureError(
      "native",
      "Cannot load Lanner's embedded native libraries (libbpf, libelf, zlib); the host glibc may be too old (see docs/EVENTS.md) or /proc is not mounted.",
      error instanceof Error ? error.message : String(error),
    );
  }

  const prefilter = options.prefilter ?? NO_PREFILTER;
  const selection = selectionMap(
    options.selection ?? DEFAULT_SELECTION,
    undefined,
    prefilterSwitch(prefilter, 0),
  );
  const openFilter = encodeOpenFilter(prefilter.open);
  const openErr = new Int32Array(1);
  const handle = asPointer(shim.lanner_open(object, object.length, process.pid, options.ringBytes, openErr));
  if (handle === null) {
    throw new CaptureError(
      "load",
      `Cannot open the embedded eBPF object (${errnoName(openErr[0])}); the build is broken, rebuild with scripts/build.`,
      logTail(shim),
    );
  }
  try {
    checkSchema(shim, handle);
    setAgentNamespace(shim, handle);
    setRings(shim, handle, options.cpusPerRing ?? 0);
    const loaded = shim.lanner_load(handle);
    if (loaded !== 0) throw loadFailure(loaded, logTail(shim));
    const filtered = shim.lanner_open_filter(handle, 0, openFilter, openFilter.length);
    if (filtered !== 0)
      throw new CaptureError("load", `Cannot write the open prefilter map (${errnoName(filtered)}).`);
    const selected = shim.lanner_select(handle, selection, selection.length);
    if (selected !== 0)
      throw new CaptureError("load", `Cannot write the syscall selection map (${errnoName(selected)}).`);
    const attached = shim.lanner_attach(handle);
    if (attached !== 0) {
      const program = failedProgram(shim, handle);
      throw new CaptureError(
        "attach",
        `The kernel refused to attach eBPF program ${program} (${errnoName(attached)}); it needs BTF-enabled raw tracepoints (tp_btf, Linux 5.8+).`,
        logTail(shim),
      );
    }
    const probe = new RingDrainer(shim, handle, options, bootClock(shim), selection);
    // Any selected syscall of ours teaches the probe our host tgid (see is_agent in the probe):
    // an open and a close, selected in nearly every configuration.
    closeSync(openSync("/proc/self/stat", "r"));
    return probe;
  } catch (error) {
    shim.lanner_close(handle);
    throw error;
  }
}

function validateOptions(o: ProbeOptions): void {
  const ring = o.ringBytes;
  if (!Number.isInteger(ring) || ring < PAGE_BYTES || ring > 2 ** 30 || (ring & (ring - 1)) !== 0) {
    throw new RangeError(`ringBytes ${ring} must be a power of two between ${PAGE_BYTES} and 2^30`);
  }
  if (!(o.drainIntervalMs > 0)) throw new RangeError(`drainIntervalMs ${o.drainIntervalMs} must be positive`);
  if (!(Number.isInteger(o.batchBytes) && o.batchBytes > 0)) {
    throw new RangeError(`batchBytes ${o.batchBytes} must be a positive integer`);
  }
  const perRing = o.cpusPerRing ?? 0;
  if (!(Number.isInteger(perRing) && perRing >= 0)) {
    throw new RangeError(`cpusPerRing ${perRing} must be a non-negative integer`);
  }
}

/** More than one ring: the loader creates them and the CPU -> ring table before load. */
function setRings(shim: Shim, handle: Handle, cpusPerRing: number): void {
  let layout: ReturnType<typeof machineRingLayout>;
  try {
    layout = machineRingLayout(cpusPerRing);
  } catch (error) {
    throw new CaptureError(
      "native",
      "Cannot read this machine's CPU lists to lay out one ring per engine.modern_ebpf.cpus_for_each_buffer CPUs; set it to 0 for one shared ring.",
      error instanceof Error ? error.message : String(error),
    );
  }
  if (layout.rings === 1) return;
  const rc = shim.lanner_set_rings(handle, layout.ringOfCpu, layout.ringOfCpu.length, layout.rings);
  if (rc !== 0) {
    throw new CaptureError(
      "load",
      `Cannot set up ${layout.rings} ring buffers (${errnoName(rc)}).`,
      logTail(shim),
    );
  }
}

function checkSchema(shim: Shim, handle: Handle): void {
  const version = new Uint32Array(1);
  const rc = shim.lanner_rodata_get(handle, cString("schema_version"), version, 4);
  if (rc !== 0 || version[0] !== SCHEMA_VERSION) {
    const found = rc === 0 ? `version ${version[0]}` : `no readable version (${errnoName(rc)})`;
    throw new CaptureError(
      "schema_mismatch",
      `The embedded eBPF probe writes ${found} but this agent decodes schema version ${SCHEMA_VERSION}; rebuild with scripts/build.`,
    );
  }
}

/** The agent's pid namespace as the probe identifies it (bpf_get_ns_current_pid_tgid), so it can
 * tell the agent's threads apart even when the agent's pids are not the host's. */
function setAgentNamespace(shim: Shim, handle: Handle): void {
  const ns = statSync("/proc/self/ns/pid", { bigint: true });
  for (const [name, value] of [
    ["agent_pidns_dev", ns.dev],
    ["agent_pidns_ino", ns.ino],
  ] as const) {
    const rc = shim.lanner_rodata_set(handle, cString(name), new BigUint64Array([value]), 8);
    if (rc !== 0) throw new CaptureError("load", `Cannot set the probe's ${name} (${errnoName(rc)}).`);
  }
}

function bootClock(shim: Shim): BootClock {
  const out = new BigInt64Array(2);
  const rc = shim.lanner_boot_offset(out);
  if (rc !== 0) throw new CaptureError("native", `clock_gettime failed (${errnoName(rc)}).`);
  return { offsetSec: Number(out[0]), offsetNsec: Number(out[1]) };
}

/** A tick that hands over at least this fraction of one ring means the ring fills fast: the next
 * drain comes after drainIntervalMs / BUSY_INTERVAL_DIVISOR, so a burst never waits a whole
 * interval. Between bursts each wake-up is paid once per interval: on a node the timer's own cost
 * (the runtime's work per event-loop turn, cold caches) is most of what an idle agent spends. */
export const BUSY_RING_FRACTION = 1 / 8;
export const BUSY_INTERVAL_DIVISOR = 10;
const DRAIN_TICKS_HELP =
  "Ring drains on the timer, by pace (busy: early, because the last one found the ring filling fast)";

/** An attached probe and the timer that drains its ring. */
class RingDrainer implements LiveProbe {
  readonly clock: BootClock;
  private handle: Handle | null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Drain ticks so far, and how many came early because the ring was filling fast. */
  private readonly ticks = { total: 0, busy: 0 };
  private sink: FrameSink | null = null;
  private readonly batch: Uint8Array;
  private readonly drained = new Uint32Array(2);
  private readonly raw = new BigUint64Array(COUNTER.count);
  private last: KernelCounters = {
    seen: 0,
    written: 0,
    ringFull: 0,
    tooBig: 0,
    readFault: 0,
    prefiltered: 0,
    openPrefiltered: 0,
    fdTrackFull: 0,
    programBusy: 0,
    writtenByKind: {},
    droppedByKind: {},
  };
  private selected: EventKind[];
  private active: KernelPrefilter;
  /** The open_filter map entry the probe reads now. */
  private openBuffer: 0 | 1 = 0;
  /** Enough batches to empty a full ring, so one tick never runs unbounded. */
  private readonly maxBatchesPerTick: number;

  constructor(
    private readonly shim: Shim,
    handle: Handle,
    private readonly options: ProbeOptions,
    clock: BootClock,
    selection: Uint32Array,
  ) {
    this.selected = kindsOf(selection);
    this.active = options.prefilter ?? NO_PREFILTER;
    this.handle = handle;
    this.clock = clock;
    this.batch = new Uint8Array(Math.max(options.batchBytes, BOUNDS.record + FRAME_HEADER_BYTES));
    this.ringCount = shim.lanner_ring_count(handle);
    this.ringStats = new BigUint64Array(2 * this.ringCount);
    this.maxBatchesPerTick = Math.ceil((options.ringBytes * this.ringCount) / this.batch.length) + 1;
  }

  private readonly ringCount: number;
  private readonly ringStats: BigUint64Array;

  rings(): RingStats[] {
    if (this.handle === null) return [];
    const rc = this.shim.lanner_ring_stats(this.handle, this.ringStats, this.ringCount);
    if (rc !== 0) throw new Error(`reading the rings' fill failed (${errnoName(rc)})`);
    const out: RingStats[] = [];
    for (let i = 0; i < this.ringCount; i++) {
      out.push({ waitingBytes: Number(this.ringStats[2 * i]), ringFull: Number(this.ringStats[2 * i + 1]) });
    }
    return out;
  }

  start(sink: FrameSink): void {
    if (this.handle === null) throw new Error("the probe is stopped");
    if (this.timer !== null) throw new Error("the probe is already started");
    this.sink = sink;
    this.timer = setTimeout(this.tick, this.options.drainIntervalMs);
  }

  private readonly tick = (): void => {
    let bytes = 0;
    try {
      bytes = this.drain();
    } finally {
      // Stopped meanwhile (stop() clears the timer): no further tick.
      if (this.timer !== null) {
        this.ticks.total++;
        const busy = bytes >= this.options.ringBytes * BUSY_RING_FRACTION;
        if (busy) this.ticks.busy++;
        const interval = this.options.drainIntervalMs;
        this.timer = setTimeout(this.tick, busy ? Math.max(1, interval / BUSY_INTERVAL_DIVISOR) : interval);
      }
    }
  };

  stop(): void {
    const handle = this.handle;
    if (handle === null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.shim.lanner_detach(handle);
    try {
      if (this.sink !== null) this.drain();
    } finally {
      this.counters();
      this.handle = null;
      this.shim.lanner_close(handle);
    }
  }

  setSelection(kinds: Iterable<string>, prefilter: KernelPrefilter = NO_PREFILTER): void {
    const buffer = this.openBuffer === 0 ? 1 : 0;
    const map = selectionMap(kinds, undefined, prefilterSwitch(prefilter, buffer));
    const value = encodeOpenFilter(prefilter.open);
    if (this.handle === null) throw new Error("the probe is stopped");
    const written = this.shim.lanner_open_filter(this.handle, buffer, value, value.length);
    if (written !== 0) throw new Error(`writing the open prefilter map failed (${errnoName(written)})`);
    const rc = this.shim.lanner_select(this.handle, map, map.length);
    if (rc !== 0) throw new Error(`writing the syscall selection map failed (${errnoName(rc)})`);
    this.selected = kindsOf(map);
    this.active = prefilter;
    this.openBuffer = buffer;
  }

  prefilter(): KernelPrefilter {
    return this.active;
  }

  selection(): readonly EventKind[] {
    return this.selected;
  }

  agentHostTgid(): number {
    return this.handle === null ? 0 : this.shim.lanner_agent_host(this.handle);
  }

  counters(): KernelCounters {
    if (this.handle === null) return { ...this.last };
    const rc = this.shim.lanner_counters(this.handle, this.raw, COUNTER.count);
    if (rc !== 0) throw new Error(`reading the probe's counters failed (${errnoName(rc)})`);
    const writtenByKind: Partial<Record<EventKind, number>> = {};
    const droppedByKind: Partial<Record<EventKind, number>> = {};
    for (const [id, kind] of KIND_BY_ID) {
      const written = Number(this.raw[COUNTER.kindWritten + id]);
      const dropped = Number(this.raw[COUNTER.kindDropped + id]);
      if (written > 0) writtenByKind[kind] = written;
      if (dropped > 0) droppedByKind[kind] = dropped;
    }
    this.last = {
      seen: Number(this.raw[COUNTER.seen]),
      written: Number(this.raw[COUNTER.written]),
      ringFull: Number(this.raw[COUNTER.ringFull]),
      tooBig: Number(this.raw[COUNTER.tooBig]),
      readFault: Number(this.raw[COUNTER.readFault]),
      prefiltered: Number(this.raw[COUNTER.prefiltered]),
      openPrefiltered: Number(this.raw[COUNTER.openPrefiltered]),
      fdTrackFull: Number(this.raw[COUNTER.fdTrackFull]),
      programBusy: this.misses(),
      writtenByKind,
      droppedByKind,
    };
    return { ...this.last };
  }

  private readonly missed = new BigUint64Array(1);

  private misses(): number {
    if (this.handle === null) return this.last.programBusy;
    const rc = this.shim.lanner_misses(this.handle, this.missed);
    if (rc !== 0) throw new Error(`reading the probe's program statistics failed (${errnoName(rc)})`);
    return Number(this.missed[0]);
  }

  metrics(): MetricSample[] {
    const k = this.counters();
    const out: MetricSample[] = [
      {
        name: "kernel_events_seen_total",
        type: "counter",
        help: "Selected events the probe saw",
        value: k.seen,
      },
      {
        name: "kernel_records_written_total",
        type: "counter",
        help: "Records the probe wrote to the ring",
        value: k.written,
      },
      {
        name: "drain_ticks_total",
        type: "counter",
        help: DRAIN_TICKS_HELP,
        value: this.ticks.total - this.ticks.busy,
        labels: { pace: "interval" },
      },
      {
        name: "drain_ticks_total",
        type: "counter",
        help: DRAIN_TICKS_HELP,
        value: this.ticks.busy,
        labels: { pace: "busy" },
      },
      {
        name: "kernel_drops_total",
        type: "counter",
        help: "Records the probe dropped, by reason",
        value: k.ringFull,
        labels: { reason: "ring_full" },
      },
      {
        name: "kernel_drops_total",
        type: "counter",
        help: "Records the probe dropped, by reason",
        value: k.tooBig,
        labels: { reason: "too_big" },
      },
      {
        name: "kernel_drops_total",
        type: "counter",
        help: "Records the probe dropped, by reason",
        value: k.programBusy,
        labels: { reason: "program_busy" },
      },
      {
        name: "kernel_read_faults_total",
        type: "counter",
        help: "Kernel or user memory reads that failed (value sent empty)",
        value: k.readFault,
      },
      {
        name: "kernel_prefiltered_total",
        type: "counter",
        help: "Events a prefilter dropped in the kernel, by syscall: successful closes of fds whose creation was never recorded, opens no rule or state use can match",
        value: k.prefiltered,
        labels: { syscall: "close" },
      },
      {
        name: "kernel_prefiltered_total",
        type: "counter",
        help: "Events a prefilter dropped in the kernel, by syscall: successful closes of fds whose creation was never recorded, opens no rule or state use can match",
        value: k.openPrefiltered,
        labels: { syscall: "open" },
      },
      {
        name: "kernel_fd_track_full_total",
        type: "counter",
        help: "New processes the close prefilter's fd tracker had no room for (their closes all sent)",
        value: k.fdTrackFull,
      },
      {
        name: "kernel_rings",
        type: "gauge",
        help: "Ring buffers the probe writes to (engine.modern_ebpf.cpus_for_each_buffer)",
        value: this.ringCount,
      },
      {
        name: "kernel_selected_kinds",
        type: "gauge",
        help: "Event kinds selected in the kernel",
        value: this.selected.length,
      },
    ];
    this.rings().forEach((r, i) => {
      const ring = String(i);
      out.push(
        {
          name: "kernel_ring_waiting_bytes",
          type: "gauge",
          help: "Bytes in a ring buffer waiting to be drained",
          value: r.waitingBytes,
          labels: { ring },
        },
        {
          name: "kernel_ring_full_drops_total",
          type: "counter",
          help: "Records dropped because this ring buffer was full",
          value: r.ringFull,
          labels: { ring },
        },
      );
    });
    for (const [kind, n] of Object.entries(k.writtenByKind)) {
      out.push({
        name: "kernel_kind_records_total",
        type: "counter",
        help: "Records the probe wrote to the ring, by kind",
        value: n,
        labels: { kind },
      });
    }
    for (const [kind, n] of Object.entries(k.droppedByKind)) {
      out.push({
        name: "kernel_kind_drops_total",
        type: "counter",
        help: "Records the probe dropped, by kind",
        value: n,
        labels: { kind },
      });
    }
    return out;
  }

  /** Hands what the rings hold to the sink; returns the bytes handed over. */
  private drain(): number {
    const handle = this.handle;
    const sink = this.sink;
    if (handle === null || sink === null) return 0;
    const room = this.batch.length - (BOUNDS.record + FRAME_HEADER_BYTES);
    let total = 0;
    for (let i = 0; i < this.maxBatchesPerTick; i++) {
      const rc = this.shim.lanner_drain(handle, this.batch, this.batch.length, this.drained);
      const frames = this.drained[0];
      const bytes = this.drained[1];
      total += bytes;
      if (frames > 0) sink(this.batch.subarray(0, bytes), frames);
      if (rc !== 0) throw new Error(`draining the ring failed (${errnoName(rc)})`);
      // With room left for a maximal record, the drain stopped because the ring was empty.
      if (bytes <= room) return total;
    }
    return total;
  }
}

/** The kinds a selection map records, sorted. */
function kindsOf(map: Uint32Array): EventKind[] {
  const kinds = new Set<EventKind>();
  for (let nr = 0; nr < map.length; nr++) {
    const id = map[nr] as number;
    const kind = id === 0 || nr === FD_TRACK.switchSlot ? undefined : KIND_BY_ID.get(id);
    if (kind !== undefined) kinds.add(kind);
  }
  return [...kinds].sort();
}
