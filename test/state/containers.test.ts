// container.id from a cgroup path (agent/state/containers.ts): the 64-hex id each container runtime
// puts in its cgroup's name, cut to Falco's 12 characters, and "host" for everything else.

import { describe, expect, test } from "bun:test";
import {
  ContainerIdCache,
  containerIdFromCgroup,
  fullContainerIdFromCgroup,
} from "../../agent/state/containers.ts";

const ID = "4f3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a";
const SHORT = ID.slice(0, 12);
const POD = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";
const POD_SYSTEMD = POD.replace(/-/g, "_");

describe("containerIdFromCgroup: container runtimes", () => {
  test("the id is 64 hex characters", () => {
    expect(ID).toMatch(/^[0-9a-f]{64}$/);
    expect(SHORT).toBe("4f3b2a1c0d9e");
  });

  test.each([
    [
      "kubernetes, systemd driver, containerd",
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_SYSTEMD}.slice/cri-containerd-${ID}.scope`,
    ],
    [
      "kubernetes, systemd driver, besteffort",
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_SYSTEMD}.slice/cri-containerd-${ID}.scope`,
    ],
    [
      "kubernetes, systemd driver, guaranteed (no QoS slice)",
      `/kubepods.slice/kubepods-pod${POD_SYSTEMD}.slice/cri-containerd-${ID}.scope`,
    ],
    ["kubernetes, cgroupfs driver", `/kubepods/burstable/pod${POD}/${ID}`],
    ["kubernetes, cgroupfs driver, guaranteed", `/kubepods/pod${POD}/${ID}`],
    ["docker, cgroupfs driver", `/docker/${ID}`],
    ["docker, systemd driver", `/system.slice/docker-${ID}.scope`],
    [
      "cri-o, systemd driver",
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_SYSTEMD}.slice/crio-${ID}.scope`,
    ],
    ["podman (libpod), systemd driver", `/machine.slice/libpod-${ID}.scope`],
    ["podman rootless", `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`],
  ])("%s", (_, path) => {
    expect(containerIdFromCgroup(path)).toBe(SHORT);
  });

  test.each([
    ["a .scope's sub-cgroup", `/system.slice/docker-${ID}.scope/init`],
    [
      "containerd's nested cgroup",
      `/kubepods.slice/kubepods-pod${POD_SYSTEMD}.slice/cri-containerd-${ID}.scope/sub`,
    ],
    ["two levels below a cgroupfs id", `/kubepods/burstable/pod${POD}/${ID}/a/b`],
    ["podman's container cgroup", `/machine.slice/libpod-${ID}.scope/container`],
  ])("nested below the container cgroup: %s", (_, path) => {
    expect(containerIdFromCgroup(path)).toBe(SHORT);
  });

  test("the deepest id wins (a container inside a container)", () => {
    const inner = "a".repeat(64);
    expect(containerIdFromCgroup(`/docker/${ID}/docker/${inner}`)).toBe("aaaaaaaaaaaa");
  });
});

describe("containerIdFromCgroup: host and near misses", () => {
  test.each([
    ["the root cgroup", "/"],
    ["empty", ""],
    ["a login session", "/user.slice/user-1000.slice/session-3.scope"],
    ["a system service", "/system.slice/containerd.service"],
    ["the kubelet", "/system.slice/kubelet.service"],
    [
      "a pod slice without a container",
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_SYSTEMD}.slice`,
    ],
    ["a cgroupfs pod without a container", `/kubepods/burstable/pod${POD}`],
    ["63 hex characters", `/docker/${ID.slice(1)}`],
    ["63 hex characters in a scope", `/system.slice/docker-${ID.slice(1)}.scope`],
    ["65 hex characters", `/docker/${ID}a`],
    ["uppercase hex", `/docker/${ID.toUpperCase()}`],
    ["one uppercase character", `/docker/${ID.slice(0, 63)}F`],
    ["a non-hex character", `/docker/${ID.slice(0, 63)}g`],
    ["hex glued to a word", `/system.slice/docker${ID}.scope`],
    ["a suffix other than .scope", `/system.slice/docker-${ID}.slice`],
    ["text after the id", `/docker/${ID}-extra`],
  ])("%s -> host", (_, path) => {
    expect(containerIdFromCgroup(path)).toBe("host");
  });
});

describe("ContainerIdCache: the tracker's cache of recent answers", () => {
  test("repeated and interleaved lookups keep giving the right answer", () => {
    const cache = new ContainerIdCache();
    const container = `/docker/${ID}`;
    for (let i = 0; i < 3; i++) {
      expect(cache.idOf(container)).toBe(SHORT);
      expect(cache.idOf("/")).toBe("host");
    }
    expect(cache.clears).toBe(0);
  });

  test("answers stay right after the cache has been filled and cleared, and the clears are counted", () => {
    const cache = new ContainerIdCache(100);
    for (let i = 0; i < 1000; i++) {
      const hex = i.toString(16).padStart(64, "0");
      const expected = i % 2 === 0 ? hex.slice(0, 12) : "host";
      const path = i % 2 === 0 ? `/docker/${hex}` : `/system.slice/svc-${i}.service`;
      if (cache.idOf(path) !== expected) throw new Error(`wrong id for ${path}`);
    }
    expect(cache.clears).toBe(9);
    expect(cache.idOf(`/system.slice/docker-${ID}.scope`)).toBe(SHORT);
    expect(cache.idOf(`/docker/${"0".repeat(60)}2710`)).toBe("000000000000");
  });
});

describe("ContainerIdCache.fullIdOf", () => {
  test("the full id, remembered, right across fills and clears", () => {
    const cache = new ContainerIdCache(10);
    for (let round = 0; round < 3; round++) {
      expect(cache.fullIdOf(`/kubepods/pod1/${ID}`)).toBe(ID);
      expect(cache.fullIdOf("/user.slice")).toBeUndefined();
    }
    expect(cache.clears).toBe(0);
    for (let i = 0; i < 25; i++) {
      const hex = i.toString(16).padStart(64, "0");
      expect(cache.fullIdOf(`/docker/${hex}`)).toBe(hex);
    }
    expect(cache.clears).toBe(2);
    expect(cache.fullIdOf("/user.slice")).toBeUndefined();
  });
});

describe("fullContainerIdFromCgroup", () => {
  test("the whole 64-hex id, or undefined outside containers", () => {
    expect(fullContainerIdFromCgroup(`/kubepods/pod1/${ID}`)).toBe(ID);
    expect(fullContainerIdFromCgroup("/user.slice")).toBeUndefined();
  });
});
