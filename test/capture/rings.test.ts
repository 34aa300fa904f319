// engine.modern_ebpf.cpus_for_each_buffer: the ring layout (Falco's meaning), then the real probe
// with one ring per CPU on this machine: events from every CPU arrive, records that depend on each
// other across CPUs (a fork and the child's exec, one process moving between CPUs) come out in
// order after the merge, and a storm that fills one CPU's ring does not stop the other's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LiveProbe, openLiveProbe } from "../../agent/capture/probe.ts";
import { machineRingLayout, parseCpuList, ringLayout, SHARED_RING } from "../../agent/capture/rings.ts";
import type { Event } from "../../agent/events/types.ts";
import { collectLive, LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitFor } from "./live-support.ts";

describe("ring layout", () => {
  test("CPU lists as sysfs writes them", () => {
    expect(parseCpuList("0-1\n", "online")).toEqual([0, 1]);
    expect(parseCpuList("0,2-4,9", "online")).toEqual([0, 2, 3, 4, 9]);
    expect(parseCpuList("3,1-2,1", "online")).toEqual([1, 2, 3]);
    expect(() => parseCpuList("", "/sys/x/online")).toThrow("/sys/x/online: empty CPU list");
    expect(() => parseCpuList("0-a", "/sys/x/online")).toThrow(
      "/sys/x/online: '0-a' is not a CPU id or range",
    );
    expect(() => parseCpuList("4-2", "online")).toThrow("'4-2' is not a CPU id or range");
    expect(() => parseCpuList("0-99999", "online")).toThrow("'0-99999' is not a CPU id or range");
  });

  test("Falco's meaning: 0 is one shared ring, N one ring per N online CPUs, the last one short", () => {
    const seven = [0, 1, 2, 3, 4, 5, 6];
    expect(ringLayout(0, seven, 7)).toBe(SHARED_RING);
    const pairs = ringLayout(2, seven, 7);
    expect(pairs.rings).toBe(4); // falco.yaml's example: 7 CPUs, 2 per buffer -> 4 buffers
    expect([...pairs.ringOfCpu]).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect([...ringLayout(1, [0, 1], 2).ringOfCpu]).toEqual([0, 1]);
    expect(ringLayout(1, [0, 1], 2).rings).toBe(2);
    // As many CPUs per ring as there are online CPUs, or more: one ring.
    expect(ringLayout(7, seven, 7)).toBe(SHARED_RING);
    expect(ringLayout(64, [0, 1], 2)).toBe(SHARED_RING);
  });

  test("rank among online CPUs decides; CPUs offline at start share the existing rings", () => {
    // Online 0, 2, 3, 5 of 8 possible, 2 per ring: ranks 0,1 -> ring 0; ranks 2,3 -> ring 1.
    const layout = ringLayout(2, [0, 2, 3, 5], 8);
    expect(layout.rings).toBe(2);
    expect(layout.ringOfCpu[0]).toBe(0);
    expect(layout.ringOfCpu[2]).toBe(0);
    expect(layout.ringOfCpu[3]).toBe(1);
    expect(layout.ringOfCpu[5]).toBe(1);
    for (const offline of [1, 4, 6, 7]) expect(layout.ringOfCpu[offline]).toBeLessThan(2);
  });

  test("impossible inputs are refused", () => {
    expect(() => ringLayout(-1, [0, 1], 2)).toThrow("cpusPerRing -1 must be a non-negative integer");
    expect(() => ringLayout(1.5, [0, 1], 2)).toThrow("cpusPerRing 1.5");
    expect(() => ringLayout(1, [], 2)).toThrow("do not fit 2 possible CPUs");
    expect(() => ringLayout(1, [0, 4], 2)).toThrow("online CPUs [0,4] do not fit 2 possible CPUs");
  });

  test("read from a sysfs-like directory; a broken file is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-cpus-"));
    try {
      writeFileSync(join(dir, "possible"), "0-3\n");
      writeFileSync(join(dir, "online"), "0-1,3\n");
      const layout = machineRingLayout(1, dir);
      expect(layout.rings).toBe(3);
      expect([...layout.ringOfCpu]).toEqual([0, 1, 2, 2]); // CPU 2, offline: floor(2 / 1) mod 3
      expect(machineRingLayout(0, join(dir, "missing"))).toBe(SHARED_RING); // 0 reads nothing
      writeFileSync(join(dir, "online"), "zero\n");
      expect(() => machineRingLayout(1, dir)).toThrow(`${dir}/online: 'zero' is not a CPU id or range`);
      mkdirSync(join(dir, "empty"));
      expect(() => machineRingLayout(1, join(dir, "empty"))).toThrow("ENOENT");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the probe refuses a negative or fractional cpusPerRing before touching the kernel", () => {
    const base = { ringBytes: 1 << 16, drainIntervalMs: 10, batchBytes: 1 << 16 };
    expect(() => openLiveProbe({ ...base, cpusPerRing: -1 })).toThrow(
      "cpusPerRing -1 must be a non-negative integer",
    );
    expect(() => openLiveProbe({ ...base, cpusPerRing: 0.5 })).toThrow("cpusPerRing 0.5");
  });
});

