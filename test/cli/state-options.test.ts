// The state tracker's options and append_output from the configuration (agent/cli/state-options.ts):
// host_root prefixes the runtime state directories, a disabled runtime is not looked at, the caps
// pass through, and a bad append_output entry is a configuration error (exit 1) naming the entry.

import { describe, expect, test } from "bun:test";
import { appendOutputOrFail, stateOptions } from "../../agent/cli/state-options.ts";
import { CliFailure } from "../../agent/cli/setup.ts";
import { EXIT_INVALID } from "../../agent/cli/exit-codes.ts";
import { loadConfig } from "../../agent/config/load.ts";

const clock = { offsetSec: 0, offsetNsec: 0 };
const load = (text: string) => loadConfig({ name: "lanner.yaml", text }, [], {});

describe("stateOptions", () => {
  test("host_root prefixes every runtime's state directory; caps pass through", () => {
    const config = load(
      "state:\n  host_root: /host\n  max_processes: 1000\n  max_fds_per_process: 64\n  max_fds_total: 5000\n  max_containers: 32\n",
    );
    const o = stateOptions(config, "node-1", clock);
    expect(o).toMatchObject({
      processCapacity: 1000,
      hostRoot: "/host",
      fdsPerProcess: 64,
      fdsTotal: 5000,
      containerCapacity: 32,
      repairRate: 200,
      repairBurst: 1000,
      containerEngines: {
        containerd: "/host/run/containerd/io.containerd.runtime.v2.task",
        crio: "/host/var/lib/containers/storage/overlay-containers",
        docker: "/host/var/lib/docker",
      },
    });
    expect(o.host.hostname).toBe("node-1");
  });

  test("a disabled runtime is not looked at; a custom state_dir is used", () => {
    const config = load(
      "container_engines:\n  docker:\n    enabled: false\n  containerd:\n    state_dir: /var/run/k3s/containerd/io.containerd.runtime.v2.task\n",
    );
    const o = stateOptions(config, "h", clock);
    expect(o.containerEngines?.docker).toBeUndefined();
    expect(o.containerEngines?.containerd).toBe("/var/run/k3s/containerd/io.containerd.runtime.v2.task");
  });

  test("the total fd cap is never below the per-process cap", () => {
    const config = load("state:\n  max_fds_per_process: 4096\n  max_fds_total: 1024\n");
    expect(stateOptions(config, "h", clock).fdsTotal).toBe(4096);
  });
});

describe("appendOutputOrFail", () => {
  test("the default compiles; an unknown field is exit 1 naming the entry", () => {
    expect(
      appendOutputOrFail(load("").append_output).tokensFor({ name: "r", source: "syscall", tags: [] }).length,
    ).toBeGreaterThan(0);
    const bad = load('append_output:\n  - extra_output: "x=%proc.nosuch"\n').append_output;
    try {
      appendOutputOrFail(bad);
      throw new Error("expected a failure");
    } catch (err) {
      expect(err).toBeInstanceOf(CliFailure);
      expect((err as CliFailure).exitCode).toBe(EXIT_INVALID);
      expect((err as Error).message).toStartWith("append_output[0]:");
    }
  });

  test("a bad append_output shape is a config error naming the key", () => {
    expect(() => load("append_output:\n  - extra_output: 5\n")).toThrow(/append_output/);
  });
});
