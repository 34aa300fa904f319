// Container identity from a cgroup path. Container runtimes name each container's cgroup after
// its 64-hex id: cgroupfs layouts use the bare id as the last component
// (/kubepods/burstable/pod<uid>/<id>, /docker/<id>), systemd layouts wrap it
// (cri-containerd-<id>.scope, docker-<id>.scope, crio-<id>.scope, libpod-<id>.scope).
// Falco reports the first 12 hex characters, and "host" for processes outside any container.

const CONTAINER_ID = /(?:^|[-/])([0-9a-f]{64})(?:\.scope)?$/;

export const HOST_CONTAINER_ID = "host";

/** The full 64-hex id named by the deepest component of a cgroup path that has one. */
export function fullContainerIdFromCgroup(cgroupPath: string): string | undefined {
  // Nested cgroups under the container's (e.g. a .scope's sub-cgroup) keep the container's id.
  const parts = cgroupPath.split("/");
  for (let i = parts.length - 1; i >= 0; i--) {
    const match = CONTAINER_ID.exec(parts[i]);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** Falco's container.id: 12 hex characters, or "host". */
export function containerIdFromCgroup(cgroupPath: string): string {
  return fullContainerIdFromCgroup(cgroupPath)?.slice(0, 12) ?? HOST_CONTAINER_ID;
}

/**
 * Which path of /proc/PID/cgroup names the process's container. On a cgroup v2 host it is the
 * "0::" line. On a hybrid host the v2 hierarchy may hold nothing ("/") while the v1 controller
 * hierarchies name the container: the first line whose path names a container wins, else the v2
 * path, else the first path.
 */
export function cgroupPathFromProcFile(text: string): string {
  let unified: string | undefined;
  let first: string | undefined;
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = a < 0 ? -1 : line.indexOf(":", a + 1);
    if (b < 0) continue;
    const path = line.slice(b + 1);
    if (fullContainerIdFromCgroup(path) !== undefined) return path;
    first ??= path;
    if (line.startsWith("0::")) unified = path;
  }
  return unified ?? first ?? "/";
}

/** Remembers the id of recent cgroup paths (many processes share one). Owned by the tracker; bounded. */
export class ContainerIdCache {
  private readonly recent = new Map<string, string>();
  clears = 0;

  constructor(private readonly cap = 4096) {}

  readonly idOf = (cgroupPath: string): string => {
    const known = this.recent.get(cgroupPath);
    if (known !== undefined) return known;
    const id = containerIdFromCgroup(cgroupPath);
    if (this.recent.size >= this.cap) {
      this.recent.clear();
      this.clears++;
    }
    this.recent.set(cgroupPath, id);
    return id;
  };

  private readonly recentFull = new Map<string, string | null>();

  /** fullContainerIdFromCgroup, remembered like idOf (container.* fields ask per evaluation). */
  readonly fullIdOf = (cgroupPath: string): string | undefined => {
    const known = this.recentFull.get(cgroupPath);
    if (known !== undefined) return known ?? undefined;
    const id = fullContainerIdFromCgroup(cgroupPath);
    if (this.recentFull.size >= this.cap) {
      this.recentFull.clear();
      this.clears++;
    }
    this.recentFull.set(cgroupPath, id ?? null);
    return id;
  };
}
