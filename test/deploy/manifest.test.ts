// deploy/: the DaemonSet manifest parses, its ConfigMap holds deploy/lanner.yaml, and ports,
// probe paths, mounts and capabilities agree with that configuration and with what the agent
// keeps after attach; the Dockerfile starts the agent on the same file and port.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadAll } from "js-yaml";
import { loadConfigDetailed } from "../../agent/config/load.ts";
import { KEPT_AFTER_ATTACH } from "../../agent/security/capabilities.ts";

const DEPLOY = join(import.meta.dir, "../../deploy");
const CONFIG_TEXT = readFileSync(join(DEPLOY, "lanner.yaml"), "utf8");

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a Kubernetes object tree, read by path in the tests
  spec?: any;
}

const objects = loadAll(readFileSync(join(DEPLOY, "daemonset.yaml"), "utf8")) as K8sObject[];
const byKind = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.length).toBe(1);
  return found[0];
};
const daemonSet = byKind("DaemonSet");
const pod = daemonSet.spec.template.spec;
const container = pod.containers[0];
const loaded = loadConfigDetailed({ name: "deploy/lanner.yaml", text: CONFIG_TEXT }, [], {});
const config = loaded.config;

describe("deploy/daemonset.yaml", () => {
  test("holds a Namespace, ServiceAccount, ConfigMap and DaemonSet, all in one namespace", () => {
    expect(objects.map((o) => o.kind)).toEqual(["Namespace", "ServiceAccount", "ConfigMap", "DaemonSet"]);
    for (const o of objects.slice(1)) expect(o.metadata.namespace).toBe(objects[0].metadata.name);
  });

  test("the ConfigMap's lanner.yaml is deploy/lanner.yaml, which loads with no warning", () => {
    expect(byKind("ConfigMap").data?.["lanner.yaml"]).toBe(CONFIG_TEXT);
    expect(loaded.warnings).toEqual([]);
  });

  test("the container reads the ConfigMap's file", () => {
    const configPath = container.args[container.args.indexOf("-c") + 1];
    const volume = pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap !== undefined);
    expect(volume.configMap.name).toBe(byKind("ConfigMap").metadata.name);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
    expect(join(mount.mountPath, "lanner.yaml")).toBe(configPath);
  });

  test("the port and probe paths are the config's web server", () => {
    expect(config.webserver.enabled).toBe(true);
    expect(config.webserver.listen_address).toBe("0.0.0.0");
    const port = container.ports.find((p: { name: string }) => p.name === "http");
    expect(port.containerPort).toBe(config.webserver.listen_port);
    expect(container.livenessProbe.httpGet).toEqual({
      path: config.webserver.k8s_healthz_endpoint,
      port: "http",
    });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(config.webserver.prometheus_metrics_enabled).toBe(true);
    expect(daemonSet.spec.template.metadata.annotations["prometheus.io/port"]).toBe(
      String(config.webserver.listen_port),
    );
  });

  test("every host path is mounted read-only under state.host_root at its own path", () => {
    const hostVolumes = pod.volumes.filter((v: { hostPath?: unknown }) => v.hostPath !== undefined);
    expect(hostVolumes.map((v: { hostPath: { path: string } }) => v.hostPath.path).sort()).toEqual([
      "/etc",
      "/proc",
      "/run/containerd",
      "/sys/fs/cgroup",
    ]);
    for (const v of hostVolumes) {
      const mount = container.volumeMounts.find((m: { name: string }) => m.name === v.name);
      expect(mount.readOnly).toBe(true);
      expect(mount.mountPath).toBe(join(config.state.host_root, v.hostPath.path));
    }
  });

  test("host PIDs, not privileged, all capabilities dropped but the ones the agent needs", () => {
    expect(pod.hostPID).toBe(true);
    const sc = container.securityContext;
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities.drop).toEqual(["ALL"]);
    const kept = Object.keys(KEPT_AFTER_ATTACH).map((c) => c.replace(/^CAP_/, ""));
    expect([...sc.capabilities.add].sort()).toEqual([...kept, "SETPCAP"].sort());
  });

  test("requests and limits are set; the memory limit leaves room above the request", () => {
    const r = container.resources;
    const mi = (q: string) => Number(q.replace(/Mi$/, ""));
    expect(mi(r.requests.memory)).toBeGreaterThan(0);
    expect(mi(r.limits.memory)).toBeGreaterThanOrEqual(mi(r.requests.memory));
    expect(r.requests.cpu).toMatch(/^\d+m$/);
  });
});

describe("deploy/Dockerfile", () => {
  const dockerfile = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");

  test("starts `run -c` on the file the DaemonSet mounts, exposes the web server port", () => {
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(cmd).toEqual(container.args);
    expect(dockerfile).toContain(`EXPOSE ${config.webserver.listen_port}\n`);
    const copy = /^COPY deploy\/lanner\.yaml (\S+)$/m.exec(dockerfile)?.[1];
    expect(copy).toBe(cmd[2]);
    expect(dirname(copy ?? "")).toBe("/etc/lanner");
  });

  test("the final stage is distroless (glibc, no shell)", () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms[froms.length - 1]).toMatch(/^gcr\.io\/distroless\/base/);
  });
});
