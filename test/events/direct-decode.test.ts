// The direct decoder (agent/events/wire.ts, FAST_DECODERS) against the reference path (msgpackr
// and the checked readers, RecordDecoder.decodeGeneric): the same events for every kind, encoded
// as the probe writes them and as msgpackr packs them, older and newer records, and the same
// errors, word for word with the byte offset, for truncated and mutated records.
import { describe, expect, test } from "bun:test";
import { pack } from "msgpackr/pack";
import { unpack } from "msgpackr/unpack";
import { DecodeError, RecordDecoder } from "../../agent/events/decode.ts";
import { EVENT_TABLE, HEADER_FIELDS, type ParamSpec } from "../../agent/events/table.ts";
import type { Event } from "../../agent/events/types.ts";
import {
  argsBlob,
  encodeEvent,
  execRecord,
  execRecordV1,
  openRecord,
  RecordWriter,
} from "./record-encoder.ts";

type Outcome = { event: Event } | { error: string; offset: number };

function outcome(run: () => Event): Outcome {
  try {
    return { event: run() };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { error: error.message, offset: error.offset };
  }
}

/** Decodes bytes[start, end) both ways with fresh decoders; returns both outcomes and whether
 * the direct path handled it. */
function both(bytes: Uint8Array, start = 0, end = bytes.length, schema = 2) {
  const direct = new RecordDecoder(schema);
  const generic = new RecordDecoder(schema);
  const a = outcome(() => direct.decode(bytes, start, end));
  const b = outcome(() => generic.decodeGeneric(bytes, start, end));
  return { direct: a, generic: b, tookGeneric: direct.stats.generic };
}

/** Non-default values, ASCII or not, per wire type. */
function sample(p: ParamSpec, i: number, text: (s: string) => string): unknown {
  switch (p.type) {
    case "i32":
      return i % 2 === 0 ? -1000 - i : 70_000 + i;
    case "i64":
      return -(2 ** 40) - i;
    case "u32":
      return i % 2 === 0 ? 0xfffff000 + i : 200 + i;
    case "u64":
      return 2 ** 40 + i;
    case "str":
      return text(`/some/path-${i}`);
    case "argv":
      return [text("a"), "", `b${i}`];
    case "cgroup":
    case "dentry_path":
      return text(`/x/y${i}`);
    case "tuple":
      return p.source.from === "sock" && p.source.inbound
        ? { family: 10, srcIp: "2001:db8::1", srcPort: 443, dstIp: "::1", dstPort: 50000 + i, path: "" }
        : { family: 2, srcIp: "10.0.0.1", srcPort: 40000 + i, dstIp: "127.0.0.1", dstPort: 22, path: "" };
    case "sockaddr":
      return { family: 1, addr: text("/run/sock"), port: 0 };
  }
}

function sampleEvent(kind: string, text: (s: string) => string = (s) => s): Event {
  const spec = EVENT_TABLE.find((k) => k.name === kind);
  if (spec === undefined) throw new Error(kind);
  const e: Record<string, unknown> = { kind, num: 1, bootSec: 7, bootNsec: 8, tid: 9, pid: 10, cut: 0 };
  spec.params.forEach((p, i) => {
    e[p.name] = sample(p, i, text);
  });
  return e as unknown as Event;
}

/** The same record as msgpackr packs a plain array: fixarray, fixstr/str8, smallest ints. */
function packedLikeMsgpackr(record: Uint8Array): Uint8Array {
  return pack(unpack(record));
}

