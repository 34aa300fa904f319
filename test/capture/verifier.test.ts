// A real verifier rejection: a probe that reads through a null pointer is built with the same
// toolchain as the real one and loaded through the same path. The agent must say which program
// the kernel refused and quote the end of the verifier's log, as one CaptureError.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaptureError, openLiveProbe } from "../../agent/capture/probe.ts";
import { liveUnavailable } from "./live-support.ts";

const REPO = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "lanner-verifier-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds rejected.bpf.c like scripts/build-native builds the probe (clang, then bpftool's linker). */
function buildRejectedProbe(): Uint8Array {
  const raw = join(dir, "rejected.raw.o");
  const linked = join(dir, "rejected.o");
  const clang = Bun.spawnSync(
    [
      "clang",
      "-O2",
      "-g",
      "-target",
      "bpf",
      "-D__TARGET_ARCH_x86",
      `-I${REPO}/native/build`,
      `-I${REPO}/native`,
      "-c",
      join(import.meta.dir, "rejected.bpf.c"),
      "-o",
      raw,
    ],
    { stderr: "pipe" },
  );
  if (clang.exitCode !== 0) throw new Error(`clang failed: ${clang.stderr.toString()}`);
  const bpftool = Bun.which("bpftool") ?? "/usr/sbin/bpftool";
  const link = Bun.spawnSync([bpftool, "gen", "object", linked, raw], { stderr: "pipe" });
  if (link.exitCode !== 0) throw new Error(`bpftool gen object failed: ${link.stderr.toString()}`);
  return new Uint8Array(readFileSync(linked));
}

describe.skipIf(liveUnavailable !== null)("a probe the verifier rejects", () => {
  test("is one CaptureError naming the program and quoting the verifier log", () => {
    const object = buildRejectedProbe();
    let error: unknown;
    try {
      const probe = openLiveProbe({ ringBytes: 1 << 16, drainIntervalMs: 10, batchBytes: 1 << 16, object });
      probe.stop();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CaptureError);
    const e = error as CaptureError;
    expect(e.reason).toBe("verifier");
    expect(e.message).toContain("rejected_by_verifier");
    // The kernel's own words about the null read are in the quoted log tail.
    expect(`${e.message}\n${e.detail}`).toMatch(/invalid mem access|R\d+ invalid mem|processed \d+ insns/);
  });

  test("an object without the ring table asked for several rings: one CaptureError before any load", () => {
    const online = readFileSync("/sys/devices/system/cpu/online", "utf8").trim();
    if (online === "0") return; // one CPU: any cpus_for_each_buffer is the one shared ring
    const object = buildRejectedProbe();
    const open = () =>
      openLiveProbe({ ringBytes: 1 << 16, drainIntervalMs: 10, batchBytes: 1 << 16, object, cpusPerRing: 1 });
    expect(open).toThrow(CaptureError);
    expect(open).toThrow(/Cannot set up \d+ ring buffers \(ENOENT\)/);
  });

  test("the real probe still loads afterwards", () => {
    const probe = openLiveProbe({ ringBytes: 1 << 16, drainIntervalMs: 10, batchBytes: 1 << 16 });
    expect(probe.counters().ringFull).toBe(0);
    probe.stop();
  });
});
