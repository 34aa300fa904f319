// End to end through the built executable with the real probe: state for processes that existed
// before the agent started (seeded from /proc after attach), and container ids for processes
// moved into a containerd-named cgroup after fork and before exec.

import { afterEach, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { liveUnavailable } from "../capture/live-support.ts";
import { type AgentRun as AgentRunType, AgentRun, type AlertJson, REPO } from "./agent-process.ts";

const runs: AgentRunType[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
  for (const c of cleanups.splice(0)) c();
});

function newRun(extraConfig = ""): AgentRun {
  const run = new AgentRun(extraConfig);
  runs.push(run);
  return run;
}

/** A directory with a FIFO a pre-started process waits on until the test writes to it. */
function gate(): { dir: string; fifo: string; open: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "lanner-e2e-state-"));
  const fifo = join(dir, "go");
  Bun.spawnSync(["mkfifo", fifo]);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, fifo, open: () => writeFileSync(fifo, "go\n") };
}

function spawnBefore(argv: string[], cwd: string): Subprocess {
  const p = Bun.spawn(argv, { cwd, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  cleanups.push(() => p.kill("SIGKILL"));
  return p;
}

describe.skipIf(liveUnavailable !== null)("state of processes started before the agent (live eBPF)", () => {
  test("a shell started before the agent opens /etc/shadow: the alert names it, its parent, its command line and user", async () => {
    const g = gate();
    const script = `read go < ${g.fifo}; exec 3< /etc/shadow; exit 0`;
    const shell = spawnBefore(["sh", "-c", script], g.dir);
    await Bun.sleep(100);
    const run = newRun();
    await run.start();
    expect(run.stderr).toContain("state seeded from /proc");
    g.open();
    const alerts = await run.waitForAlerts((a) => a.some((x) => x.output_fields["proc.pid"] === shell.pid));
    expect(await run.stop()).toBe(0);
    const alert = alerts.find((x) => x.output_fields["proc.pid"] === shell.pid);
    expect(alert?.rule).toBe("Credential file opened for reading");
    expect(alert?.output_fields).toMatchObject({
      "fd.name": "/etc/shadow",
      "proc.name": "sh",
      "proc.cmdline": `sh -c ${script}`,
      "proc.pname": "bun",
      "user.name": "root",
      "container.id": "host",
    });
    // append_output's suggested context is in the text.
    expect(alert?.output).toContain("container_id=host container_name=host");
  });

  test("a program named nginx started before the agent spawns a shell: Falco's 'Run shell untrusted' fires", async () => {
    const g = gate();
    const nginx = join(g.dir, "nginx");
    copyFileSync(Bun.which("bash") ?? "/bin/bash", nginx);
    // bash named nginx: its comm is "nginx". It forks a child that execs sh.
    spawnBefore([nginx, "-c", `read go < ${g.fifo}; sh -c 'echo spawned > /dev/null'; true`], g.dir);
    await Bun.sleep(100);
    const run = newRun();
    await run.start(["-r", join(REPO, "..", "shared", "falco-rules", "falco_rules.yaml")]);
    g.open();
    const pick = (a: AlertJson[]) => a.filter((x) => x.rule === "Run shell untrusted");
    const alerts = await run.waitForAlerts((a) => pick(a).length > 0);
    expect(await run.stop()).toBe(0);
    const [alert] = pick(alerts);
    expect(alert?.output_fields).toMatchObject({
      "proc.name": "sh",
      "proc.pname": "nginx",
      "proc.pexepath": nginx,
      "user.name": "root",
    });
    expect(String(alert?.output_fields["proc.pcmdline"])).toStartWith("nginx -c read go");
  });
});

/** The unified (v2) cgroup mount, where the probe reads the exec-time cgroup path. */
function unifiedMount(): string | undefined {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep >= 0 && line.slice(sep + 3).startsWith("cgroup2 ")) return line.slice(0, sep).split(" ")[4];
  }
  return undefined;
}

describe.skipIf(liveUnavailable !== null || unifiedMount() === undefined)(
  "container id at exec (live eBPF)",
  () => {
    test("a process moved into a containerd-named cgroup after fork and before exec gets the container's id", async () => {
      const mount = unifiedMount() ?? "";
      const id = "c0ffeec0ffee".repeat(5) + "abcd";
      const rel = [`lanner-e2e-${process.pid}`, "kubepods", "besteffort", "pod1234", id];
      let path = mount;
      for (const part of rel) {
        path = join(path, part);
        if (!existsSync(path)) mkdirSync(path);
      }
      cleanups.push(() => {
        for (let i = rel.length; i > 0; i--) {
          try {
            rmdirSync(join(mount, ...rel.slice(0, i)));
          } catch {
            // busy or gone
          }
        }
      });
      const run = newRun();
      await run.start();
      // The shell (already forked) moves itself into the container's cgroup, then execs cat.
      Bun.spawnSync(["sh", "-c", `echo $$ > ${join(path, "cgroup.procs")} && exec cat /etc/shadow`], {
        stdout: "ignore",
      });
      const pick = (a: { output_fields: Record<string, unknown> }[]) =>
        a.filter(
          (x) => x.output_fields["proc.name"] === "cat" && x.output_fields["fd.name"] === "/etc/shadow",
        );
      const alerts = await run.waitForAlerts((a) => pick(a).length > 0);
      expect(await run.stop()).toBe(0);
      expect(pick(alerts)[0]?.output_fields["container.id"]).toBe(id.slice(0, 12));
    });
  },
);
