// container.id from real cgroups: in every cgroup hierarchy mounted on this machine (v1
// controllers, named hierarchies and the v2 unified one), a cgroup named as containerd and
// kubernetes name them is created, a real process is moved in, and the id is read back the ways
// the agent reads it: /proc/PID/cgroup at seed time, and an exec whose v2 path names nothing
// (hybrid host) falling back to /proc/PID/cgroup.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { cgroupPathFromProcFile, containerIdFromCgroup } from "../../agent/state/containers.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { execEvent } from "./events.ts";

interface Hierarchy {
  mount: string;
  /** "0" for v2, else the controllers or name= of the v1 hierarchy as /proc/PID/cgroup shows them. */
  key: string;
  v2: boolean;
}

function mountedHierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , options = ""] = line.slice(sep + 3).split(" ");
    if (fstype === "cgroup2") out.push({ mount: left[4], key: "0", v2: true });
    else if (fstype === "cgroup") {
      const opts = options
        .split(",")
        .filter((o) => o !== "rw" && o !== "ro" && !o.startsWith("release_agent"));
      out.push({ mount: left[4], key: opts.join(","), v2: false });
    }
  }
  return out;
}

const HIERARCHIES = mountedHierarchies();
const ID = "5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
const POD = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const SUFFIX = `lanner-test-${process.pid}`;
let sleeper: Subprocess;

/** Creates the nested cgroup (cpuset needs cpus and mems copied down in v1). */
function makeCgroup(h: Hierarchy, rel: string[]): string {
  let path = h.mount;
  for (const part of rel) {
    const parent = path;
    path = join(path, part);
    if (!existsSync(path)) mkdirSync(path);
    if (!h.v2 && h.key.split(",").includes("cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        const value = readFileSync(join(parent, f), "utf8").trim();
        if (readFileSync(join(path, f), "utf8").trim() === "") writeFileSync(join(path, f), value);
      }
    }
  }
  return path;
}

function removeCgroup(h: Hierarchy, rel: string[]): void {
  for (let i = rel.length; i > 0; i--) {
    const path = join(h.mount, ...rel.slice(0, i));
    try {
      rmdirSync(path);
    } catch {
      // Already gone or still busy: leave it.
    }
  }
}

function currentCgroup(pid: number, h: Hierarchy): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  for (const line of text.split("\n")) {
    const [num, ctl, ...rest] = line.split(":");
    if (h.v2 ? num === "0" && ctl === "" : ctl === h.key) return rest.join(":");
  }
  return "/";
}

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
        if (!h.v2) {
          // An exec whose v2 path names no container (a hybrid host) takes the v1 hierarchy's.
          const exec = execEvent(sleeper.pid, {
            comm: "sleep",
            filename: "/usr/bin/sleep",
            args: ["sleep", "120"],
          });
          expect(t.apply(exec).process?.containerId).toBe(ID.slice(0, 12));
        }
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
