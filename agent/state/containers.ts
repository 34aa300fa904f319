// Container identity from a cgroup path. Container runtimes name each container's cgroup after
// its 64-hex id: cgroupfs layouts use the bare id as the last component
// (/kubepods/burstable/pod<uid>/<id>, /docker/<id>), systemd layouts wrap it
// (cri-containerd-<id>.scope, docker-<id>.scope, crio-<id>.scope, libpod-<id>.scope).
// Falco reports the first 12 hex characters, and "host" for processes outside any container.

const CONTAINER_ID = /(?:^|[-/])([0-9a-f]{64})(?:\.scope)?$/;

/** Many processes share a cgroup; remembering recent answers saves the scan. Bounded, cleared when full. */
const recent = new Map<string, string>();
const RECENT_CAP = 4096;

export function containerIdFromCgroup(cgroupPath: string): string {
  const known = recent.get(cgroupPath);
  if (known !== undefined) return known;
  const id = scanCgroupPath(cgroupPath);
  if (recent.size >= RECENT_CAP) recent.clear();
  recent.set(cgroupPath, id);
  return id;
}

function scanCgroupPath(cgroupPath: string): string {
  // The id is in the deepest component that has one; nested cgroups under it (e.g. a .scope's
  // sub-cgroup) keep the container's id.
  const parts = cgroupPath.split("/");
  for (let i = parts.length - 1; i >= 0; i--) {
    const match = CONTAINER_ID.exec(parts[i]);
    if (match !== null) return match[1].slice(0, 12);
  }
  return "host";
}
