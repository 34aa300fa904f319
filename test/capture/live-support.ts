// Shared by the live capture tests: whether this machine can run them, and polling helpers.
import { checkEnvironment, readEnvironment } from "../../agent/capture/environment.ts";
import { type LiveProbe, openLiveProbe, type ProbeOptions } from "../../agent/capture/probe.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import type { Event, ExecEvent } from "../../agent/events/types.ts";

/** Why live capture cannot run here, or null. Printed, never skipped silently. */
export const liveUnavailable: string | null = checkEnvironment(readEnvironment())?.message ?? null;
if (liveUnavailable !== null) console.warn(`live capture tests SKIPPED: ${liveUnavailable}`);

/** Polls `found` every 10 ms (letting timers run) until it returns a value or `ms` passes. */
export async function waitFor<T>(found: () => T | undefined, ms = 3000): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = found();
    if (value !== undefined || Date.now() > deadline) return value;
    await Bun.sleep(10);
  }
}

export const isExec = (e: Event): e is ExecEvent => e.kind === "execve" || e.kind === "execveat";

/** The exec record (execve or execveat) of process `pid` that `matches`, by default a successful
 * one, once a drain has handed it over into `events`; undefined after waitFor's time. */
export function waitForExec(
  events: readonly Event[],
  pid: number,
  matches: (e: ExecEvent) => boolean = (e) => e.res === 0,
): Promise<ExecEvent | undefined> {
  return waitFor(() => events.find((e): e is ExecEvent => isExec(e) && e.pid === pid && matches(e)));
}

/** Compiling the syscall helper and loading the probe take seconds on a busy machine: more than
 * the runner's default hook timeout. */
export const LIVE_SETUP_MS = 60_000;
/** A live test waits for kernel events up to 10 s at a time. */
export const LIVE_TEST_MS = 30_000;

/** A started probe whose decoded events (and decode errors) accumulate, in the order the drain
 * handed them over. */
export function collectLive(options: ProbeOptions): {
  probe: LiveProbe;
  events: Event[];
  decoder: RecordDecoder;
  errors: Error[];
} {
  const probe = openLiveProbe(options);
  const decoder = new RecordDecoder();
  const events: Event[] = [];
  const errors: Error[] = [];
  probe.start((frames, count) =>
    decoder.decodeFrames(
      frames,
      count,
      (e) => events.push(e),
      (e) => errors.push(e),
    ),
  );
  return { probe, events, decoder, errors };
}
