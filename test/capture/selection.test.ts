// Selection in the kernel, drop counters, and self-exclusion inside a pid namespace: real probe,
// real processes. Needs root, BTF and Linux 5.8+; prints why and skips otherwise.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { explainCapture, explainCommand, renderCapture } from "../../agent/cli/rules-explain.ts";
import { loadCliRules } from "../../agent/cli/setup.ts";
import { metricTotal } from "../../agent/common/metrics.ts";
import { openLiveProbe } from "../../agent/capture/probe.ts";
import {
  ALL_KINDS,
  captureSelection,
  DEFAULT_SELECTION,
  selectionFor,
  selectionMap,
  STATE_KINDS,
} from "../../agent/capture/selection.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import type { Event } from "../../agent/events/types.ts";
import { LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitFor } from "./live-support.ts";

test("selection names: the state set is always added, unknown rule event types are returned", () => {
  const { kinds, unknown } = selectionFor(["connect", "ptrace", "nosuchcall", "execve"]);
  expect(kinds).toContain("ptrace");
  for (const k of STATE_KINDS) expect(kinds).toContain(k);
  expect(unknown).toEqual(["nosuchcall"]);
  expect(() => selectionMap(["nosuchcall"])).toThrow(/"nosuchcall" is not an event kind/);
  const map = selectionMap(["openat", "connect"], "x86_64");
  expect([map[257], map[42], map[2]]).toEqual([4, 12, 0]);
  expect(selectionMap(["openat"], "arm64")[56]).toBe(4);
  // Tracepoint kinds have no syscall number: selecting them writes nothing.
  expect(selectionMap(["procexit"]).every((x) => x === 0)).toBe(true);
  expect(DEFAULT_SELECTION).not.toContain("read");
  expect(DEFAULT_SELECTION).toContain("connect");
});

test("run selects what the rules run on plus the state set; a rule on every type gets the default", () => {
  const forRules = captureSelection(new Set(["ptrace", "symlinkat"]));
  expect(forRules).toContain("ptrace");
  expect(forRules).toContain("close");
  expect(forRules).not.toContain("mount");
  const all = captureSelection("all");
  expect(all).toContain("mount");
  expect(all).not.toContain("read");
});