describe("every kind of the event table, direct path", () => {
  for (const spec of EVENT_TABLE) {
    test(`${spec.name}: the probe's layout and msgpackr's, both decoders, one event`, () => {
      const event = sampleEvent(spec.name);
      for (const record of [encodeEvent(event), packedLikeMsgpackr(encodeEvent(event))]) {
        const r = both(record);
        expect(r.tookGeneric).toBe(0);
        expect(r.direct).toEqual({ event });
        expect(r.generic).toEqual({ event });
        // Same key order too: alerts and captures serialise events.
        expect(Object.keys((r.direct as { event: Event }).event)).toEqual(Object.keys(event));
      }
    });
  }

  test("non-ASCII text goes to the reference path and decodes the same", () => {
    for (const spec of EVENT_TABLE) {
      if (!spec.params.some((p) => ["str", "argv", "cgroup", "dentry_path", "sockaddr"].includes(p.type)))
        continue;
      const event = sampleEvent(spec.name, (s) => `${s}-été-🦀`);
      const r = both(encodeEvent(event));
      expect(r.direct).toEqual({ event });
      expect(r.generic).toEqual(r.direct);
    }
  });

  test("older records (schema 1 exec, every shorter length) decode with the table's defaults", () => {
    const v1 = execRecordV1({ comm: "sh", filename: "/bin/sh", argsBlob: argsBlob(["sh", "-c"]) });
    const r = both(v1, 0, v1.length, 1);
    expect(r.tookGeneric).toBe(0);
    expect(r.direct).toEqual(r.generic);
    expect("event" in r.direct).toBe(true);
    for (const spec of EVENT_TABLE) {
      for (let present = 0; present < spec.params.length; present++) {
        // The first `present` parameters of a full record, then the cut mask.
        const values = unpack(encodeEvent(sampleEvent(spec.name))) as unknown[];
        const prefix = pack([
          spec.id,
          1,
          2,
          3,
          4,
          ...values.slice(HEADER_FIELDS, HEADER_FIELDS + present),
          0,
        ]);
        const shorter = both(prefix);
        expect(shorter.tookGeneric).toBe(0);
        expect("event" in shorter.direct).toBe(true);
        expect(shorter.direct).toEqual(shorter.generic);
      }
    }
  });

  test("a newer record's unknown trailing parameters are stepped over", () => {
    const w = new RecordWriter()
      .array16(HEADER_FIELDS + 5 + 1)
      .uint(9)
      .uint(1)
      .uint(2)
      .uint(3)
      .uint(4);
    w.int(0)
      .int(5)
      .str("newer")
      .nil()
      .array16(3)
      .u8(0xc3)
      .u8(0xcb, 0x40, 0x09, 0, 0, 0, 0, 0, 0) // float64 3.125
      .bin(new Uint8Array([1, 2]))
      .uint(0);
    const r = both(w.done());
    expect(r.tookGeneric).toBe(0);
    expect(r.direct).toEqual({
      event: { kind: "close", num: 1, bootSec: 1, bootNsec: 2, tid: 3, pid: 4, cut: 0, res: 0, fd: 5 },
    });
    expect(r.generic).toEqual(r.direct);
  });

  test("with the direct path switched off (benchmarks), every record takes the reference path", () => {
    const record = openRecord({ path: "/etc/passwd" });
    const decoder = new RecordDecoder();
    RecordDecoder.directPath = false;
    try {
      expect(both(record).generic).toEqual({ event: decoder.decode(record, 0, record.length) });
      expect(decoder.stats.generic).toBe(1);
    } finally {
      RecordDecoder.directPath = true;
    }
  });

  test("a record in the middle of a batch: the direct path reads only its bytes", () => {
    const record = openRecord({ path: "/etc/passwd" });
    const batch = new Uint8Array(100 + record.length + 50).fill(0xc1);
    batch.set(record, 100);
    const r = both(batch, 100, 100 + record.length);
    expect(r.tookGeneric).toBe(0);
    expect(r.direct).toEqual(r.generic);
  });
});

describe("malformed records: the reference path's errors, word for word", () => {
  const records = [
    execRecord({
      comm: "bash",
      filename: "/bin/bash",
      argsBlob: argsBlob(["bash", "-c", "id"]),
      cgroupLeafFirst: ["x.scope", "kubepods"],
      cwdLeafFirst: ["tmp"],
    }),
    openRecord({ path: "/etc/shadow" }),
    ...EVENT_TABLE.map((k) => encodeEvent(sampleEvent(k.name))),
  ];

  test("truncated at every length, inside a batch at a non-zero offset", () => {
    for (const record of records.slice(0, 4)) {
      for (let cut = 1; cut < record.length; cut++) {
        const batch = new Uint8Array(7 + record.length);
        batch.set(record, 7);
        const r = both(batch, 7, 7 + cut);
        expect(r.direct).toEqual(r.generic);
        expect(r.direct).toMatchObject({ offset: 7 });
        expect((r.direct as { error: string }).error).toStartWith("malformed record at byte 7: ");
      }
    }
  });

  test("20,000 mutants (bit flips, byte values, inserted and removed bytes): same event or same error", () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const interesting = [0x00, 0x7f, 0x80, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xca, 0xcb, 0xcf, 0xd3];
    let errors = 0;
    let events = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = records[random(records.length)];
      let m = Array.from(base);
      for (let k = 1 + random(3); k > 0; k--) {
        const at = random(m.length);
        switch (random(5)) {
          case 0:
            m[at] ^= 1 << random(8);
            break;
          case 1:
            m[at] = interesting[random(interesting.length)];
            break;
          case 2:
            m[at] = random(256);
            break;
          case 3:
            m.splice(at, 0, random(256));
            break;
          default:
            m = m.filter((_, j) => j !== at);
        }
      }
      const r = both(Uint8Array.from(m));
      expect(r.direct).toEqual(r.generic);
      if ("error" in r.direct) errors++;
      else events++;
    }
    // Both outcomes were exercised.
    expect(errors).toBeGreaterThan(1000);
    expect(events).toBeGreaterThan(1000);
  });
});
