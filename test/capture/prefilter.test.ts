// The close prefilter on a real probe: successful closes are sent only for fds whose creation was
// recorded (or that a process inherited at a fork the probe saw); the rest are dropped in the
// kernel and counted. It never hides the close of an fd the state tracks, nor any open.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type LiveProbe, openLiveProbe } from "../../agent/capture/probe.ts";
import { NO_PREFILTER, prefilterSwitch } from "../../agent/capture/open-filter.ts";
import { closePrefilterFor, DEFAULT_SELECTION, selectionMap } from "../../agent/capture/selection.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import { EVENT_TABLE } from "../../agent/events/table.ts";
import { FD_TRACK } from "../../agent/events/schema.ts";
import type { CloseEvent, Event, OpenEvent } from "../../agent/events/types.ts";
import { LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitFor } from "./live-support.ts";

const CLOSE_ONLY = { close: true, open: "all" } as const;

test("the switch: a selection map slot no syscall has; off when a rule can match a close", () => {
  expect(selectionMap(["openat"], "x86_64", prefilterSwitch(CLOSE_ONLY, 0))[FD_TRACK.switchSlot]).toBe(1);
  expect(selectionMap(["openat"], "x86_64", prefilterSwitch(NO_PREFILTER, 0))[FD_TRACK.switchSlot]).toBe(0);
  expect(selectionMap(["openat"], "arm64", prefilterSwitch(CLOSE_ONLY, 0))[FD_TRACK.switchSlot]).toBe(1);
  expect(closePrefilterFor(new Set(["openat", "connect"]), true)).toBe(true);
  expect(closePrefilterFor(new Set(["openat", "close"]), true)).toBe(false);
  expect(closePrefilterFor("all", true)).toBe(false);
  expect(closePrefilterFor(new Set(["openat"]), false)).toBe(false);
});

/** A child python (forked after the probe attached): fd 7 inherited from its shell (opened by a
 * recorded openat), an eventfd (not a recorded kind), /etc/shadow and /etc/hostname opened; all
 * closed. Prints "eventfd opened" fd numbers. */
const SCRIPT = [
  "import os",
  "e = os.eventfd(0)",
  "s = os.open('/etc/shadow', os.O_RDONLY)",
  "h = os.open('/etc/hostname', os.O_RDONLY)",
  "print(e, s, h, flush=True)",
  "os.close(e); os.close(s); os.close(h); os.close(7)",
].join("\n");

async function child(): Promise<{ pid: number; eventfd: number; shadow: number; hostname: number }> {
  const p = Bun.spawn(["sh", "-c", `exec 7</etc/hostname; exec python3 -c "${SCRIPT}"`], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`child failed: ${out}`);
  const [eventfd, shadow, hostname] = out.trim().split(" ").map(Number) as [number, number, number];
  return { pid: p.pid, eventfd, shadow, hostname };
}

