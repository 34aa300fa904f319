// container.* and k8s.*: the id from the process's cgroup at exec, the rest from the container
// runtime's on-disk state (read lazily through the state's facts, cached there).

import type { ContainerMeta } from "../../../state/index.ts";
import type { FieldValue } from "../values.ts";
import { type Binder, FieldArgumentError, plain } from "./types.ts";

function meta(read: (m: ContainerMeta) => FieldValue | undefined, onHost?: FieldValue): Binder {
  return plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    if (p.containerId === "host") return onHost;
    const m = ctx.facts.container(p);
    return m === undefined ? undefined : read(m);
  });
}

function keyed(read: (m: ContainerMeta, key: string) => FieldValue | undefined): Binder {
  return (arg) => {
    if (arg === undefined || arg === "") throw new FieldArgumentError("expected a key, as in [KEY]");
    return (ctx) => {
      const p = ctx.process;
      if (p === undefined || p.containerId === "host") return undefined;
      const m = ctx.facts.container(p);
      return m === undefined ? undefined : read(m, arg);
    };
  };
}

type Mount = ContainerMeta["mounts"][number];
const oneMount = (x: Mount) => `${x.source}:${x.dest}:${x.mode}:${x.rdwr}:${x.propagation}`;
const mountText = (m: ContainerMeta) => m.mounts.map(oneMount).join(",");

/** A shell glob (* and ?) as a whole-string test. */
function glob(pattern: string): (s: string) => boolean {
  if (!/[*?]/.test(pattern)) return (s) => s === pattern;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return (s) => re.test(s);
}

/**
 * container.mount*[N] reads mount N (from 0); container.mount*[PATH] the first mount whose source
 * (for container.mount.source: whose destination) matches the glob PATH. No such mount reads as
 * Falco's container plugin answers: "none" for container.mount, "N/A" for the others.
 */
function mountField(read: (x: Mount) => FieldValue, byDest: boolean, none: string): Binder {
  return (arg) => {
    if (arg === undefined || arg === "")
      throw new FieldArgumentError("expected a mount index or path, as in [0] or [/etc]");
    const index = /^[0-9]+$/.test(arg) ? Number(arg) : -1;
    const matches = glob(arg);
    return (ctx) => {
      const p = ctx.process;
      if (p === undefined || p.containerId === "host") return undefined;
      const m = ctx.facts.container(p);
      if (m === undefined) return undefined;
      const found = index >= 0 ? m.mounts[index] : m.mounts.find((x) => matches(byDest ? x.dest : x.source));
      return found === undefined ? none : read(found);
    };
  };
}

export const CONTAINER_FIELDS: Readonly<Record<string, Binder>> = {
  "container.id": plain((ctx) => ctx.process?.containerId),
  "container.full_id": meta((m) => m.fullId, "host"),
  "container.name": meta((m) => m.name, "host"),
  "container.type": meta((m) => m.type),
  "container.image": meta((m) => m.image),
  "container.image.repository": meta((m) => m.imageRepository),
  "container.image.tag": meta((m) => m.imageTag),
  "container.image.digest": meta((m) => m.imageDigest),
  "container.privileged": meta((m) => m.privileged),
  "container.mounts": meta(mountText),
  "container.start_ts": meta((m) => m.startTsNs),
  "container.mount": mountField(oneMount, false, "none"),
  "container.mount.source": mountField((x) => x.source, true, "N/A"),
  "container.mount.dest": mountField((x) => x.dest, false, "N/A"),
  "container.mount.mode": mountField((x) => x.mode, false, "N/A"),
  "container.mount.rdwr": mountField((x) => String(x.rdwr), false, "N/A"),
  "container.mount.propagation": mountField((x) => x.propagation, false, "N/A"),
  "container.label": keyed((m, k) => m.labels[k]),
  "k8s.pod.name": meta((m) => m.podName),
  "k8s.ns.name": meta((m) => m.podNamespace),
  "k8s.pod.uid": meta((m) => m.podUid),
  "k8s.pod.id": meta((m) => m.podUid),
  "k8s.pod.sandbox_id": meta((m) => m.sandboxId?.slice(0, 12)),
  "k8s.pod.full_sandbox_id": meta((m) => m.sandboxId),
  "k8s.pod.label": keyed((m, k) => m.labels[k]),
};
