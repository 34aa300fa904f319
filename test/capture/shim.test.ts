// The shim's contract below the LiveProbe: rodata access by name, and a drain that stops before
// a record that does not fit without consuming it. Live: skipped (with the reason printed) where
// capture cannot run.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { probeObject } from "../../agent/capture/native-libs.ts";
import { asPointer, cString, type Handle, loadShim, type Shim } from "../../agent/capture/shim.ts";
import { selectionMap } from "../../agent/capture/selection.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import { BOUNDS, COUNTER, SCHEMA_VERSION } from "../../agent/events/schema.ts";
import { encodeEvent } from "../events/record-encoder.ts";
import { liveUnavailable } from "./live-support.ts";

const EINVAL = 22;
const ENOENT = 2;
const EBUSY = 16;
const E2BIG = 7;

function open(shim: Shim, ringBytes = 1 << 20): Handle {
  const object = probeObject();
  const err = new Int32Array(1);
  const handle = asPointer(shim.lanner_open(object, object.length, process.pid, ringBytes, err));
  if (handle === null) throw new Error(`lanner_open failed: ${err[0]}`);
  return handle;
}

function u32(shim: Shim, handle: Handle, name: string): number {
  const out = new Uint32Array(1);
  const rc = shim.lanner_rodata_get(handle, cString(name), out, 4);
  if (rc !== 0) throw new Error(`rodata_get(${name}) = ${rc}`);
  return out[0];
}

describe("shim without the kernel", () => {
  test("rodata variables by name, before load", () => {
    const shim = loadShim();
    const handle = open(shim);
    try {
      expect(u32(shim, handle, "schema_version")).toBe(SCHEMA_VERSION);
      expect(u32(shim, handle, "agent_tgid")).toBe(process.pid);
      const value = new Uint32Array([4242]);
      expect(shim.lanner_rodata_set(handle, cString("agent_tgid"), value, 4)).toBe(0);
      expect(u32(shim, handle, "agent_tgid")).toBe(4242);
      expect(shim.lanner_rodata_set(handle, cString("no_such_var"), value, 4)).toBe(-ENOENT);
      expect(shim.lanner_rodata_get(handle, cString("agent_tgid"), new Uint8Array(8), 8)).toBe(-EINVAL);
    } finally {
      shim.lanner_close(handle);
    }
  });

  test("open refuses a bad ring size and a non-ELF object", () => {
    const shim = loadShim();
    const err = new Int32Array(1);
    const object = probeObject();
    expect(asPointer(shim.lanner_open(object, object.length, 1, 3 << 20, err))).toBeNull();
    expect(err[0]).toBe(-EINVAL);
    const garbage = new Uint8Array(4096).fill(7);
    expect(asPointer(shim.lanner_open(garbage, garbage.length, 1, 0, err))).toBeNull();
    expect(err[0]).toBeLessThan(0);
  });

  test("the boot clock offset is realtime minus boottime", () => {
    const out = new BigInt64Array(2);
    expect(loadShim().lanner_boot_offset(out)).toBe(0);
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const bootWall = Number(out[0]) + Number(out[1]) / 1e9;
    // boottime counts suspend, /proc/uptime too: boot wall time + uptime = now.
    expect(Math.abs(bootWall + uptime - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(out[1])).toBeGreaterThanOrEqual(0);
    expect(Number(out[1])).toBeLessThan(1e9);
  });
});

const SMALL_BATCH = 8192;

describe.skipIf(liveUnavailable !== null)("shim against the kernel", () => {
  test("drain stops before a record that does not fit, loses none, and records match the documented layout", () => {
    const shim = loadShim();
    const handle = open(shim);
    try {
      expect(shim.lanner_load(handle)).toBe(0);
      // A kind id out of range is refused before anything is written.
      const bad = selectionMap(["openat"]);
      bad[0] = 999;
      expect(shim.lanner_select(handle, bad, bad.length)).toBe(-EINVAL);
      const selection = selectionMap(["openat", "close"]);
      expect(shim.lanner_select(handle, selection, selection.length)).toBe(0);
      expect(shim.lanner_rodata_set(handle, cString("agent_tgid"), new Uint32Array(1), 4)).toBe(-EBUSY);
      expect(shim.lanner_attach(handle)).toBe(0);
      for (let i = 0; i < 3; i++) Bun.spawnSync(["/bin/true"]);
      shim.lanner_detach(handle);

      const result = new Uint32Array(2);
      // Too small for any record: an error, and nothing consumed.
      expect(shim.lanner_drain(handle, new Uint8Array(8), 8, result)).toBe(-E2BIG);
      expect([result[0], result[1]]).toEqual([0, 0]);

      // Small batches: each holds whole frames only, and together they hold every record.
      const decoder = new RecordDecoder();
      const batch = new Uint8Array(BOUNDS.record + 4);
      let frames = 0;
      let partialBatches = 0;
      for (;;) {
        // Exec records carry up to 2 KiB of environment: a batch holds a few of them.
        expect(shim.lanner_drain(handle, batch, SMALL_BATCH, result)).toBe(0);
        if (result[0] === 0) break;
        expect(result[1]).toBeLessThanOrEqual(SMALL_BATCH);
        if (result[1] < SMALL_BATCH) partialBatches++;
        frames += result[0];
        // Every real record, re-encoded from its decoded event by the test's own encoder, gives
        // the same bytes: the probe writes exactly the layouts docs/EVENTS.md describes.
        let at = 0;
        const view = new DataView(batch.buffer, batch.byteOffset);
        decoder.decodeFrames(
          batch.subarray(0, result[1]),
          result[0],
          (e) => {
            const length = view.getUint32(at, true);
            expect(encodeEvent(e)).toEqual(batch.subarray(at + 4, at + 4 + length));
            at += 4 + length;
          },
          (e) => {
            throw e;
          },
        );
      }
      const counters = new BigUint64Array(COUNTER.count);
      expect(shim.lanner_counters(handle, counters, COUNTER.count)).toBe(0);
      expect(frames).toBe(Number(counters[COUNTER.written]));
      expect(frames).toBeGreaterThan(10);
      expect(partialBatches).toBeGreaterThan(0);
      expect(decoder.stats).toMatchObject({ decoded: frames, malformed: 0 });
    } finally {
      shim.lanner_close(handle);
    }
  });
});
