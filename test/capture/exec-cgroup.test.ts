// The exec record's cgroup, from the kernel: a real process is moved into a cgroup named as
// containerd and the kubelet name it, then execs; the probe's record must name that cgroup, and
// the state must read the container id from it with no /proc read. In the v2 hierarchy the v2
// path is recorded; in the memory controller's v1 hierarchy (cgroup v1 and hybrid hosts, where
// the v2 path stays the root) the memory controller's path is.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExecEvent } from "../../agent/events/types.ts";
import { containerIdFromCgroup } from "../../agent/state/containers.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import {
  currentCgroup,
  type Hierarchy,
  ID,
  makeCgroup,
  mountedHierarchies,
  POD,
  removeCgroup,
} from "../state/cgroup-fixtures.ts";
import { collectLive, LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitForExec } from "./live-support.ts";

const HIERARCHIES = mountedHierarchies();
const V2 = HIERARCHIES.find((h) => h.v2);
const MEMORY_V1 = HIERARCHIES.find((h) => !h.v2 && h.key.split(",").includes("memory"));
/** The memory controller's path is recorded only while the v2 path is the root. */
const ownV2Path = readFileSync("/proc/self/cgroup", "utf8").match(/^0::(.*)$/m)?.[1] ?? "/";
const memoryCase =
  MEMORY_V1 === undefined
    ? "no cgroup v1 memory hierarchy is mounted here (a cgroup v2 host)"
    : ownV2Path !== "/"
      ? `this process's v2 cgroup is ${ownV2Path}, not the root, so its v2 path is recorded`
      : null;
if (memoryCase !== null) console.warn(`exec cgroup test for the v1 memory hierarchy SKIPPED: ${memoryCase}`);

describe.skipIf(liveUnavailable !== null)("the exec record's cgroup, from the kernel", () => {
  let session: ReturnType<typeof collectLive>;

  beforeAll(() => {
    session = collectLive({ ringBytes: 4 << 20, drainIntervalMs: 10, batchBytes: 256 << 10 });
  }, LIVE_SETUP_MS);

  afterAll(() => session?.probe.stop(), LIVE_SETUP_MS);

  /** A shell waits on stdin, is moved into the cgroup, then execs /bin/true; its exec record. */
  async function execIn(h: Hierarchy, rel: string[]): Promise<{ exec: ExecEvent; pid: number }> {
    const marker = `lanner-cgroup-${crypto.randomUUID()}`;
    const shell = Bun.spawn(["sh", "-c", `read line; exec /bin/true ${marker}`], {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "ignore",
    });
    const original = currentCgroup(shell.pid, h);
    const target = makeCgroup(h, rel);
    try {
      writeFileSync(join(target, "cgroup.procs"), String(shell.pid));
      shell.stdin.write("go\n");
      await shell.stdin.end();
      await shell.exited;
      const exec = await waitForExec(
        session.events,
        shell.pid,
        (e) => e.res === 0 && e.args.includes(marker),
      );
      if (exec === undefined) throw new Error(`no exec record of pid ${shell.pid} in ${target}`);
      return { exec, pid: shell.pid };
    } finally {
      // The shell has exited; its cgroup is empty and can go.
      if (shell.exitCode === null) {
        writeFileSync(join(h.mount, original, "cgroup.procs"), String(shell.pid));
        shell.kill("SIGKILL");
      }
      removeCgroup(h, rel);
    }
  }

  function expectContainer(exec: ExecEvent, rel: string[]): void {
    expect(exec.cgroup).toEndWith(`/${rel.join("/")}`);
    expect(containerIdFromCgroup(exec.cgroup)).toBe(ID.slice(0, 12));
    // The state takes the container from the record alone: no /proc to read (as on replay).
    const state = new StateTracker({
      processCapacity: 1024,
      users: new UserTable(),
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    expect(state.apply(exec).process?.containerId).toBe(ID.slice(0, 12));
  }

  test.skipIf(V2 === undefined)(
    "in a v2 cgroup: the v2 path",
    async () => {
      const rel = [`lanner-exec-${process.pid}-v2`, "kubepods", "besteffort", `pod${POD}`, ID];
      const { exec } = await execIn(V2 as Hierarchy, rel);
      expectContainer(exec, rel);
    },
    LIVE_TEST_MS,
  );

  test.skipIf(memoryCase !== null)(
    "in a v1 memory cgroup while the v2 path is the root: the memory controller's path",
    async () => {
      const rel = [`lanner-exec-${process.pid}-v1`, "kubepods", "besteffort", `pod${POD}`, ID];
      const { exec } = await execIn(MEMORY_V1 as Hierarchy, rel);
      expectContainer(exec, rel);
    },
    LIVE_TEST_MS,
  );

  test(
    "a host process: the path its own cgroup file shows, naming no container",
    async () => {
      const child = Bun.spawnSync(["/bin/true", "lanner-host-exec"]);
      const exec = await waitForExec(session.events, child.pid);
      if (exec === undefined) throw new Error("no exec record of /bin/true");
      const memoryPath = readFileSync("/proc/self/cgroup", "utf8").match(
        /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m,
      )?.[1];
      const shown = ownV2Path !== "/" ? ownV2Path : (memoryPath ?? "/");
      // Inside a cgroup namespace /proc shows the path below the namespace's root, the kernel
      // walk the whole path: the one ends with the other.
      // (A root shown by /proc may be a namespace's root: then only the shape is known.)
      if (shown === "/") expect(exec.cgroup.startsWith("/")).toBe(true);
      else {
        expect(exec.cgroup).toEndWith(shown);
        expect(containerIdFromCgroup(exec.cgroup)).toBe(containerIdFromCgroup(shown));
      }
    },
    LIVE_TEST_MS,
  );
});
