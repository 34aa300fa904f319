// Container and pod metadata from the container runtimes' own files on the host, without a
// network client (layouts in docs/STATE.md):
//   containerd  <state_dir>/<namespace>/<id>/config.json          OCI spec, CRI annotations
//   cri-o       <state_dir>/<id>/userdata/config.json             OCI spec, io.kubernetes.* annotations
//   docker      <data_dir>/containers/<id>/config.v2.json + hostconfig.json
// Read lazily the first time a container's metadata is asked for, kept in a capped cache
// (least recently used out), and re-tried with back-off while the runtime has not written it yet.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { ALL_CAPABILITIES, capabilityBit } from "../common/index.ts";

export interface ContainerMount {
  source: string;
  dest: string;
  mode: string;
  rdwr: boolean;
  propagation: string;
}

export interface ContainerMeta {
  /** The 64-hex id. */
  fullId: string;
  type: "containerd" | "cri-o" | "docker";
  name: string | undefined;
  image: string | undefined;
  imageRepository: string | undefined;
  imageTag: string | undefined;
  imageDigest: string | undefined;
  privileged: boolean | undefined;
  mounts: ContainerMount[];
  podName: string | undefined;
  podNamespace: string | undefined;
  podUid: string | undefined;
  /** The pod sandbox's 64-hex id. */
  sandboxId: string | undefined;
  labels: Record<string, string>;
  /** When the container started, epoch ns: docker's State.StartedAt, else when the runtime wrote the bundle's spec. */
  startTsNs: bigint | undefined;
}

export interface ContainerEngineDirs {
  /** containerd's runtime v2 task directory (namespaces below it); undefined to not look. */
  containerd: string | undefined;
  /** cri-o's container storage (overlay-containers). */
  crio: string | undefined;
  /** docker's data root (containers/ below it). */
  docker: string | undefined;
}

export interface ContainerMetaStats {
  size: number;
  capacity: number;
  /** Files read (successful or not). */
  reads: number;
  /** Lookups that found no metadata (not written yet, an unknown runtime, or unreadable). */
  missing: number;
  /** Files that exist but could not be parsed. */
  errors: number;
  evicted: number;
}

/** "registry/name:tag@sha256:..." -> repository, tag, digest. A port in the registry is not a tag. */
export function splitImage(image: string): {
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
} {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: rest, tag, digest };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** Privileged as the OCI spec shows it: every capability in the bounding set, or access to all devices. */
function ociPrivileged(spec: Json): boolean | undefined {
  const proc = isObject(spec.process) ? spec.process : undefined;
  const caps = proc !== undefined && isObject(proc.capabilities) ? proc.capabilities : undefined;
  let allCaps = false;
  if (caps !== undefined && Array.isArray(caps.bounding)) {
    let mask = 0n;
    for (const c of caps.bounding) {
      const bit = typeof c === "string" ? capabilityBit(c) : undefined;
      if (bit !== undefined) mask |= 1n << BigInt(bit);
    }
    allCaps = (mask & ALL_CAPABILITIES) === ALL_CAPABILITIES;
  }
  const linux = isObject(spec.linux) ? spec.linux : undefined;
  const resources = linux !== undefined && isObject(linux.resources) ? linux.resources : undefined;
  let allDevices = false;
  if (resources !== undefined && Array.isArray(resources.devices)) {
    allDevices = resources.devices.some(
      (d) =>
        isObject(d) &&
        d.allow === true &&
        (d.type === undefined || d.type === "a") &&
        d.major === undefined &&
        d.minor === undefined &&
        typeof d.access === "string" &&
        d.access.includes("r") &&
        d.access.includes("w") &&
        d.access.includes("m"),
    );
  }
  if (caps === undefined && resources === undefined) return undefined;
  return allCaps || allDevices;
}

function ociMounts(spec: Json): ContainerMount[] {
  if (!Array.isArray(spec.mounts)) return [];
  const out: ContainerMount[] = [];
  for (const m of spec.mounts) {
    if (!isObject(m) || typeof m.destination !== "string") continue;
    const options = Array.isArray(m.options)
      ? m.options.filter((o): o is string => typeof o === "string")
      : [];
    const propagation = options.find((o) => /^r?(shared|slave|private|unbindable)$/.test(o)) ?? "";
    out.push({
      source: typeof m.source === "string" ? m.source : "",
      dest: m.destination,
      mode: options.includes("ro") ? "ro" : "rw",
      rdwr: !options.includes("ro"),
      propagation,
    });
  }
  return out;
}

function withImage(
  meta: Omit<ContainerMeta, "imageRepository" | "imageTag" | "imageDigest" | "startTsNs">,
): ContainerMeta {
  const parts = meta.image === undefined ? undefined : splitImage(meta.image);
  return {
    ...meta,
    imageRepository: parts?.repository,
    imageTag: parts?.tag,
    imageDigest: parts?.digest,
    startTsNs: undefined,
  };
}

