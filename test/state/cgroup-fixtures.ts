// Real cgroups for tests: the hierarchies mounted here, and nested cgroups made, entered and
// removed in them (test/state/cgroups.test.ts, test/capture/exec-cgroup.test.ts).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Hierarchy {
  mount: string;
  /** "0" for v2, else the controllers or name= of the v1 hierarchy as /proc/PID/cgroup shows them. */
  key: string;
  v2: boolean;
}

export function mountedHierarchies(): Hierarchy[] {
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

/** A container id and pod uid as containerd and the kubelet write them. */
export const ID = "5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
export const POD = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

/** Creates the nested cgroup (cpuset needs cpus and mems copied down in v1). */
export function makeCgroup(h: Hierarchy, rel: string[]): string {
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

export function removeCgroup(h: Hierarchy, rel: string[]): void {
  for (let i = rel.length; i > 0; i--) {
    const path = join(h.mount, ...rel.slice(0, i));
    try {
      rmdirSync(path);
    } catch {
      // Already gone or still busy: leave it.
    }
  }
}

export function currentCgroup(pid: number, h: Hierarchy): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  for (const line of text.split("\n")) {
    const [num, ctl, ...rest] = line.split(":");
    if (h.v2 ? num === "0" && ctl === "" : ctl === h.key) return rest.join(":");
  }
  return "/";
}
