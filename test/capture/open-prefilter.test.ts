// The open prefilter: the TypeScript twin of the kernel's test, its bounds and encoding, and the
// real probe with a filter derived from rules that need only writes below /etc/: a read-only
// open of a /tmp file never leaves the kernel (counted), a write open of an /etc file does, a
// directory and a relative path are kept for the state, the switch off records everything, and
// a rewrite while attached (a reload that widens the rules) starts passing the opens.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  boundOpenFilter,
  describeOpenEntry,
  encodeOpenFilter,
  type KernelPrefilter,
  NO_PREFILTER,
  OPEN_FILTER_VALUE_BYTES,
  openClass,
  openFilterPasses,
  openPathClass,
  prefilterSwitch,
} from "../../agent/capture/open-filter.ts";
import { type LiveProbe, openLiveProbe } from "../../agent/capture/probe.ts";
import { DEFAULT_SELECTION } from "../../agent/capture/selection.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import { OPEN_FILTER, PREFILTER_SWITCH } from "../../agent/events/schema.ts";
import type { CloseEvent, Event, OpenEvent } from "../../agent/events/types.ts";
import { explainCapture, renderCapture } from "../../agent/cli/rules-explain.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";
import { prefilterFor } from "../../agent/rules/prefilter.ts";
import { LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitFor } from "./live-support.ts";

const { read, write, create, success, failed, unclean } = OPEN_FILTER;