test("rules explain shows the kernel selection the enabled rules imply", () => {
  const dir = mkdtempSync(join(tmpdir(), "lanner-explain-"));
  try {
    const rules = join(dir, "rules.yaml");
    writeFileSync(
      rules,
      [
        "- rule: Ptrace attached",
        "  desc: d",
        "  condition: evt.type = ptrace and proc.name = gdb",
        "  output: x",
        "  priority: WARNING",
        "- rule: Mounted",
        "  desc: d",
        "  condition: evt.type in (mount, kexec_load)",
        "  output: x",
        "  priority: WARNING",
        "  enabled: false",
      ].join("\n"),
    );
    const loaded = loadCliRules([rules]);
    const c = explainCapture(loaded.ruleset);
    expect(c.selected).toEqual(captureSelection(new Set(["ptrace"])));
    expect(c.selected).toContain("ptrace");
    // The disabled rule's types are not selected, and not reported as unknown.
    expect(c.notSelected).toContain("mount");
    expect(c.unknown).toEqual([]);
    expect(c.selected.length + c.notSelected.length).toBe(ALL_KINDS.length);
    const text = renderCapture(c);
    expect(text).toContain(`: ${c.selected.length} of ${ALL_KINDS.length} kinds`);
    expect(text).toContain("  dropped in the kernel: bpf, chmod,");
    expect(c.closePrefilter).toBe(true);
    expect(text).toContain("  close prefilter (engine.prefilter): on: ");

    // Enabled, the unknown type is named; the command prints the section after the rules.
    writeFileSync(rules, readFileSync(rules, "utf8").replace("enabled: false", "enabled: true"));
    const again = explainCapture(loadCliRules([rules]).ruleset);
    expect(again.selected).toContain("mount");
    expect(again.unknown).toEqual(["kexec_load"]);
    // A rule on close turns the prefilter off.
    writeFileSync(
      rules,
      readFileSync(rules, "utf8").replace("(mount, kexec_load)", "(mount, kexec_load, close)"),
    );
    const withClose = explainCapture(loadCliRules([rules]).ruleset);
    expect(withClose.closePrefilter).toBe(false);
    expect(renderCapture(withClose)).toContain("  close prefilter (engine.prefilter): off: ");
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => out.push(a.join(" "));
    try {
      expect(explainCommand([rules])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(out.join("\n")).toContain("  rule event types the probe cannot record: kexec_load");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.skipIf(liveUnavailable !== null)("selection, drops and self-exclusion, live", () => {
  let dir = "";
  let helper = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-select-"));
    helper = join(dir, "syscalls");
    const cc = Bun.which("clang") ?? Bun.which("cc");
    if (cc === null) throw new Error("needs a C compiler for the syscall helper");
    const built = Bun.spawnSync([cc, "-O1", "-o", helper, join(import.meta.dir, "syscalls.c")]);
    if (built.exitCode !== 0) throw new Error(`compiling syscalls.c failed: ${built.stderr.toString()}`);
  }, LIVE_SETUP_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(
    "with only openat selected, connect never leaves the kernel; selecting it at run time starts it",
    async () => {
      const probe = openLiveProbe({
        ringBytes: 4 << 20,
        drainIntervalMs: 10,
        batchBytes: 1 << 20,
        selection: ["openat"],
      });
      const events: Event[] = [];
      const decoder = new RecordDecoder();
      probe.start((f, n) =>
        decoder.decodeFrames(
          f,
          n,
          (e) => events.push(e),
          (e) => {
            throw e;
          },
        ),
      );
      try {
        expect(probe.selection()).toEqual(["openat"]);
        const runConnect = async () => {
          const work = mkdtempSync(join(dir, "c-"));
          const child = Bun.spawnSync([helper, "connect", work]);
          expect(child.exitCode).toBe(0);
          // The helper's exit is recorded after its connects: once it is here, they would be too.
          await waitFor(() => events.find((e) => e.kind === "procexit" && e.pid === child.pid), 10_000);
          return child.pid;
        };
        const first = await runConnect();
        expect(events.some((e) => e.kind === "openat" && e.pid === first)).toBe(true);
        expect(events.filter((e) => e.kind === "connect")).toEqual([]);
        const before = probe.counters();
        expect(before.writtenByKind.connect).toBeUndefined();
        expect(before.writtenByKind.openat).toBeGreaterThan(0);

        probe.setSelection(["openat", "connect"]);
        expect(probe.selection()).toEqual(["connect", "openat"]);
        const second = await runConnect();
        const connects = events.filter((e) => e.kind === "connect" && e.pid === second);
        // TCP connect, a unix connect to a missing path, a unix connect that succeeds.
        expect(connects.map((e) => (e as { res: number }).res)).toEqual([0, -2, 0]);
        // Other processes on the machine connect too: at least the helper's three were written.
        expect(probe.counters().writtenByKind.connect).toBeGreaterThanOrEqual(3);
        expect(() => probe.setSelection(["nosuchcall"])).toThrow(RangeError);
        expect(probe.selection()).toEqual(["connect", "openat"]);
      } finally {
        probe.stop();
      }
    },
    LIVE_TEST_MS,
  );

  test(
    "a tiny ring under a storm of opens: ring_full drops counted, by reason and by kind",
    async () => {
      // 16 KiB of ring, drained once a second: a shell loop of 3000 opens overflows it.
      const probe = openLiveProbe({
        ringBytes: 16 << 10,
        drainIntervalMs: 1000,
        batchBytes: 1 << 20,
        selection: ["openat"],
      });
      let decoded = 0;
      const decoder = new RecordDecoder();
      probe.start((f, n) =>
        decoder.decodeFrames(
          f,
          n,
          () => decoded++,
          (e) => {
            throw e;
          },
        ),
      );
      try {
        const storm = Bun.spawnSync([
          "sh",
          "-c",
          "i=0; while [ $i -lt 3000 ]; do : < /dev/null; i=$((i+1)); done",
        ]);
        expect(storm.exitCode).toBe(0);
        const c = probe.counters();
        expect(c.ringFull).toBeGreaterThan(0);
        expect(c.droppedByKind.openat).toBeGreaterThan(0);
        // Events the kernel skipped while a program ran cannot be caused on demand; the counter is
        // read from the kernel's program statistics and reported with the drops.
        expect(Number.isInteger(c.programBusy) && c.programBusy >= 0).toBe(true);
        const m = probe.metrics();
        // metrics() reads the counters again, later: they only grow.
        expect(metricTotal(m, "kernel_drops_total")).toBeGreaterThanOrEqual(
          c.ringFull + c.tooBig + c.programBusy,
        );
        expect(
          m.find((s) => s.name === "kernel_kind_drops_total" && s.labels?.kind === "openat")?.value,
        ).toBeGreaterThan(0);
        const openatWritten = m.find(
          (s) => s.name === "kernel_kind_records_total" && s.labels?.kind === "openat",
        )?.value;
        expect(openatWritten).toBeGreaterThanOrEqual(c.writtenByKind.openat ?? 0);
        expect(openatWritten).toBeGreaterThan(0);
      } finally {
        probe.stop();
      }
      // Everything written was decoded; every record seen was written or dropped, and counted, except
      // those of programs still running when the probe detached (sys_exit programs are preemptible on
      // recent kernels, and this machine is busy): seen may run a little ahead.
      const final = probe.counters();
      const accounted = final.written + final.ringFull + final.tooBig;
      expect(final.seen).toBeGreaterThanOrEqual(accounted);
      expect(final.seen - accounted).toBeLessThan(final.seen / 20);
      expect(decoded).toBeLessThanOrEqual(final.written);
      expect(decoded).toBeGreaterThan(0);
    },
    LIVE_TEST_MS,
  );

  test(
    "inside its own pid namespace the agent excludes itself by its host tgid, and sees others",
    () => {
      const own = join(dir, "own-file");
      const other = join(dir, "other-file");
      writeFileSync(other, "y");
      const run = Bun.spawnSync(
        [
          "unshare",
          "--pid",
          "--fork",
          "--mount-proc",
          process.execPath,
          join(import.meta.dir, "fixtures/own-pidns.ts"),
          own,
          other,
        ],
        { stderr: "pipe" },
      );
      if (run.exitCode !== 0) throw new Error(`own-pidns fixture failed: ${run.stderr.toString()}`);
      const seen = JSON.parse(run.stdout.toString().trim().split("\n").at(-1)!);
      expect(seen.sawChild).toBe(true);
      expect(seen.sawOwn).toBe(false);
      // In its namespace the agent is pid 1 (with --fork: the first process); the host knows it by another.
      expect(seen.nsPid).toBe(1);
      expect(seen.host).toBeGreaterThan(1);
    },
    LIVE_TEST_MS,
  );
});