const twoCpus = parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"), "online").length >= 2;
if (!twoCpus) console.warn("multi-ring live tests SKIPPED: fewer than 2 online CPUs");

/** A started probe whose decoded events accumulate, in the order the drain handed them over. */
const capture = (options: { ringBytes: number; cpusPerRing?: number }) =>
  collectLive({ drainIntervalMs: 10, batchBytes: 256 << 10, ...options });

const isExec = (e: Event) => e.kind === "execve" || e.kind === "execveat";

describe.skipIf(liveUnavailable !== null || !twoCpus)("one ring per CPU, live", () => {
  let dir = "";
  let helper = "";
  let session: ReturnType<typeof capture>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-rings-"));
    helper = join(dir, "cross-cpu");
    const cc = Bun.which("clang") ?? Bun.which("cc");
    if (cc === null) throw new Error("the rings test needs a C compiler (clang or cc) for its helper");
    const built = Bun.spawnSync([cc, "-O1", "-o", helper, join(import.meta.dir, "cross-cpu.c")]);
    if (built.exitCode !== 0) throw new Error(`compiling cross-cpu.c failed: ${built.stderr.toString()}`);
    session = capture({ ringBytes: 4 << 20, cpusPerRing: 1 });
  }, LIVE_SETUP_MS);

  afterAll(() => {
    session?.probe.stop();
    rmSync(dir, { recursive: true, force: true });
  }, LIVE_SETUP_MS);

  test("cpus_for_each_buffer 1 on this machine: one ring per online CPU, in the metrics", () => {
    const online = parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"), "online");
    expect(session.probe.rings().length).toBe(online.length);
    const metrics = session.probe.metrics();
    expect(metrics.find((m) => m.name === "kernel_rings")?.value).toBe(online.length);
    const waiting = metrics.filter((m) => m.name === "kernel_ring_waiting_bytes").map((m) => m.labels?.ring);
    expect(waiting).toEqual(online.map((_, i) => String(i)));
  });

  test(
    "a child pinned to CPU 0 and one pinned to CPU 1 both arrive",
    async () => {
      for (const cpu of [0, 1]) {
        const path = join(dir, `pinned-${cpu}-${crypto.randomUUID()}`);
        writeFileSync(path, "x");
        const child = Bun.spawnSync(["taskset", "-c", String(cpu), "cat", path]);
        expect(child.exitCode).toBe(0);
        const open = await waitFor(() =>
          session.events.find((e) => e.kind === "openat" && "path" in e && e.path === path),
        );
        expect(open?.pid).toBe(child.pid);
      }
      // Each ring carried records: CPU 0's and CPU 1's exec of cat went through different rings.
      expect(session.errors).toEqual([]);
    },
    LIVE_TEST_MS,
  );

  for (const [parentCpu, childCpu] of [
    [0, 1],
    [1, 0],
  ] as const) {
    test(
      `fork on CPU ${parentCpu}, exec on CPU ${childCpu}: every procfork comes before its child's execve`,
      async () => {
        const run = Bun.spawnSync([helper, "fork", String(parentCpu), String(childCpu), "30"]);
        expect(run.exitCode).toBe(0);
        const pids = run.stdout.toString().trim().split("\n").map(Number);
        expect(pids.length).toBe(30);
        const last = pids.at(-1) as number;
        await waitFor(() => session.events.find((e) => isExec(e) && e.pid === last));
        for (const pid of pids) {
          const fork = session.events.findIndex((e) => e.kind === "procfork" && e.childPid === pid);
          const exec = session.events.findIndex((e) => isExec(e) && e.pid === pid);
          expect(fork).toBeGreaterThanOrEqual(0);
          expect(exec).toBeGreaterThan(fork);
        }
      },
      LIVE_TEST_MS,
    );
  }

  test(
    "one process moving between CPUs: its opens arrive in program order, stamps never going back",
    async () => {
      const base = join(dir, `migrate-${crypto.randomUUID()}`);
      const n = 200;
      const run = Bun.spawnSync([helper, "migrate", base, String(n)]);
      expect(run.exitCode).toBe(0);
      const lastPath = `${base}.${n - 1}`;
      await waitFor(() =>
        session.events.find((e) => e.kind === "openat" && "path" in e && e.path === lastPath),
      );
      const opens = session.events.filter(
        (e) => e.kind === "openat" && e.pid === run.pid && "path" in e && String(e.path).startsWith(base),
      );
      expect(opens.map((e) => ("path" in e ? e.path : ""))).toEqual(
        Array.from({ length: n }, (_, i) => `${base}.${i}`),
      );
      const stamps = opens.map((e) => BigInt(e.bootSec) * 1_000_000_000n + BigInt(e.bootNsec));
      for (let i = 1; i < stamps.length; i++) expect(stamps[i]! >= stamps[i - 1]!).toBe(true);
    },
    LIVE_TEST_MS,
  );

  test("the default (cpus_for_each_buffer 0) is the one shared ring", () => {
    const probe = openLiveProbe({ ringBytes: 1 << 16, drainIntervalMs: 1000, batchBytes: 1 << 16 });
    try {
      expect(probe.rings().length).toBe(1);
      expect(probe.metrics().find((m) => m.name === "kernel_rings")?.value).toBe(1);
    } finally {
      probe.stop();
    }
  });
});