describe("the kernel's test, in TypeScript", () => {
  test("class bits: access mode, O_CREAT, result", () => {
    expect(openClass(0, 3)).toBe(read | success);
    expect(openClass(1, 3)).toBe(write | success);
    expect(openClass(2, -2)).toBe(read | write | failed);
    expect(openClass(0o101, 0)).toBe(write | create | success);
  });

  test("unclean paths: relative, //, /. and ./, empty, over the window", () => {
    for (const p of ["x", "./x", "", "/etc//x", "/tmp/../etc/x", "/home/u/.ssh", "/a./b", "/etc/."])
      expect({ p, c: openPathClass(p) }).toEqual({ p, c: unclean });
    // 254 bytes fit the kernel's 256-byte window with room to spare; 255 fill it.
    expect(openPathClass(`/${"a".repeat(OPEN_FILTER.pathWindow - 3)}`)).toBe(0);
    expect(openPathClass(`/${"a".repeat(OPEN_FILTER.pathWindow - 2)}`)).toBe(unclean);
    for (const p of ["/etc/shadow", "/", "/a.b/c..d", "/etc/"]) expect(openPathClass(p)).toBe(0);
  });

  test("an entry needs all its bits and its prefix; unclean paths and directories pass on bits alone", () => {
    const f = [{ need: write, prefix: "/etc/" }];
    const at = (path: string, flags = 1, res = 3, isDirectory = false) =>
      openFilterPasses(f, { flags, res, path, isDirectory });
    expect(at("/etc/passwd")).toBe(true);
    expect(at("/etc/passwd", 0)).toBe(false);
    expect(at("/tmp/x")).toBe(false);
    expect(at("/tmp/../etc/passwd")).toBe(true);
    expect(at("passwd")).toBe(true);
    expect(at("passwd", 0)).toBe(false);
    expect(at("/tmp", 0, 3, true)).toBe(true);
    expect(at("/tmp", 0, -2, true)).toBe(false);
    expect(openFilterPasses("all", { flags: 0, res: 0, path: "/x", isDirectory: false })).toBe(true);
    expect(openFilterPasses([], { flags: 1, res: 0, path: "/etc/x", isDirectory: false })).toBe(false);
  });

  test("bounding: covered entries go, long prefixes are cut, too many are merged, never narrower", () => {
    expect(
      boundOpenFilter([
        { need: write, prefix: "/etc/" },
        { need: write | success, prefix: "/etc/ssh" },
        { need: read, prefix: "/x" },
      ]),
    ).toEqual([
      { need: write, prefix: "/etc/" },
      { need: read, prefix: "/x" },
    ]);
    expect(boundOpenFilter([{ need: 0, prefix: "" }])).toBe("all");
    expect(boundOpenFilter([{ need: unclean, prefix: "/x" }])).toEqual([{ need: unclean, prefix: "" }]);
    const long = `/${"é".repeat(60)}`;
    const [cut] = boundOpenFilter([{ need: 0, prefix: long }]) as readonly { prefix: string }[];
    expect(new TextEncoder().encode(cut.prefix).length).toBeLessThanOrEqual(OPEN_FILTER.prefixBytes);
    expect(long.startsWith(cut.prefix)).toBe(true);
    // 40 entries: at most the map's 16, and every open the 40 pass still passes.
    const many = Array.from({ length: 40 }, (_, i) => ({
      need: i % 2 === 0 ? read : write,
      prefix: `/d${i % 7}/f${i}`,
    }));
    const bounded = boundOpenFilter(many);
    expect(bounded).not.toBe("all");
    expect((bounded as unknown[]).length).toBeLessThanOrEqual(OPEN_FILTER.entries);
    for (const e of many) {
      const open = { flags: e.need === read ? 0 : 1, res: 3, path: `${e.prefix}/x`, isDirectory: false };
      expect(openFilterPasses(many, open)).toBe(true);
      expect(openFilterPasses(bounded, open)).toBe(true);
    }
  });

  test("encoding: the map value's layout; the switch bits", () => {
    const v = encodeOpenFilter([{ need: write | success, prefix: "/etc/" }]);
    expect(v.length).toBe(OPEN_FILTER_VALUE_BYTES);
    const view = new DataView(v.buffer);
    expect(view.getUint32(0, true)).toBe(1);
    expect(view.getUint32(8, true)).toBe(write | success);
    expect(view.getUint32(12, true)).toBe(5);
    expect(new TextDecoder().decode(v.subarray(16, 21))).toBe("/etc/");
    expect(encodeOpenFilter("all").every((b) => b === 0)).toBe(true);
    expect(() => encodeOpenFilter(Array.from({ length: 17 }, () => ({ need: 0, prefix: "/" })))).toThrow(
      RangeError,
    );
    expect(() => encodeOpenFilter([{ need: 0, prefix: "/".repeat(65) }])).toThrow(RangeError);
    expect(prefilterSwitch(NO_PREFILTER, 0)).toBe(0);
    expect(prefilterSwitch({ close: true, open: [] }, 1)).toBe(
      PREFILTER_SWITCH.close | PREFILTER_SWITCH.open | PREFILTER_SWITCH.openBuffer,
    );
    expect(describeOpenEntry({ need: write | success, prefix: "/etc/" })).toBe("write+success /etc/");
    expect(describeOpenEntry({ need: 0, prefix: "" })).toBe("any (any path)");
    expect(describeOpenEntry({ need: unclean | read, prefix: "" })).toBe("read+unclean-path");
  });
});

function rulesText(...conditions: string[]): string {
  return conditions
    .map((c, i) =>
      [
        `- rule: r${i}`,
        "  desc: d",
        `  condition: ${JSON.stringify(c)}`,
        '  output: "%fd.name"',
        "  priority: WARNING",
      ].join("\n"),
    )
    .join("\n");
}

/** The prefilter `run` derives for these rule conditions (each a rule with %fd.name output). */
function prefilterOf(...conditions: string[]): KernelPrefilter {
  const loaded = loadRuleSources([{ name: "live.yaml", text: rulesText(...conditions) }]);
  expect(loaded.diagnostics.errorCount).toBe(0);
  const { close, open } = prefilterFor(
    loaded.ruleset.rules.map((rule) => ({ rule })),
    true,
  );
  return { close, open };
}

const ETC_WRITES =
  "evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name startswith /etc/";

