// Run by fuzz.test.ts in its own process (time and memory are bounded from outside): mutates the
// capture fixture many ways and pushes each mutant through the reader and the agent's record path
// (decode, state, the default rules). Every mutant must end in a result or a CaptureFileError /
// SnapshotError; anything else is printed and exits 1. Prints a JSON summary.
//   bun test/replay/fuzz-worker.ts SEED CASES

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../../agent/agent/index.ts";
import { CaptureFileError, CaptureReader } from "../../agent/capturefile/index.ts";
import { DEFAULT_RULES } from "../../agent/config/index.ts";
import { Logger } from "../../agent/log.ts";
import { liveBinder, liveEventKey, liveText, loadRuleSources, RuleEngine } from "../../agent/rules/index.ts";
import { type EventContext, parseSnapshot, restoreState, SnapshotError } from "../../agent/state/index.ts";

const seed = Number(process.argv[2] ?? 1);
const cases = Number(process.argv[3] ?? 300);
const original = readFileSync(join(import.meta.dir, "../fixtures/actions-v1.lcap"));
const dir = mkdtempSync(join(tmpdir(), "lanner-fuzz-"));
const loaded = loadRuleSources([DEFAULT_RULES]);
const log = new Logger("emergency", true);

// xorshift32: the same seed gives the same mutants, so a failure can be replayed.
let state = seed >>> 0 || 1;
function rand(n: number): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state % n;
}

/** Block boundaries of the (uncompressed) fixture: [headerOffset, payloadStart, payloadEnd, type]. */
function blocks(bytes: Uint8Array): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 12; at + 16 <= bytes.length; ) {
    const len = v.getUint32(at + 8, true);
    out.push([at, at + 16, at + 16 + len, bytes[at + 4]]);
    at += 16 + len;
  }
  return out;
}

function fixCrcs(bytes: Uint8Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const [at, start, end] of blocks(bytes))
    if (end <= bytes.length) v.setUint32(at + 12, Bun.hash.crc32(bytes.subarray(start, end)), true);
}

function mutate(): Uint8Array {
  let bytes = Uint8Array.from(original);
  const kind = rand(6);
  const layout = blocks(bytes);
  const records = layout.filter((b) => b[3] === 3);
  const inPayload = () => {
    const [, start, end] = records[rand(records.length)];
    return start + 4 + rand(end - start - 4);
  };
  switch (kind) {
    case 0: // flip bits anywhere
      for (let i = rand(8) + 1; i > 0; i--) bytes[rand(bytes.length)] ^= 1 << rand(8);
      break;
    case 1: // truncate
      bytes = bytes.subarray(0, rand(bytes.length));
      break;
    case 2: // random bytes inside record payloads, CRCs fixed: the decoder sees them
      for (let i = rand(16) + 1; i > 0; i--) bytes[inPayload()] = rand(256);
      fixCrcs(bytes);
      break;
    case 3: // MessagePack headers that announce huge lengths inside records, CRCs fixed
      for (let i = rand(4) + 1; i > 0; i--) {
        const at = inPayload();
        const big = [0xdd, 0xdf, 0xdb, 0xc6, 0xc9][rand(5)];
        bytes.set([big, 0xff, 0xff, 0xff, 0xf0].slice(0, Math.min(5, bytes.length - at)), at);
      }
      fixCrcs(bytes);
      break;
    case 4: {
      // a frame length rewritten, CRCs fixed: framing checks
      const [, start] = records[rand(records.length)];
      new DataView(bytes.buffer).setUint32(start + 4, rand(2) === 0 ? 0xffffffff : rand(64), true);
      fixCrcs(bytes);
      break;
    }
    case 5: {
      // a block length or type rewritten (header fields), then a bit flip
      const [at] = layout[rand(layout.length)];
      if (rand(2) === 0) new DataView(bytes.buffer).setUint32(at + 8, rand(0x7fffffff), true);
      else bytes[at + 4] = rand(256);
      break;
    }
  }
  return bytes;
}

const outcome: Record<string, number> = {};
let maxCaseMs = 0;
for (let i = 0; i < cases; i++) {
  const path = join(dir, `m${i}.lcap`);
  writeFileSync(path, mutate());
  const t0 = performance.now();
  let result: string;
  try {
    const reader = new CaptureReader(path, { skipBad: i % 2 === 0 });
    const tracker = restoreState(parseSnapshot(reader.snapshot), {
      processCapacity: 1024,
      host: { hostname: reader.header.hostname, clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    const engine = new RuleEngine<EventContext>(
      loaded.ruleset,
      { minPriority: "Debug", matching: "all", selection: [] },
      liveBinder,
      liveText,
      liveEventKey,
    );
    const pipeline = new Pipeline({
      engine,
      state: tracker,
      outputs: { publish: () => {} },
      log,
      hostname: "fuzz",
    });
    for (let b = reader.nextRecords(); b !== undefined; b = reader.nextRecords())
      pipeline.onFrames(b.frames, b.count);
    reader.close();
    result = pipeline.stats().malformed > 0 ? "decoded_with_malformed" : "decoded";
  } catch (error) {
    if (error instanceof CaptureFileError) result = "capture_file_error";
    else if (error instanceof SnapshotError) result = "snapshot_error";
    else {
      console.error(`seed ${seed} case ${i}: unexpected ${(error as Error).stack}`);
      process.exit(1);
    }
  }
  maxCaseMs = Math.max(maxCaseMs, performance.now() - t0);
  outcome[result] = (outcome[result] ?? 0) + 1;
  rmSync(path);
}
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    seed,
    cases,
    outcome,
    maxCaseMs: Math.round(maxCaseMs),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