describe.skipIf(liveUnavailable !== null || !twoCpus)("a storm on one CPU, a 64 KiB ring per CPU", () => {
  let probe: LiveProbe;
  let events: Event[];

  beforeAll(() => {
    const session = capture({ ringBytes: 64 << 10, cpusPerRing: 1 });
    probe = session.probe;
    events = session.events;
  }, LIVE_SETUP_MS);

  afterAll(() => probe?.stop(), LIVE_SETUP_MS);

  test(
    "CPU 0's ring drops records while CPU 1's events still arrive",
    async () => {
      const before = probe.rings();
      const storm = Bun.spawn(["taskset", "-c", "0", "sh", "-c", "while :; do : < /etc/hostname; done"]);
      try {
        let arrived: Event | undefined;
        // A marker from CPU 1 while the storm runs (retried: CPU 1's small ring may also fill
        // now and then from whatever else this machine runs).
        for (let i = 0; i < 10 && arrived === undefined; i++) {
          const marker = `/nonexistent-lanner-ring-marker-${crypto.randomUUID()}`;
          Bun.spawnSync(["taskset", "-c", "1", "cat", marker]);
          arrived = await waitFor(
            () => events.find((e) => e.kind === "openat" && "path" in e && e.path === marker),
            500,
          );
        }
        expect(arrived).toBeDefined();
        await waitFor(() => (probe.rings()[0]!.ringFull > before[0]!.ringFull ? true : undefined));
      } finally {
        storm.kill();
        await storm.exited;
      }
      const after = probe.rings();
      expect(after[0]!.ringFull).toBeGreaterThan(before[0]!.ringFull);
      const k = probe.counters();
      expect(k.ringFull).toBeGreaterThanOrEqual(after[0]!.ringFull);
      expect(k.droppedByKind.openat ?? 0).toBeGreaterThan(0);
    },
    LIVE_TEST_MS,
  );
});