test("rules explain shows the derived open prefilter, or why every open is kept", () => {
  const explain = (...conditions: string[]) => {
    const loaded = loadRuleSources([{ name: "x.yaml", text: rulesText(...conditions) }]);
    return renderCapture(explainCapture(loaded.ruleset));
  };
  const on = explain(ETC_WRITES);
  expect(on).toContain("  open prefilter (engine.prefilter): on: ");
  expect(on).toContain("\n    write /etc/");
  const off = explain(ETC_WRITES, "evt.type = openat and fd.name contains shadow");
  expect(off).toContain(
    "  open prefilter (engine.prefilter): off: every open is recorded (a rule may match any open: r1)",
  );
});

describe.skipIf(liveUnavailable !== null)("open prefilter, live", () => {
  let probe: LiveProbe;
  const events: Event[] = [];
  let dir = "";
  let etcFile = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-openpf-"));
    writeFileSync(join(dir, "x"), "x");
    etcFile = `/etc/lanner-open-prefilter-${process.pid}.tmp`;
    writeFileSync(etcFile, "");
    probe = openLiveProbe({
      ringBytes: 4 << 20,
      drainIntervalMs: 10,
      batchBytes: 1 << 20,
      selection: DEFAULT_SELECTION,
      prefilter: prefilterOf(ETC_WRITES),
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
  afterAll(() => {
    probe?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(etcFile, { force: true });
  }, LIVE_SETUP_MS);

  /** A child python (forked after the probe attached) opens the /tmp file read-only, the /etc file
   * for writing, the /tmp directory (without O_DIRECTORY) and the /tmp file by a relative path for writing,
   * prints the fds, and closes them; the relative one last. */
  async function child(): Promise<{ pid: number; fds: number[] }> {
    const script = [
      "import os",
      `r = os.open('${dir}/x', os.O_RDONLY)`,
      `w = os.open('${etcFile}', os.O_WRONLY | os.O_APPEND)`,
      "d = os.open('/tmp', os.O_RDONLY)",
      `os.chdir('${dir}')`,
      "rel = os.open('x', os.O_WRONLY | os.O_APPEND)",
      "print(r, w, d, rel, flush=True)",
      "os.close(r); os.close(w); os.close(d); os.close(rel)",
    ].join("\n");
    const p = Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`child failed: ${out}`);
    return { pid: p.pid, fds: out.trim().split(" ").map(Number) };
  }

  /** The child's opens (paths) and closes (fds) once its last close (of `rel`) has arrived. */
  async function seen(c: { pid: number; fds: number[] }) {
    const rel = c.fds[3];
    const mine = await waitFor(() => {
      const got = events.filter((e) => e.pid === c.pid);
      return got.some((e) => e.kind === "close" && (e as CloseEvent).fd === rel) ? got : undefined;
    });
    if (mine === undefined) throw new Error("the child's last close never arrived");
    const opens = mine
      .filter((e) => e.kind === "openat")
      .map((e) => (e as OpenEvent).path)
      .filter((p) => p === "x" || p === "/tmp" || p.startsWith(dir) || p === etcFile);
    // Closes after the first of the child's opens that arrived (python's start-up opens and
    // closes files of its own before).
    const first = mine.findIndex((e) => e.kind === "openat" && opens.includes((e as OpenEvent).path));
    const closes = mine
      .slice(first + 1)
      .filter((e) => e.kind === "close")
      .map((e) => (e as CloseEvent).fd);
    return { opens, closes };
  }

  test(
    "on: the read-only /tmp open never leaves the kernel (counted), nor its close; the /etc write, a directory and a relative path do",
    async () => {
      expect(probe.prefilter().open).toEqual([{ need: write, prefix: "/etc/" }]);
      const before = probe.counters().openPrefiltered;
      const c = await child();
      const { opens, closes } = await seen(c);
      expect(opens).toEqual([etcFile, "/tmp", "x"]);
      const [, w, d, rel] = c.fds;
      // The read-only open's close is dropped too: its fd's creation was never recorded.
      expect(closes).toEqual([w, d, rel]);
      expect(probe.counters().openPrefiltered).toBeGreaterThan(before);
    },
    LIVE_TEST_MS,
  );

  test(
    "the kernel and its TypeScript twin agree, path by path (clean, unclean, cut, directories, failures)",
    async () => {
      const filter = [
        { need: read, prefix: "/etc/host" },
        { need: failed, prefix: "/nonexistent/" },
      ];
      probe.setSelection(DEFAULT_SELECTION, { close: true, open: filter });
      // Failed opens outside every prefix: kept only when unclean, i.e. when they fill the window.
      const long = (n: number) => `/nonexistenv/${"a".repeat(n - 13)}`;
      const paths = [
        "/etc/hostname",
        "/etc/hosts",
        "/etc//hostname",
        "/etc/./hostname",
        "/tmp/../etc/hostname",
        "etc/hostname",
        "/etc/passwd",
        "/etc",
        "/usr/",
        "/nonexistent/x",
        "/nonexistent/",
        "/nonexistentx",
        long(254),
        long(255),
        `/etc/passwd/${"b".repeat(250)}`,
        "",
      ];
      const script = [
        "import os, json",
        "os.chdir('/')",
        `out = []`,
        `for p in json.loads(${JSON.stringify(JSON.stringify(paths))}):`,
        "    try:",
        "        fd = os.open(p, os.O_RDONLY)",
        "        out.append([p, fd, os.path.isdir(p)])",
        "        os.close(fd)",
        "    except OSError as e:",
        "        out.append([p, -e.errno, False])",
        `os.chdir(${JSON.stringify(dir)})`,
        "fd = os.open('lanner-sentinel', os.O_RDONLY | os.O_CREAT)",
        "os.close(fd)",
        "print(json.dumps(out), flush=True)",
      ].join("\n");
      const p = Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "inherit" });
      const results = JSON.parse(await new Response(p.stdout).text()) as [string, number, boolean][];
      expect(await p.exited).toBe(0);
      const arrived = await waitFor(() => {
        const mine = events.filter((e) => e.pid === p.pid && e.kind === "openat").map((e) => e as OpenEvent);
        return mine.some((e) => e.path === "lanner-sentinel") ? mine : undefined;
      });
      if (arrived === undefined) throw new Error("the sentinel open never arrived");
      const recorded = new Set(arrived.map((e) => `${e.path}\0${e.res}`));
      const expected: string[] = [];
      const got: string[] = [];
      for (const [path, res, isDirectory] of results) {
        const passes = openFilterPasses(filter, { flags: 0, res, path, isDirectory });
        expected.push(`${path.slice(0, 30)} ${res} ${passes}`);
        got.push(`${path.slice(0, 30)} ${res} ${recorded.has(`${path}\0${res}`)}`);
      }
      expect(got).toEqual(expected);
      // Both outcomes happen.
      expect(expected.some((x) => x.endsWith("true"))).toBe(true);
      expect(expected.some((x) => x.endsWith("false"))).toBe(true);
    },
    LIVE_TEST_MS,
  );

  test(
    "a reload that widens the rules (rewritten while attached) starts passing the /tmp open",
    async () => {
      probe.setSelection(
        DEFAULT_SELECTION,
        prefilterOf(ETC_WRITES, `evt.type = openat and fd.name startswith ${dir}/`),
      );
      expect(probe.prefilter().open).toEqual([
        { need: write, prefix: "/etc/" },
        { need: 0, prefix: `${dir}/` },
      ]);
      const c = await child();
      const { opens, closes } = await seen(c);
      expect(opens).toEqual([`${dir}/x`, etcFile, "/tmp", "x"]);
      expect(closes).toEqual(c.fds);
    },
    LIVE_TEST_MS,
  );

  test(
    "off (the switch): every open and close is recorded",
    async () => {
      probe.setSelection(DEFAULT_SELECTION, NO_PREFILTER);
      expect(probe.prefilter()).toEqual(NO_PREFILTER);
      const before = probe.counters().openPrefiltered;
      const c = await child();
      const { opens, closes } = await seen(c);
      expect(opens).toEqual([`${dir}/x`, etcFile, "/tmp", "x"]);
      expect(closes).toEqual(c.fds);
      expect(probe.counters().openPrefiltered).toBe(before);
    },
    LIVE_TEST_MS,
  );
});
