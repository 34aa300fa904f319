// container.id from real cgroups: in every cgroup hierarchy mounted on this machine (v1
// controllers, named hierarchies and the v2 unified one), a cgroup named as containerd and
// kubernetes name them is created, a real process is moved in, and the id is read back the ways
// the agent reads it from /proc/PID/cgroup at seed time. (An exec's cgroup comes from the probe:
// test/capture/exec-cgroup.test.ts.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { cgroupPathFromProcFile, containerIdFromCgroup } from "../../agent/state/containers.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { currentCgroup, ID, makeCgroup, mountedHierarchies, POD, removeCgroup } from "./cgroup-fixtures.ts";

const HIERARCHIES = mountedHierarchies();
const SUFFIX = `lanner-test-${process.pid}`;
let sleeper: Subprocess;

beforeAll(() => {
  sleeper = Bun.spawn(["sleep", "120"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
});

afterAll(() => {
  sleeper.kill("SIGKILL");
});

describe("real cgroups named as containerd names them", () => {
  test("this machine has at least one cgroup hierarchy mounted", () => {
    expect(HIERARCHIES.length).toBeGreaterThan(0);
  });

  for (const h of HIERARCHIES) {
    test(`hierarchy ${h.v2 ? "v2 (unified)" : h.key} at ${h.mount}: a process moved in reads the container id`, () => {
      const rel = [SUFFIX, "kubepods", "besteffort", `pod${POD}`, ID];
      const original = currentCgroup(sleeper.pid, h);
      const target = makeCgroup(h, rel);
      try {
        writeFileSync(join(target, "cgroup.procs"), String(sleeper.pid));
        const text = readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8");
        const path = cgroupPathFromProcFile(text);
        expect(path.endsWith(`/${SUFFIX}/kubepods/besteffort/pod${POD}/${ID}`)).toBe(true);
        expect(containerIdFromCgroup(path)).toBe(ID.slice(0, 12));
        // The seed reads the same.
        const t = new StateTracker({
          processCapacity: 65_536,
          users: new UserTable(),
          host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
          hostRoot: "/",
        });
        t.seedFromProc();
        expect(t.processes.get(sleeper.pid)?.containerId).toBe(ID.slice(0, 12));
      } finally {
        writeFileSync(join(h.mount, original, "cgroup.procs"), String(sleeper.pid));
        removeCgroup(h, rel);
      }
      expect(containerIdFromCgroup(currentCgroup(sleeper.pid, h))).toBe("host");
    });
  }

  test("systemd-driver names (cri-containerd-<id>.scope) in the unified hierarchy", () => {
    const v2 = HIERARCHIES.find((h) => h.v2);
    if (v2 === undefined) return;
    const rel = [
      SUFFIX,
      "kubepods.slice",
      `kubepods-pod${POD.replace(/-/g, "_")}.slice`,
      `cri-containerd-${ID}.scope`,
    ];
    const original = currentCgroup(sleeper.pid, v2);
    const target = makeCgroup(v2, rel);
    try {
      writeFileSync(join(target, "cgroup.procs"), String(sleeper.pid));
      const path = cgroupPathFromProcFile(readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8"));
      expect(containerIdFromCgroup(path)).toBe(ID.slice(0, 12));
    } finally {
      writeFileSync(join(v2.mount, original, "cgroup.procs"), String(sleeper.pid));
      removeCgroup(v2, rel);
    }
  });
});

describe("cgroupPathFromProcFile", () => {
  test("v2 only: the 0:: path", () => {
    expect(cgroupPathFromProcFile(`0::/kubepods/pod1/${ID}\n`)).toBe(`/kubepods/pod1/${ID}`);
  });
  test("hybrid with the container named only in a v1 hierarchy", () => {
    expect(cgroupPathFromProcFile(`5:memory:/docker/${ID}\n0::/\n`)).toBe(`/docker/${ID}`);
  });
  test("nothing names a container: the v2 path, else the first path", () => {
    expect(cgroupPathFromProcFile("3:cpu:/a\n0::/user.slice\n")).toBe("/user.slice");
    expect(cgroupPathFromProcFile("3:cpu:/a\n")).toBe("/a");
    expect(cgroupPathFromProcFile("")).toBe("/");
  });
});
