import { describe, expect, test } from "bun:test";
import { DecodeError, RecordDecoder } from "../../agent/events/decode.ts";
import { EXEC_PARAM, OPEN_PARAM, SCHEMA_VERSION } from "../../agent/events/schema.ts";
import type { Event, ExecEvent, OpenEvent } from "../../agent/events/types.ts";
import {
  argsBlob,
  execRecord,
  exitRecord,
  forkRecord,
  frames,
  openRecord,
  RecordWriter,
} from "./record-encoder.ts";

function decodeOne(record: Uint8Array, decoder = new RecordDecoder()): Event {
  return decoder.decode(record, 0, record.length);
}

function decodeError(record: Uint8Array, start = 0, end = record.length): DecodeError {
  try {
    new RecordDecoder().decode(record, start, end);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError");
}

describe("RecordDecoder: every kind", () => {
  test("execve success with argv and a cgroup path", () => {
    const e = decodeOne(
      execRecord({
        bootSec: 12345,
        bootNsec: 999_999_999,
        tid: 4242,
        pid: 4242,
        ppid: 4000,
        uid: 1000,
        gid: 1001,
        comm: "curl",
        filename: "/usr/bin/curl",
        argsBlob: argsBlob(["curl", "-s", "", "https://example.com"]),
        cgroupLeafFirst: ["cri-containerd-abc.scope", "kubepods-besteffort.slice", "kubepods.slice"],
      }),
    );
    expect(e).toEqual({
      kind: "execve",
      num: 1,
      bootSec: 12345,
      bootNsec: 999_999_999,
      tid: 4242,
      pid: 4242,
      cut: 0,
      res: 0,
      ppid: 4000,
      uid: 1000,
      gid: 1001,
      comm: "curl",
      filename: "/usr/bin/curl",
      args: ["curl", "-s", "", "https://example.com"],
      cgroup: "/kubepods.slice/kubepods-besteffort.slice/cri-containerd-abc.scope",
      env: [],
      cwd: "/",
      tty: 0,
      loginuid: 0xffffffff,
      sid: 0,
      pgid: 0,
      capEffective: 0,
      exeFlags: 0,
    } satisfies ExecEvent);
  });

  test("execveat failure: negative res, empty args, root cgroup", () => {
    const e = decodeOne(
      execRecord({
        kind: "execveat",
        res: -2,
        filename: "/nope",
        argsBlob: new Uint8Array(),
        cgroupLeafFirst: [],
      }),
    ) as ExecEvent;
    expect(e.kind).toBe("execveat");
    expect(e.res).toBe(-2);
    expect(e.args).toEqual([]);
    expect(e.cgroup).toBe("/");
  });

  test.each(["open", "openat", "openat2"] as const)("%s", (kind) => {
    const e = decodeOne(
      openRecord({
        kind,
        res: 7,
        dirfd: kind === "open" ? -100 : 5,
        path: "a/b",
        flags: 0o2101,
        mode: 0o644,
        resolve: 8,
      }),
    );
    expect(e).toEqual({
      kind,
      num: 1,
      bootSec: 100,
      bootNsec: 5,
      tid: 1234,
      pid: 1234,
      cut: 0,
      res: 7,
      dirfd: kind === "open" ? -100 : 5,
      path: "a/b",
      flags: 0o2101,
      mode: 0o644,
      resolve: 8,
    } satisfies OpenEvent);
  });

  test("procexit and procfork", () => {
    const decoder = new RecordDecoder();
    expect(decodeOne(exitRecord({ tid: 10, pid: 9, exitCode: 768 }), decoder)).toEqual({
      kind: "procexit",
      num: 1,
      bootSec: 100,
      bootNsec: 5,
      tid: 10,
      pid: 9,
      cut: 0,
      exitCode: 768,
    });
    expect(decodeOne(forkRecord({ tid: 9, pid: 9, childTid: 11, childPid: 9 }), decoder)).toEqual({
      kind: "procfork",
      num: 2,
      bootSec: 100,
      bootNsec: 5,
      tid: 9,
      pid: 9,
      cut: 0,
      childTid: 11,
      childPid: 9,
      sharesFds: 0,
    });
    const shared = decodeOne(
      forkRecord({ tid: 9, pid: 9, childTid: 12, childPid: 12, sharesFds: 1 }),
      decoder,
    );
    expect(shared).toMatchObject({ kind: "procfork", childTid: 12, childPid: 12, sharesFds: 1 });
  });
});

describe("RecordDecoder: values", () => {
  // Every boundary of the smallest-encoding rule: fixint, uint8/16/32, negative fixint, int8/16/32.
  const unsigned = [0, 127, 128, 255, 256, 65535, 65536, 0xffffffff];
  const signed = [-1, -32, -33, -128, -129, -32768, -32769, -2147483648, 2147483647];

  test.each(unsigned)("uint %d in every unsigned field", (v) => {
    const e = decodeOne(
      openRecord({ bootSec: v, bootNsec: v, tid: v, pid: v, flags: v, mode: v, resolve: v }),
    ) as OpenEvent;
    expect([e.bootSec, e.bootNsec, e.tid, e.pid, e.flags, e.mode, e.resolve]).toEqual([v, v, v, v, v, v, v]);
  });

  test.each(signed)("int %d in every signed field", (v) => {
    const open = decodeOne(openRecord({ res: v, dirfd: v })) as OpenEvent;
    expect([open.res, open.dirfd]).toEqual([v, v]);
    const exit = decodeOne(exitRecord({ exitCode: v }));
    expect(exit.kind === "procexit" && exit.exitCode).toBe(v);
  });

  test("cut bits are passed through", () => {
    const cut = (1 << EXEC_PARAM.filename) | (1 << EXEC_PARAM.args) | (1 << EXEC_PARAM.cgroup);
    expect(decodeOne(execRecord({ cut })).cut).toBe(cut);
    expect(decodeOne(openRecord({ cut: 1 << OPEN_PARAM.path })).cut).toBe(4);
  });

  test("a cut argv blob keeps its last, partial argument", () => {
    const blob = new TextEncoder().encode("python3\0-c\0import o");
    const e = decodeOne(execRecord({ argsBlob: blob, cut: 1 << EXEC_PARAM.args })) as ExecEvent;
    expect(e.args).toEqual(["python3", "-c", "import o"]);
  });

  test("unicode in paths, argv, comm and cgroup names", () => {
    const e = decodeOne(
      execRecord({
        comm: "généré",
        filename: "/tmp/été/日本/🦀",
        argsBlob: argsBlob(["🦀", "ß"]),
        cgroupLeafFirst: ["日本.scope", "été"],
      }),
    ) as ExecEvent;
    expect([e.comm, e.filename, e.args, e.cgroup]).toEqual([
      "généré",
      "/tmp/été/日本/🦀",
      ["🦀", "ß"],
      "/été/日本.scope",
    ]);
    expect((decodeOne(openRecord({ path: "/données/файл" })) as OpenEvent).path).toBe("/données/файл");
  });

  test("a 4096-byte path and a 16-level cgroup", () => {
    const path = "/" + "x".repeat(4095);
    expect((decodeOne(openRecord({ path })) as OpenEvent).path).toBe(path);
    const names = Array.from({ length: 16 }, (_, i) => `n${i}`);
    const e = decodeOne(execRecord({ cgroupLeafFirst: names })) as ExecEvent;
    expect(e.cgroup).toBe("/" + names.toReversed().join("/"));
  });

  test("num counts up across decode and decodeFrames calls", () => {
    const decoder = new RecordDecoder();
    const nums: number[] = [];
    nums.push(decoder.decode(exitRecord(), 0, exitRecord().length).num);
    decoder.decodeFrames(
      frames([forkRecord(), openRecord()]),
      2,
      (e) => nums.push(e.num),
      () => {},
    );
    decoder.decodeFrames(
      frames([exitRecord()]),
      1,
      (e) => nums.push(e.num),
      () => {},
    );
    expect(nums).toEqual([1, 2, 3, 4]);
    expect(decoder.stats).toEqual({ decoded: 4, malformed: 0, generic: 0 });
  });

  test("decodes a record in the middle of a larger buffer", () => {
    const record = openRecord({ path: "/mid" });
    const buf = new Uint8Array(record.length + 20).fill(0xc1);
    buf.set(record, 7);
    expect((new RecordDecoder().decode(buf, 7, 7 + record.length) as OpenEvent).path).toBe("/mid");
  });

  test("the decoder refuses another schema version", () => {
    expect(() => new RecordDecoder(SCHEMA_VERSION + 1)).toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1} is not supported`),
    );
    expect(new RecordDecoder(SCHEMA_VERSION).stats).toEqual({ decoded: 0, malformed: 0, generic: 0 });
  });
});

describe("RecordDecoder: malformed records", () => {
  test("truncated at every length", () => {
    const record = execRecord({ argsBlob: argsBlob(["a", "b"]), cgroupLeafFirst: ["x"] });
    for (let end = 1; end < record.length; end++) {
      const error = decodeError(record, 0, end);
      expect(error.offset).toBe(0);
    }
  });

  test("trailing bytes after the record", () => {
    const record = openRecord();
    const padded = new Uint8Array(record.length + 1);
    padded.set(record);
    expect(decodeError(padded).reason).toMatch(/not one MessagePack value/);
  });

  test("too few elements for a header and a cut mask", () => {
    const w = new RecordWriter().fixarray(5).uint(6).uint(1).uint(2).uint(3).uint(4);
    expect(decodeError(w.done()).reason).toBe("record has 5 elements, at least 6 expected");
  });

  test("wrong type at a position names the position", () => {
    const stringForInt = new RecordWriter()
      .fixarray(7)
      .uint(6)
      .uint(1)
      .uint(2)
      .uint(3)
      .uint(4)
      .str("x")
      .uint(0);
    expect(decodeError(stringForInt.done()).reason).toBe("element 5: expected int32, got string (kind 6)");
    const negativePid = new RecordWriter().fixarray(7).uint(6).uint(1).uint(2).uint(3).int(-4).int(0).uint(0);
    expect(decodeError(negativePid.done()).reason).toBe("element 4: expected uint32, got number");
    const binForStr = new RecordWriter()
      .fixarray(12)
      .uint(4)
      .uint(1)
      .uint(2)
      .uint(3)
      .uint(4)
      .int(3)
      .int(-100)
      .bin(new Uint8Array([47]))
      .uint(0)
      .uint(0)
      .uint(0)
      .uint(0);
    expect(decodeError(binForStr.done()).reason).toBe("element 7: expected str, got bin (kind 4)");
  });

  test("64-bit integers are decoded as numbers and rejected by range", () => {
    // uint64 2^32 where a uint32 pid belongs.
    const w = new RecordWriter().fixarray(7).uint(6).uint(1).uint(2).uint(3);
    w.u8(0xcf, 0, 0, 0, 1, 0, 0, 0, 0).int(0).uint(0);
    expect(decodeError(w.done()).reason).toBe("element 4: expected uint32, got number");
  });

  test("a cgroup list with a non-string", () => {
    const w = new RecordWriter().fixarray(14).uint(1).uint(1).uint(2).uint(3).uint(4);
    w.int(0).uint(1).uint(0).uint(0).str("c").str("/f").bin(new Uint8Array()).array16(1).uint(5).uint(0);
    expect(decodeError(w.done()).reason).toMatch(/element 12: name 0 is number/);
  });

  test("a cut bit past the last parameter", () => {
    expect(decodeError(exitRecord({ cut: 2 })).reason).toMatch(/cut bitmask 2/);
  });

  test("unknown kind, not an array, garbage, empty", () => {
    const unknown = new RecordWriter().fixarray(6).uint(99).uint(1).uint(2).uint(3).uint(4).uint(0);
    expect(decodeError(unknown.done()).reason).toBe("unknown kind 99");
    expect(decodeError(new Uint8Array([0x80])).reason).toBe("not a MessagePack array"); // empty map
    expect(decodeError(new Uint8Array([0x2a])).reason).toBe("not a MessagePack array");
    expect(decodeError(new Uint8Array([0xc1, 0xc1, 0xc1])).offset).toBe(0); // 0xc1 is never used
    expect(decodeError(new Uint8Array([0x95, 0xa3])).offset).toBe(0);
    expect(decodeError(new Uint8Array(10), 4, 4).reason).toMatch(/empty or out-of-bounds/);
  });

  test("decodeFrames reports bad records with their offset and goes on", () => {
    const good1 = openRecord({ path: "/one" });
    const bad = new Uint8Array([0x93, 0x01, 0x02]); // a 3-array that ends early
    const good2 = exitRecord({ exitCode: 1 });
    const garbage = new Uint8Array([0xff, 0xc1, 0x00]);
    const good3 = forkRecord();
    const batch = frames([good1, bad, good2, garbage, good3]);
    const decoder = new RecordDecoder();
    const events: Event[] = [];
    const errors: DecodeError[] = [];
    decoder.decodeFrames(
      batch,
      5,
      (e) => events.push(e),
      (e) => errors.push(e),
    );
    expect(events.map((e) => e.kind)).toEqual(["openat", "procexit", "procfork"]);
    expect(events.map((e) => e.num)).toEqual([1, 2, 3]);
    const badAt = 4 + good1.length + 4;
    const garbageAt = badAt + bad.length + 4 + good2.length + 4;
    expect(errors.map((e) => e.offset)).toEqual([badAt, garbageAt]);
    expect(errors[0].message).toContain(`at byte ${badAt}`);
    expect(decoder.stats).toEqual({ decoded: 3, malformed: 2, generic: 2 });
  });

  test("decodeFrames stops at a frame that runs past the batch", () => {
    const good = exitRecord();
    const batch = frames([good, forkRecord()]);
    const cutBatch = batch.subarray(0, batch.length - 3);
    const decoder = new RecordDecoder();
    const events: Event[] = [];
    const errors: DecodeError[] = [];
    decoder.decodeFrames(
      cutBatch,
      3,
      (e) => events.push(e),
      (e) => errors.push(e),
    );
    expect(events.length).toBe(1);
    expect(errors.length).toBe(1);
    expect(errors[0].offset).toBe(4 + good.length + 4);
    expect(errors[0].reason).toMatch(/announced/);

    const noHeader = batch.subarray(0, 4 + good.length + 2);
    const more: DecodeError[] = [];
    new RecordDecoder().decodeFrames(
      noHeader,
      2,
      () => {},
      (e) => more.push(e),
    );
    expect(more.map((e) => [e.offset, e.reason.includes("length prefix")])).toEqual([
      [4 + good.length, true],
    ]);
  });
});
