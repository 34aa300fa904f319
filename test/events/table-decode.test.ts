// Every kind of the event table, encoded as the probe writes it and decoded back; older and newer
// records of the same kind; the socket readers.
import { describe, expect, test } from "bun:test";
import { RecordDecoder } from "../../agent/events/decode.ts";
import { ipv6 } from "../../agent/events/readers.ts";
import { EVT_PARAMS } from "../../agent/events/schema.ts";
import { EVENT_TABLE, HEADER_FIELDS, type ParamSpec } from "../../agent/events/table.ts";
import type { Event, EventKind, ExecEvent } from "../../agent/events/types.ts";
import { argsBlob, encodeEvent, execRecordV1, RecordWriter } from "./record-encoder.ts";

/** A value of the parameter's type that is not its default, different per position. */
function sample(p: ParamSpec, i: number): unknown {
  switch (p.type) {
    case "i32":
      return -1000 - i;
    case "i64":
      return -(2 ** 40) - i;
    case "u32":
      return 0xfffff000 + i;
    case "u64":
      return 2 ** 40 + i;
    case "str":
      return `/some/path-${i}`;
    case "argv":
      return ["a", "", `b${i}`];
    case "cgroup":
    case "dentry_path":
      return `/x/y${i}`;
    case "tuple":
      return p.source.from === "sock" && p.source.inbound
        ? { family: 10, srcIp: "2001:db8::1", srcPort: 443, dstIp: "::1", dstPort: 50000 + i, path: "" }
        : { family: 2, srcIp: "10.0.0.1", srcPort: 40000 + i, dstIp: "127.0.0.1", dstPort: 22, path: "" };
    case "sockaddr":
      return { family: 1, addr: "/run/sock", port: 0 };
  }
}

function sampleEvent(kind: string): Event {
  const spec = EVENT_TABLE.find((k) => k.name === kind)!;
  const e: Record<string, unknown> = { kind, num: 1, bootSec: 7, bootNsec: 8, tid: 9, pid: 10, cut: 0 };
  spec.params.forEach((p, i) => {
    e[p.name] = sample(p, i);
  });
  return e as unknown as Event;
}

describe("every kind of the event table", () => {
  for (const spec of EVENT_TABLE) {
    test(`${spec.name}: encode, decode, same event`, () => {
      const event = sampleEvent(spec.name);
      const record = encodeEvent(event);
      expect(record[0]).toBe(0xdc); // array16 header
      expect(new RecordDecoder().decode(record, 0, record.length)).toEqual(event);
    });
  }

  test("the evt.arg table names every parameter in record order", () => {
    for (const spec of EVENT_TABLE) {
      expect(EVT_PARAMS[spec.name as EventKind].map((p) => p.field)).toEqual(spec.params.map((p) => p.name));
      expect(new Set(EVT_PARAMS[spec.name as EventKind].map((p) => p.falco)).size).toBe(spec.params.length);
    }
  });
});

describe("records of another probe version", () => {
  test("a schema 1 exec record decodes with the documented defaults for the appended params", () => {
    const record = execRecordV1({ comm: "sh", filename: "/bin/sh", argsBlob: argsBlob(["sh"]) });
    const e = new RecordDecoder(1).decode(record, 0, record.length) as ExecEvent;
    expect(e).toMatchObject({ kind: "execve", comm: "sh", args: ["sh"], cgroup: "/" });
    const defaults = Object.fromEntries(
      EVENT_TABLE[0].params
        .filter((p) => p.since === 2)
        .map((p) => [p.name, p.type === "argv" ? [] : p.default]),
    );
    expect(defaults).toEqual({
      env: [],
      cwd: "",
      tty: 0,
      loginuid: 0xffffffff,
      sid: 0,
      pgid: 0,
      capEffective: 0,
      exeFlags: 0,
    });
    expect(e).toMatchObject(defaults);
  });

  test("a record with parameters this agent does not know keeps the known ones", () => {
    const w = new RecordWriter()
      .array16(HEADER_FIELDS + 3 + 1)
      .uint(9)
      .uint(1)
      .uint(2)
      .uint(3)
      .uint(4);
    w.int(0).int(5).str("from a newer probe").uint(0);
    const e = new RecordDecoder().decode(w.done(), 0, w.done().length);
    expect(e).toEqual({
      kind: "close",
      num: 1,
      bootSec: 1,
      bootNsec: 2,
      tid: 3,
      pid: 4,
      cut: 0,
      res: 0,
      fd: 5,
    });
  });
});

describe("socket values", () => {
  const connect = (tuple: (w: RecordWriter) => void) => {
    const w = new RecordWriter()
      .array16(HEADER_FIELDS + 4 + 1)
      .uint(12)
      .uint(1)
      .uint(2)
      .uint(3)
      .uint(4);
    w.int(-111);
    tuple(w);
    w.int(3).nil().uint(0);
    const r = w.done();
    return new RecordDecoder().decode(r, 0, r.length);
  };

  test("a tuple of a non-socket fd is null; unix tuples carry paths", () => {
    expect(connect((w) => w.nil())).toMatchObject({
      kind: "connect",
      res: -111,
      tuple: null,
      fd: 3,
      addr: null,
    });
    const unix = connect((w) => w.array16(5).uint(1).str("").uint(0).str("/run/x.sock").uint(0));
    expect(unix).toMatchObject({
      tuple: { family: 1, srcIp: "", srcPort: 0, dstIp: "", dstPort: 0, path: "/run/x.sock" },
    });
  });

  test("a malformed tuple is a DecodeError naming the element", () => {
    expect(() => connect((w) => w.array16(2).uint(2).uint(1))).toThrow(/element 6: expected tuple\[5\]/);
    expect(() =>
      connect((w) => w.array16(5).uint(2).bin(new Uint8Array(3)).uint(1).bin(new Uint8Array(4)).uint(2)),
    ).toThrow(/3-byte address for family 2/);
    expect(() =>
      connect((w) => w.array16(5).uint(2).bin(new Uint8Array(4)).uint(70000).bin(new Uint8Array(4)).uint(2)),
    ).toThrow(/port 70000 is not a uint16/);
  });

  test("IPv6 text follows RFC 5952", () => {
    const b = (...g: number[]) => Uint8Array.from(g.flatMap((x) => [x >> 8, x & 0xff]));
    expect(ipv6(b(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))).toBe("2001:db8::1");
    expect(ipv6(b(0, 0, 0, 0, 0, 0, 0, 1))).toBe("::1");
    expect(ipv6(b(0, 0, 0, 0, 0, 0, 0, 0))).toBe("::");
    expect(ipv6(b(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1))).toBe("::ffff:127.0.0.1");
    expect(ipv6(b(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1))).toBe("2001:db8:0:1::1");
    expect(ipv6(b(1, 2, 3, 4, 5, 6, 7, 8))).toBe("1:2:3:4:5:6:7:8");
  });
});