describe.skipIf(liveUnavailable !== null)("close prefilter, live", () => {
  let probe: LiveProbe;
  const events: Event[] = [];

  beforeAll(() => {
    probe = openLiveProbe({
      ringBytes: 4 << 20,
      drainIntervalMs: 10,
      batchBytes: 1 << 20,
      selection: DEFAULT_SELECTION,
      prefilter: CLOSE_ONLY,
    });
    const decoder = new RecordDecoder();
    probe.start((frames, count) =>
      decoder.decodeFrames(
        frames,
        count,
        (e) => events.push(e),
        (e) => {
          throw e;
        },
      ),
    );
  }, LIVE_SETUP_MS);
  afterAll(() => probe?.stop(), LIVE_SETUP_MS);

  /** The closes of `pid` after its open of /etc/hostname (the script's last four calls). */
  const closesAfterOpen = (pid: number) => {
    const mine = events.filter((e) => e.pid === pid);
    const at = mine.findLastIndex((e) => e.kind === "openat" && (e as OpenEvent).path === "/etc/hostname");
    if (at < 0) return [];
    return mine
      .slice(at + 1)
      .filter((e) => e.kind === "close")
      .map((e) => (e as CloseEvent).fd);
  };

  test(
    "on: the eventfd's close is dropped and counted; opens and the closes of tracked fds arrive",
    async () => {
      expect(probe.prefilter().close).toBe(true);
      const before = probe.counters().prefiltered;
      const c = await child();
      // The inherited fd 7 is closed last: once it is here, everything before it was drained.
      const closes = await waitFor(() => {
        const got = closesAfterOpen(c.pid);
        return got.includes(7) ? got : undefined;
      });
      expect(closes).toEqual([c.shadow, c.hostname, 7]);
      const opens = events
        .filter((e) => e.kind === "openat" && e.pid === c.pid)
        .map((e) => (e as OpenEvent).path);
      expect(opens).toContain("/etc/shadow");
      expect(probe.counters().prefiltered).toBeGreaterThan(before);
    },
    LIVE_TEST_MS,
  );

  test(
    "on: the closes of fds made by every fd-creating kind the table names arrive (pipe2, socketpair, socket, dup, dup2/dup3, fcntl, memfd_create)",
    async () => {
      // The kinds this script exercises: each must be one the table says creates fds, which is
      // what the probe's fd marks follow.
      const exercised = ["pipe2", "socketpair", "socket", "dup", "dup3", "fcntl", "memfd_create"];
      for (const kind of exercised)
        expect(EVENT_TABLE.find((k) => k.name === kind)?.createsFds).toBeDefined();
      // The fds are made in a child forked after every other fd but 7 was closed: the probe
      // marks a new process's fds from those open at its fork, so no mark is left over from
      // fds the parent inherited and exec closed (which would let a close through anyway).
      const script = [
        "import os, socket, fcntl",
        "os.closerange(3, 7); os.closerange(8, 4096)",
        "pid = os.fork()",
        "if pid: os.waitpid(pid, 0); os._exit(0)",
        "r, w = os.pipe()",
        "a, b = socket.socketpair()",
        "s = socket.socket()",
        "d = os.dup(r)",
        "d2 = os.dup2(w, 40, inheritable=False)",
        "f = fcntl.fcntl(r, fcntl.F_DUPFD, 50)",
        "m = os.memfd_create('lanner-prefilter')",
        "fds = [r, w, a.detach(), b.detach(), s.detach(), d, d2, f, m]",
        "print(os.getpid(), ' '.join(map(str, fds)), flush=True)",
        "for fd in fds: os.close(fd)",
        "os.close(7)",
      ].join("\n");
      const p = Bun.spawn(["sh", "-c", `exec 7</etc/hostname; exec python3 -c "${script}"`], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const out = await new Response(p.stdout).text();
      expect(await p.exited).toBe(0);
      const [forked, ...made] = out.trim().split(" ").map(Number) as [number, ...number[]];
      expect(made).toHaveLength(9);
      const closes = await waitFor(() => {
        const got = events
          .filter((e) => e.pid === forked && e.kind === "close")
          .map((e) => (e as CloseEvent).fd);
        return got.includes(7) ? got : undefined;
      });
      for (const fd of made) expect(closes).toContain(fd);
    },
    LIVE_TEST_MS,
  );

  test(
    "on: an fd whose mark went stale (closed by exec) and whose number a dropped open reuses has its close dropped",
    async () => {
      // Only opens of /etc/shadow are recorded. The first image (python, forked after the probe
      // attached) opens /etc/shadow: recorded, so fd 3 is marked; close-on-exec. It execs cat,
      // whose loader's opens (/etc/ld.so.cache, libc: clean paths, dropped) reuse fd 3. Their
      // closes must be dropped too: before the fix, the first close of fd 3 after the exec was
      // recorded for a file the state never saw opened.
      probe.setSelection(DEFAULT_SELECTION, { close: true, open: [{ need: 0, prefix: "/etc/shadow" }] });
      const script = [
        "import os",
        "os.closerange(3, 4096)",
        "s = os.open('/etc/shadow', os.O_RDONLY)",
        "print(os.getpid(), s, flush=True)",
        "os.execv('/bin/cat', ['cat', '/etc/hostname'])",
      ].join("\n");
      try {
        const p = Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "inherit" });
        const out = await new Response(p.stdout).text();
        expect(await p.exited).toBe(0);
        const [pid, stale] = out.split("\n")[0].split(" ").map(Number) as [number, number];
        expect(stale).toBe(3);
        const after = await waitFor(() => {
          const mine = events.filter((e) => e.pid === pid);
          const exec = mine.findLastIndex((e) => e.kind === "execve");
          if (exec < 0 || !mine.some((e) => e.kind === "procexit")) return undefined;
          return mine.slice(exec + 1);
        });
        if (after === undefined) throw new Error(`no exec and exit of ${pid} arrived`);
        // Every close recorded after the exec is of an inherited stdio fd or of an fd a recorded
        // open (a directory the locale code lists) made after it.
        const made = new Set<number>([0, 1, 2]);
        const unmatched: number[] = [];
        for (const e of after) {
          if (e.kind === "openat" && e.res >= 0) made.add(e.res);
          if (e.kind !== "close") continue;
          const fd = (e as CloseEvent).fd;
          if (!made.has(fd)) unmatched.push(fd);
          if (fd > 2) made.delete(fd);
        }
        expect(unmatched).toEqual([]);
        // The loader's opens, which reuse fd 3, were dropped (the situation under test).
        expect(after.some((e) => e.kind === "openat" && (e as OpenEvent).path === "/etc/ld.so.cache")).toBe(
          false,
        );
      } finally {
        probe.setSelection(DEFAULT_SELECTION, CLOSE_ONLY);
      }
    },
    LIVE_TEST_MS,
  );

  test(
    "off (the switch, rewritten while attached): the eventfd's close arrives too",
    async () => {
      probe.setSelection(DEFAULT_SELECTION, NO_PREFILTER);
      expect(probe.prefilter().close).toBe(false);
      expect(probe.selection()).toEqual(
        [...DEFAULT_SELECTION].filter((k) => k !== "procexit" && k !== "procfork").sort(),
      );
      const c = await child();
      const closes = await waitFor(() => {
        const got = closesAfterOpen(c.pid);
        return got.includes(7) ? got : undefined;
      });
      expect(closes).toEqual([c.eventfd, c.shadow, c.hostname, 7]);
    },
    LIVE_TEST_MS,
  );
});
