// Container and pod metadata from the runtimes' on-disk state (agent/state/container-meta.ts):
// a containerd state directory laid out as containerd lays it out
// (<state_dir>/<namespace>/<64-hex id>/config.json, an OCI spec with CRI annotations), cri-o and
// docker equivalents, read through the tracker and the field registry the rules use. Missing
// metadata reads as missing, is retried with back-off and counted; the cache is capped.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecEvent } from "../../agent/events/types.ts";
import { ALL_CAPABILITIES, renderCapabilities } from "../../agent/common/capabilities.ts";
import { ContainerMetadataStore, splitImage } from "../../agent/state/container-meta.ts";
import type { EventContext } from "../../agent/state/context.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { readField as read } from "./read-field.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-containers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APP = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const SANDBOX = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
const PRIV = "0badc0de".repeat(8);
const POD_UID = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
/** Every capability the kernel defines, from the state's own table: what a privileged container gets. */
const ALL_CAPS = renderCapabilities(ALL_CAPABILITIES).split(" ");

/** An OCI runtime spec as containerd's CRI plugin writes it for a pod's container (written for this test). */
function criSpec(over: { name: string; image: string; caps: string[]; devices?: unknown[] }): string {
  return JSON.stringify({
    ociVersion: "1.1.0",
    process: {
      user: { uid: 0, gid: 0 },
      args: ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      capabilities: { bounding: over.caps, effective: over.caps, permitted: over.caps },
    },
    root: { path: "rootfs" },
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      {
        destination: "/etc/hosts",
        type: "bind",
        source: `/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${SANDBOX}/hosts`,
        options: ["rbind", "rprivate", "rw"],
      },
      {
        destination: "/var/run/secrets/kubernetes.io/serviceaccount",
        type: "bind",
        source: `/var/lib/kubelet/pods/${POD_UID}/volumes/kubernetes.io~projected/kube-api-access-x1`,
        options: ["rbind", "rprivate", "ro"],
      },
    ],
    annotations: {
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.container-name": over.name,
      "io.kubernetes.cri.image-name": over.image,
      "io.kubernetes.cri.sandbox-id": SANDBOX,
      "io.kubernetes.cri.sandbox-name": "web-7d9f8c6b5-x2k4p",
      "io.kubernetes.cri.sandbox-namespace": "shop",
      "io.kubernetes.cri.sandbox-uid": POD_UID,
    },
    linux: {
      resources: { devices: over.devices ?? [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
    },
  });
}

const containerd = join(dir, "run/containerd/io.containerd.runtime.v2.task");
function writeContainerd(ns: string, id: string, text: string): void {
  mkdirSync(join(containerd, ns, id), { recursive: true });
  writeFileSync(join(containerd, ns, id, "config.json"), text);
}

writeContainerd(
  "k8s.io",
  APP,
  criSpec({
    name: "nginx",
    image: "docker.io/library/nginx:1.25.3",
    caps: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
  }),
);
writeContainerd(
  "k8s.io",
  PRIV,
  criSpec({
    name: "debug",
    image: "registry.local:5000/tools/shell@sha256:" + "ab".repeat(32),
    caps: ALL_CAPS,
    devices: [{ allow: true, access: "rwm" }],
  }),
);

function tracker(): StateTracker {
  return new StateTracker({
    processCapacity: 64,
    users: new UserTable(),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    hostRoot: dir,
  });
}

function execIn(t: StateTracker, pid: number, cgroup: string): EventContext {
  const e: ExecEvent = {
    kind: "execve",
    num: 1,
    bootSec: 1,
    bootNsec: 0,
    tid: pid,
    pid,
    cut: 0,
    res: 0,
    ppid: 1,
    uid: 0,
    gid: 0,
    comm: "nginx",
    filename: "/usr/sbin/nginx",
    args: ["nginx"],
    cgroup,
  };
  return t.apply(e);
}

describe("containerd's state directory", () => {
  test("a pod's container: name, image, repository, tag, pod, namespace, uid, sandbox, mounts, not privileged", () => {
    const t = tracker();
    const ctx = execIn(t, 4000, `/kubepods.slice/kubepods-besteffort.slice/cri-containerd-${APP}.scope`);
    expect(read(ctx, "container.id")).toBe(APP.slice(0, 12));
    expect(read(ctx, "container.full_id")).toBe(APP);
    expect(read(ctx, "container.name")).toBe("nginx");
    expect(read(ctx, "container.type")).toBe("containerd");
    expect(read(ctx, "container.image")).toBe("docker.io/library/nginx:1.25.3");
    expect(read(ctx, "container.image.repository")).toBe("docker.io/library/nginx");
    expect(read(ctx, "container.image.tag")).toBe("1.25.3");
    expect(read(ctx, "container.privileged")).toBe(false);
    expect(read(ctx, "k8s.pod.name")).toBe("web-7d9f8c6b5-x2k4p");
    expect(read(ctx, "k8s.ns.name")).toBe("shop");
    expect(read(ctx, "k8s.pod.uid")).toBe(POD_UID);
    expect(read(ctx, "k8s.pod.sandbox_id")).toBe(SANDBOX.slice(0, 12));
    expect(read(ctx, "k8s.pod.full_sandbox_id")).toBe(SANDBOX);
    const mounts = String(read(ctx, "container.mounts"));
    expect(mounts).toContain(":/etc/hosts:rw:true:rprivate");
    expect(mounts).toContain(":/var/run/secrets/kubernetes.io/serviceaccount:ro:false:rprivate");
    // Started when containerd wrote the bundle's spec.
    const written = statSync(join(containerd, "k8s.io", APP, "config.json"), { bigint: true }).mtimeNs;
    expect(read(ctx, "container.start_ts")).toBe(written);
    // Read once, then from the cache.
    const reads = t.containers.stats().reads;
    read(ctx, "container.name");
    expect(t.containers.stats().reads).toBe(reads);
  });

  test("container.mount*[index or source glob]: the mount, or none / N/A as Falco's plugin answers", () => {
    const t = tracker();
    const ctx = execIn(t, 4003, `/kubepods/pod${POD_UID}/${APP}`);
    expect(read(ctx, "container.mount[0]")).toBe("proc:/proc:rw:true:");
    expect(read(ctx, "container.mount[9]")).toBe("none");
    expect(read(ctx, "container.mount.dest[/var/lib/kubelet/pods/*]")).toBe(
      "/var/run/secrets/kubernetes.io/serviceaccount",
    );
    expect(read(ctx, "container.mount.rdwr[/var/lib/kubelet/pods/*]")).toBe("false");
    expect(read(ctx, "container.mount.dest[/etc]")).toBe("N/A");
    expect(read(ctx, "container.mount.source[/etc/hosts]")).toBe(
      `/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${SANDBOX}/hosts`,
    );
    expect(read(ctx, "container.mount.propagation[1]")).toBe("rprivate");
  });

  test("all capabilities and all devices: privileged; an image by digest has no tag", () => {
    const t = tracker();
    const ctx = execIn(t, 4001, `/kubepods/burstable/pod${POD_UID}/${PRIV}`);
    expect(read(ctx, "container.privileged")).toBe(true);
    expect(read(ctx, "container.image.repository")).toBe("registry.local:5000/tools/shell");
    expect(read(ctx, "container.image.tag")).toBeUndefined();
    expect(read(ctx, "container.image.digest")).toBe(`sha256:${"ab".repeat(32)}`);
  });

  test("on the host: container.id host, container.name host, no pod", () => {
    const t = tracker();
    const ctx = execIn(t, 4002, "/user.slice/user-0.slice/session-1.scope");
    expect(read(ctx, "container.id")).toBe("host");
    expect(read(ctx, "container.name")).toBe("host");
    expect(read(ctx, "k8s.pod.name")).toBeUndefined();
  });

  test("a container whose files are not written yet reads missing, is retried with back-off, counted; then found", () => {
    let now = 1000;
    const late = "1234abcd".repeat(8);
    const store = new ContainerMetadataStore(
      { containerd, crio: undefined, docker: undefined },
      16,
      () => now,
    );
    expect(store.get(late)).toBeUndefined();
    expect(store.stats().missing).toBe(1);
    writeContainerd("k8s.io", late, criSpec({ name: "late", image: "busybox:1.36", caps: [] }));
    // Within the back-off: still missing, no file read.
    const reads = store.stats().reads;
    expect(store.get(late)).toBeUndefined();
    expect(store.stats().reads).toBe(reads);
    expect(store.stats().missing).toBe(2);
    now += 300;
    expect(store.get(late)?.name).toBe("late");
    expect(store.get(late)?.imageTag).toBe("1.36");
  });

  test("a config.json that is not JSON is an error, counted and named, not a crash", () => {
    const broken = "deadbeef".repeat(8);
    writeContainerd("moby", broken, "{ not json");
    const store = new ContainerMetadataStore({ containerd, crio: undefined, docker: undefined });
    expect(store.get(broken)).toBeUndefined();
    expect(store.stats().errors).toBe(1);
    expect(store.lastError).toContain(`moby/${broken}/config.json`);
  });

  test("the cache is capped: least recently used out, counted", () => {
    const store = new ContainerMetadataStore({ containerd, crio: undefined, docker: undefined }, 2);
    store.get(APP);
    store.get(PRIV);
    store.get(APP);
    store.get("f".repeat(64));
    expect(store.stats()).toMatchObject({ size: 2, evicted: 1 });
    // APP was used last before the new one: PRIV went.
    const reads = store.stats().reads;
    store.get(APP);
    expect(store.stats().reads).toBe(reads);
  });

  test("reading the youngest entry again keeps the order; a forgotten youngest is not kept as such", () => {
    const store = new ContainerMetadataStore({ containerd, crio: undefined, docker: undefined }, 2);
    store.get(APP);
    store.get(PRIV);
    store.get(PRIV);
    store.get(PRIV);
    store.get(APP);
    store.get(APP);
    // PRIV is the least recently used now: a new container evicts it, not APP.
    store.get("e".repeat(64));
    let reads = store.stats().reads;
    store.get(APP);
    expect(store.stats().reads).toBe(reads);
    store.get(PRIV);
    expect(store.stats().reads).toBeGreaterThan(reads);
    // Forgetting the youngest (PRIV), then reading APP: APP moves to the young end again.
    store.forget(PRIV);
    store.get(APP);
    store.get("d".repeat(64));
    reads = store.stats().reads;
    expect(store.get(APP)?.name).toBeDefined();
    expect(store.stats().reads).toBe(reads);
  });
});

describe("cri-o and docker", () => {
  const crio = join(dir, "crio");
  const docker = join(dir, "docker");
  const CRIO_ID = "c0ffee00".repeat(8);
  const DOCKER_ID = "d0c4e400".repeat(8);
  mkdirSync(join(crio, CRIO_ID, "userdata"), { recursive: true });
  writeFileSync(
    join(crio, CRIO_ID, "userdata", "config.json"),
    JSON.stringify({
      process: { capabilities: { bounding: ["CAP_CHOWN"] } },
      annotations: {
        "io.kubernetes.container.name": "api",
        "io.kubernetes.cri-o.ImageName": "quay.io/org/api:v2",
        "io.kubernetes.pod.name": "api-0",
        "io.kubernetes.pod.namespace": "prod",
        "io.kubernetes.pod.uid": "u-1",
        "io.kubernetes.cri-o.SandboxID": SANDBOX,
        "io.kubernetes.cri-o.Labels": JSON.stringify({ app: "api" }),
      },
    }),
  );
  mkdirSync(join(docker, "containers", DOCKER_ID), { recursive: true });
  writeFileSync(
    join(docker, "containers", DOCKER_ID, "config.v2.json"),
    JSON.stringify({
      Name: "/redis-cache",
      Config: { Image: "redis:7", Labels: { tier: "cache" } },
      State: { StartedAt: "2026-12-01T19:40:57.123456789Z" },
      MountPoints: { "/data": { Source: "/var/lib/docker/volumes/x/_data", Destination: "/data", RW: true } },
    }),
  );
  writeFileSync(
    join(docker, "containers", DOCKER_ID, "hostconfig.json"),
    JSON.stringify({ Privileged: true }),
  );

  test("cri-o: pod, image, labels", () => {
    const store = new ContainerMetadataStore({ containerd: undefined, crio, docker: undefined });
    expect(store.get(CRIO_ID)).toMatchObject({
      type: "cri-o",
      name: "api",
      imageRepository: "quay.io/org/api",
      imageTag: "v2",
      podName: "api-0",
      podNamespace: "prod",
      privileged: false,
      labels: { app: "api" },
    });
  });

  test("docker: name without the slash, image, privileged from hostconfig, mounts, labels", () => {
    const store = new ContainerMetadataStore({ containerd: undefined, crio: undefined, docker });
    expect(store.get(DOCKER_ID)).toMatchObject({
      type: "docker",
      name: "redis-cache",
      image: "redis:7",
      imageTag: "7",
      privileged: true,
      mounts: [{ dest: "/data", rdwr: true, mode: "rw" }],
      labels: { tier: "cache" },
      startTsNs: 1_796_154_057_123_456_789n,
    });
  });
});

describe("splitImage", () => {
  test.each([
    ["nginx", "nginx", undefined, undefined],
    ["nginx:1.25", "nginx", "1.25", undefined],
    ["localhost:5000/app", "localhost:5000/app", undefined, undefined],
    ["gcr.io/p/app:v1@sha256:00", "gcr.io/p/app", "v1", "sha256:00"],
  ])("%s", (image, repository, tag, digest) => {
    expect(splitImage(image)).toEqual({ repository, tag, digest });
  });
});

describe("hostile runtime files", () => {
  test("a spec over 4 MiB is not read (its size is checked first): an error, counted and named", () => {
    const huge = "ab12".repeat(16);
    mkdirSync(join(containerd, "k8s.io", huge), { recursive: true });
    writeFileSync(
      join(containerd, "k8s.io", huge, "config.json"),
      `{"annotations":{"x":"${"y".repeat(5 << 20)}"}}`,
    );
    const store = new ContainerMetadataStore({ containerd, crio: undefined, docker: undefined });
    expect(store.get(huge)).toBeUndefined();
    expect(store.stats().errors).toBe(1);
    expect(store.lastError).toContain("larger than");
  });
});
