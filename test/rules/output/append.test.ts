// append_output (agent/rules/output/append.ts): falco.yaml's entries matched by source, tags and
// rule name, extra_output and suggested_output appended to each matching rule's output, bound to
// live state: an alert of an unmodified rule carries the container and pod it fired in.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecEvent } from "../../../agent/events/types.ts";
import { RuleEngine } from "../../../agent/rules/engine.ts";
import { liveBinder, liveEventKey, liveText } from "../../../agent/rules/live.ts";
import { loadRuleSources } from "../../../agent/rules/load/load.ts";
import { AppendOutput, AppendOutputError, SUGGESTED_OUTPUT } from "../../../agent/rules/output/append.ts";
import type { EventContext } from "../../../agent/state/context.ts";
import { StateTracker } from "../../../agent/state/tracker.ts";
import { UserTable } from "../../../agent/state/users.ts";

const ID = "e".repeat(64);
const root = mkdtempSync(join(tmpdir(), "lanner-append-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bundle = join(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io", ID);
mkdirSync(bundle, { recursive: true });
writeFileSync(
  join(bundle, "config.json"),
  JSON.stringify({
    annotations: {
      "io.kubernetes.cri.container-name": "web",
      "io.kubernetes.cri.image-name": "docker.io/library/nginx:1.27",
      "io.kubernetes.cri.sandbox-name": "web-0",
      "io.kubernetes.cri.sandbox-namespace": "shop",
    },
  }),
);

const RULES = `
- rule: Shell in container
  desc: test
  condition: evt.type = execve and proc.name = bash
  output: shell %proc.name
  priority: WARNING
  tags: [container, shell]
- rule: Other
  desc: test
  condition: evt.type = execve and proc.name = bash
  output: other
  priority: NOTICE
  tags: [host]
`;

function run(append: AppendOutput): { text: string; fields: Record<string, unknown> }[] {
  const { ruleset } = loadRuleSources([{ name: "r.yaml", text: RULES }]);
  const engine = new RuleEngine<EventContext>(
    ruleset,
    { minPriority: "Debug", matching: "all", selection: [], appendOutput: append },
    liveBinder,
    liveText,
    liveEventKey,
  );
  const state = new StateTracker({
    processCapacity: 16,
    users: new UserTable(),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    hostRoot: root,
  });
  const e: ExecEvent = {
    kind: "execve",
    num: 1,
    bootSec: 1,
    bootNsec: 0,
    tid: 7,
    pid: 7,
    cut: 0,
    res: 0,
    ppid: 1,
    uid: 0,
    gid: 0,
    comm: "bash",
    filename: "/bin/bash",
    args: ["bash"],
    cgroup: `/kubepods/pod1/${ID}`,
  };
  const ctx = state.apply(e);
  const out: { text: string; fields: Record<string, unknown> }[] = [];
  engine.evaluate("execve", ctx, (r) => out.push({ text: r.output.text(ctx), fields: r.output.fields(ctx) }));
  return out;
}

describe("append_output", () => {
  test("suggested_output appends container and pod context to every rule, as text and fields", () => {
    const [shell, other] = run(new AppendOutput([{ suggested_output: true }]));
    expect(shell.text).toBe(
      "shell bash container_id=eeeeeeeeeeee container_name=web container_image_repository=docker.io/library/nginx container_image_tag=1.27 k8s_pod_name=web-0 k8s_ns_name=shop",
    );
    expect(shell.fields).toMatchObject({ "container.id": "eeeeeeeeeeee", "k8s.ns.name": "shop" });
    expect(other.text.startsWith("other container_id=eeeeeeeeeeee")).toBe(true);
  });

  test("match by tags and rule name; extra_output with fields", () => {
    const [shell, other] = run(
      new AppendOutput([
        { match: { tags: ["shell"] }, extra_output: "pid=%proc.pid" },
        { match: { rule: "Other", source: "syscall" }, extra_output: "uid=%user.uid" },
        { match: { source: "k8s_audit" }, extra_output: "never" },
      ]),
    );
    expect(shell.text).toBe("shell bash pid=7");
    expect(other.text).toBe("other uid=0");
  });

  test("an entry with an unknown field is an error naming the entry", () => {
    expect(() => new AppendOutput([{ suggested_output: true }, { extra_output: "x=%proc.nosuch" }])).toThrow(
      AppendOutputError,
    );
    try {
      new AppendOutput([{ suggested_output: true }, { extra_output: "x=%proc.nosuch" }]);
    } catch (err) {
      expect((err as Error).message).toStartWith("append_output[1]:");
    }
    expect(SUGGESTED_OUTPUT).toContain("%k8s.pod.name");
  });
});