/** RFC 3339 with up to nanoseconds ("2026-12-01T19:40:57.123456789Z") to epoch ns. */
export function rfc3339Ns(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** containerd's OCI bundle config.json with CRI annotations (kubernetes) or none (plain containerd). */
export function parseContainerdSpec(fullId: string, text: string): ContainerMeta {
  const spec = JSON.parse(text) as unknown;
  if (!isObject(spec)) throw new Error("config.json is not a JSON object");
  const a = stringRecord(spec.annotations);
  return withImage({
    fullId,
    type: "containerd",
    name:
      str(a["io.kubernetes.cri.container-name"]) ??
      (a["io.kubernetes.cri.container-type"] === "sandbox"
        ? str(a["io.kubernetes.cri.sandbox-name"])
        : undefined),
    image: str(a["io.kubernetes.cri.image-name"]),
    privileged: ociPrivileged(spec),
    mounts: ociMounts(spec),
    podName: str(a["io.kubernetes.cri.sandbox-name"]),
    podNamespace: str(a["io.kubernetes.cri.sandbox-namespace"]),
    podUid: str(a["io.kubernetes.cri.sandbox-uid"]),
    sandboxId: str(a["io.kubernetes.cri.sandbox-id"]),
    labels: {},
  });
}

/** cri-o's userdata/config.json: an OCI spec whose annotations carry the pod and image. */
export function parseCrioSpec(fullId: string, text: string): ContainerMeta {
  const spec = JSON.parse(text) as unknown;
  if (!isObject(spec)) throw new Error("config.json is not a JSON object");
  const a = stringRecord(spec.annotations);
  let labels: Record<string, string> = {};
  try {
    labels = stringRecord(JSON.parse(a["io.kubernetes.cri-o.Labels"] ?? "{}"));
  } catch {
    labels = {};
  }
  return withImage({
    fullId,
    type: "cri-o",
    name: str(a["io.kubernetes.container.name"]) ?? str(labels["io.kubernetes.container.name"]),
    image: str(a["io.kubernetes.cri-o.ImageName"]) ?? str(a["io.kubernetes.cri-o.Image"]),
    privileged: ociPrivileged(spec),
    mounts: ociMounts(spec),
    podName: str(a["io.kubernetes.pod.name"]) ?? str(labels["io.kubernetes.pod.name"]),
    podNamespace: str(a["io.kubernetes.pod.namespace"]) ?? str(labels["io.kubernetes.pod.namespace"]),
    podUid: str(a["io.kubernetes.pod.uid"]) ?? str(labels["io.kubernetes.pod.uid"]),
    sandboxId: str(a["io.kubernetes.cri-o.SandboxID"]),
    labels,
  });
}

/** docker's config.v2.json (name, image, labels, mounts) and hostconfig.json (privileged). */
export function parseDockerConfig(
  fullId: string,
  configText: string,
  hostConfigText: string | undefined,
): ContainerMeta {
  const config = JSON.parse(configText) as unknown;
  if (!isObject(config)) throw new Error("config.v2.json is not a JSON object");
  const inner = isObject(config.Config) ? config.Config : {};
  const labels = stringRecord(inner.Labels);
  let privileged: boolean | undefined;
  if (hostConfigText !== undefined) {
    const host = JSON.parse(hostConfigText) as unknown;
    if (isObject(host) && typeof host.Privileged === "boolean") privileged = host.Privileged;
  }
  const mounts: ContainerMount[] = [];
  if (isObject(config.MountPoints)) {
    for (const m of Object.values(config.MountPoints)) {
      if (!isObject(m) || typeof m.Destination !== "string") continue;
      const rw = m.RW !== false;
      mounts.push({
        source: typeof m.Source === "string" ? m.Source : "",
        dest: m.Destination,
        mode: typeof m.Mode === "string" && m.Mode !== "" ? m.Mode : rw ? "rw" : "ro",
        rdwr: rw,
        propagation: typeof m.Propagation === "string" ? m.Propagation : "",
      });
    }
  }
  const rawName = str(config.Name);
  const state = isObject(config.State) ? config.State : {};
  const started = typeof state.StartedAt === "string" ? rfc3339Ns(state.StartedAt) : undefined;
  const meta = withImage({
    fullId,
    type: "docker",
    name: rawName?.startsWith("/") ? rawName.slice(1) : rawName,
    image: str(inner.Image),
    privileged,
    mounts,
    podName: str(labels["io.kubernetes.pod.name"]),
    podNamespace: str(labels["io.kubernetes.pod.namespace"]),
    podUid: str(labels["io.kubernetes.pod.uid"]),
    sandboxId: str(labels["io.kubernetes.sandbox.id"]),
    labels,
  });
  meta.startTsNs = started;
  return meta;
}

interface Missing {
  missing: true;
  retryAt: number;
  attempts: number;
}

/** Largest runtime file read. */
const MAX_SPEC_BYTES = 4 << 20;

/** Back-off between tries for a container whose metadata is not there yet. */
const RETRY_MS = [250, 1000, 5000, 30_000];
/** containerd namespaces looked at first; others are found by listing the state directory. */
const CONTAINERD_NAMESPACES = ["k8s.io", "moby", "default"];

export class ContainerMetadataStore {
  private readonly cache = new Map<string, ContainerMeta | Missing>();
  private readonly counts = { reads: 0, missing: 0, errors: 0, evicted: 0 };
  /** The key at the cache's young end: reading it again needs no move (container.* reads repeat). */
  private youngest: string | undefined;
  /** The last parse error per runtime file, for the agent's log. */
  lastError: string | undefined;

  constructor(
    private readonly dirs: ContainerEngineDirs,
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("container cache capacity must be >= 1");
  }

  /** Metadata of a container by its full id; undefined while the runtime's files do not have it. */
  get(fullId: string): ContainerMeta | undefined {
    const known = this.cache.get(fullId);
    if (known !== undefined) {
      // Recently used to the young end.
      if (fullId !== this.youngest) {
        this.cache.delete(fullId);
        this.cache.set(fullId, known);
        this.youngest = fullId;
      }
      if (!("missing" in known)) return known;
      if (this.now() < known.retryAt) {
        this.counts.missing++;
        return undefined;
      }
    }
    const meta = this.load(fullId);
    if (meta === undefined) {
      const attempts = known !== undefined && "missing" in known ? known.attempts + 1 : 1;
      this.remember(fullId, {
        missing: true,
        attempts,
        retryAt: this.now() + RETRY_MS[Math.min(attempts, RETRY_MS.length) - 1],
      });
      this.counts.missing++;
      return undefined;
    }
    this.remember(fullId, meta);
    return meta;
  }

  /** A container that is gone: forget it (its id will not come back). */
  forget(fullId: string): void {
    if (fullId === this.youngest) this.youngest = undefined;
    this.cache.delete(fullId);
  }

  stats(): ContainerMetaStats {
    return { size: this.cache.size, capacity: this.capacity, ...this.counts };
  }

  private remember(fullId: string, entry: ContainerMeta | Missing): void {
    this.cache.delete(fullId);
    while (this.cache.size >= this.capacity) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
      this.counts.evicted++;
    }
    this.cache.set(fullId, entry);
    this.youngest = fullId;
  }

  private readText(path: string): string | undefined {
    this.counts.reads++;
    try {
      // A runtime's spec is a few KiB; anything past the bound is not parsed (counted as an error).
      if (statSync(path).size > MAX_SPEC_BYTES) {
        this.counts.errors++;
        this.lastError = `${path}: larger than ${MAX_SPEC_BYTES} bytes, not read`;
        return undefined;
      }
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  }

  private parse(path: string, parse: () => ContainerMeta): ContainerMeta | undefined {
    try {
      const meta = parse();
      meta.startTsNs ??= mtimeNs(path);
      return meta;
    } catch (err) {
      this.counts.errors++;
      this.lastError = `${path}: ${(err as Error).message}`;
      return undefined;
    }
  }

  private load(fullId: string): ContainerMeta | undefined {
    const { containerd, crio, docker } = this.dirs;
    if (containerd !== undefined) {
      for (const ns of this.containerdNamespaces(containerd)) {
        const path = `${containerd}/${ns}/${fullId}/config.json`;
        const text = this.readText(path);
        if (text !== undefined) return this.parse(path, () => parseContainerdSpec(fullId, text));
      }
    }
    if (crio !== undefined) {
      const path = `${crio}/${fullId}/userdata/config.json`;
      const text = this.readText(path);
      if (text !== undefined) return this.parse(path, () => parseCrioSpec(fullId, text));
    }
    if (docker !== undefined) {
      const path = `${docker}/containers/${fullId}/config.v2.json`;
      const text = this.readText(path);
      if (text !== undefined) {
        const host = this.readText(`${docker}/containers/${fullId}/hostconfig.json`);
        return this.parse(path, () => parseDockerConfig(fullId, text, host));
      }
    }
    return undefined;
  }

  private containerdNamespaces(dir: string): string[] {
    const out = CONTAINERD_NAMESPACES.filter((ns) => existsSync(`${dir}/${ns}`));
    try {
      for (const ns of readdirSync(dir)) if (!out.includes(ns)) out.push(ns);
    } catch {
      // No containerd on this host.
    }
    return out;
  }
}

function mtimeNs(path: string): bigint | undefined {
  try {
    return statSync(path, { bigint: true }).mtimeNs;
  } catch {
    return undefined;
  }
}
