// End to end, as root, with the real probe: the built executable captures a real `cat
// /etc/shadow`, the default rule fires, the alert reaches the file in Falco's JSON shape, the
// agent's own file activity raises nothing, and SIGTERM/SIGINT end it with exit 0. Also: the
// executable runs with the host's libbpf, libelf and zlib made invisible.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveUnavailable } from "../capture/live-support.ts";
import { type AgentRun as AgentRunType, type AlertJson, AgentRun, LANNER, REPO } from "./agent-process.ts";

const BUN = join(REPO, "node_modules", ".bin", "bun");

const runs: AgentRunType[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
});

function newRun(extraConfig = ""): AgentRun {
  const run = new AgentRun(extraConfig);
  runs.push(run);
  return run;
}

/** argv that runs a shell script in a private mount namespace (its mounts vanish with it). */
function inPrivateMountNamespace(script: string): string[] {
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script];
}

/** Reads /etc/shadow with cat, expects exactly one alert for it, then stops the agent cleanly. */
async function expectOneShadowAlertThenStop(run: AgentRun): Promise<void> {
  const cat = Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" });
  // By pid: other work on the machine may read /etc/shadow with its own cat.
  const ours = (alerts: AlertJson[]) =>
    shadowAlert(alerts).filter((a) => a.output_fields["proc.pid"] === cat.pid);
  await run.waitForAlerts((a) => ours(a).length > 0);
  expect(await run.stop()).toBe(0);
  expect(ours(run.alerts())).toHaveLength(1);
}

const shadowAlert = (alerts: { output_fields: Record<string, unknown> }[]) =>
  alerts.filter(
    (a) => a.output_fields["proc.name"] === "cat" && a.output_fields["fd.name"] === "/etc/shadow",
  );

describe.skipIf(liveUnavailable !== null)("lanner run (live eBPF)", () => {
  test("cat /etc/shadow raises exactly one alert in the alert file, in Falco's JSON shape; SIGTERM exits 0", async () => {
    const run = newRun();
    await run.start();
    const cat = Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" });
    expect(cat.exitCode).toBe(0);
    const mine = (alerts: AlertJson[]) => alerts.filter((a) => a.output_fields["proc.pid"] === cat.pid);
    await run.waitForAlerts((a) => shadowAlert(mine(a)).length > 0);
    expect(await run.stop("SIGTERM")).toBe(0);

    // The agent watches the whole machine: other work may raise alerts of its own (another
    // process's activity, kernel drops under a flood), so only the cat's alert is counted.
    const final = mine(run.alerts());
    expect(final).toHaveLength(1);
    const [alert] = final;
    expect(shadowAlert(final)).toHaveLength(1);
    expect(run.alerts().filter((a) => a.output_fields["proc.pid"] === run.pid)).toEqual([]);
    expect(alert.rule).toBe("Credential file opened for reading");
    expect(alert.priority).toBe("Warning");
    expect(alert.source).toBe("syscall");
    expect(alert.output_fields["proc.name"]).toBe("cat");
    expect(alert.output_fields["fd.name"]).toBe("/etc/shadow");
    expect(alert.output_fields["proc.cmdline"]).toBe("cat /etc/shadow");
    expect(alert.output_fields["user.uid"]).toBe(0);
    expect(alert.output_fields["proc.pid"]).toBe(cat.pid);
    expect(alert.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(alert.output).toMatch(/^\d\d:\d\d:\d\d\.\d{9}: Warning Credential file opened for reading/);
    expect(alert.tags).toEqual([...alert.tags].sort());
    // Keys sorted, as Falco writes them.
    const line = run.stdout.split("\n").find((l) => l.includes("/etc/shadow")) ?? "";
    expect(Object.keys(JSON.parse(line))).toEqual([
      "hostname",
      "output",
      "output_fields",
      "priority",
      "rule",
      "source",
      "tags",
      "time",
    ]);
    expect(run.stderr).toContain('"msg":"stopping"');
    expect(run.stderr).toContain('"rings":1'); // the default: one ring shared by every CPU
  }, 30_000);

  test("one ring per CPU (engine.modern_ebpf.cpus_for_each_buffer: 1): the start line counts them, the alert is the same", async () => {
    // Appended under engine.modern_ebpf, the config's last mapping (agent-process.ts).
    const run = newRun("    cpus_for_each_buffer: 1");
    await run.start();
    const online = Bun.spawnSync(["getconf", "_NPROCESSORS_ONLN"]).stdout.toString().trim();
    expect(run.stderr).toContain(`"rings":${online}`);
    Bun.spawnSync(["taskset", "-c", "1", "cat", "/etc/shadow"], { stdout: "ignore" });
    const alerts = await run.waitForAlerts((a) => shadowAlert(a).length > 0);
    expect(await run.stop()).toBe(0);
    expect(shadowAlert(alerts)).toHaveLength(1);
    // The exec, recorded on whichever CPU cat started on, reached the state before its open.
    expect(shadowAlert(alerts)[0]?.output_fields["proc.cmdline"]).toBe("cat /etc/shadow");
  }, 30_000);

  test("the agent's own file activity raises nothing, the same activity by another process does", async () => {
    // A rule that fires on any open of the files the agent itself reads after attaching
    // (the host's passwd and group files) and of a marker only the test opens.
    const run = newRun();
    const marker = join(run.dir, "marker");
    writeFileSync(marker, "x");
    const rules = join(run.dir, "own.yaml");
    writeFileSync(
      rules,
      [
        "- rule: Watched file opened",
        "  desc: test rule",
        `  condition: evt.type in (open, openat, openat2) and fd.name in (/etc/passwd, /etc/group, ${marker})`,
        "  output: watched %fd.name by %proc.name pid=%proc.pid",
        "  priority: NOTICE",
      ].join("\n"),
    );
    await run.start(["-r", rules]);
    Bun.spawnSync(["cat", marker, "/etc/passwd"], { stdout: "ignore" });
    await run.waitForAlerts((a) =>
      a.some((x) => x.output_fields["fd.name"] === "/etc/passwd" && x.output_fields["proc.name"] === "cat"),
    );
    expect(await run.stop("SIGINT")).toBe(0);
    const alerts = run.alerts();
    const fromCat = alerts
      .filter((a) => a.output_fields["proc.name"] === "cat")
      .map((a) => a.output_fields["fd.name"]);
    expect(fromCat).toEqual([marker, "/etc/passwd"]);
    // The agent opened /etc/passwd and /etc/group after its probe attached; none of it shows.
    expect(alerts.filter((a) => a.output_fields["proc.pid"] === run.pid)).toEqual([]);
  }, 30_000);

  test("runs with the host's libbpf, libelf and zlib made invisible (private mount namespace)", async () => {
    const libDirs = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64"].filter(
      existsSync,
    );
    const hidden = new Set<string>();
    for (const dir of libDirs) {
      for (const f of readdirSync(dir)) {
        if (/^(libbpf|libelf|libz)\.so/.test(f)) hidden.add(join(dir, f));
      }
    }
    expect(hidden.size).toBeGreaterThan(0);
    const mounts = [...hidden].map((p) => `mount --bind /dev/null ${p}`).join(" && ");
    const run = newRun();
    await run.start([], (argv) =>
      inPrivateMountNamespace(
        // Prove the libraries are gone inside the namespace, then become the agent.
        `${mounts} && test ! -s ${[...hidden][0]} && exec ${argv.map((a) => `'${a}'`).join(" ")}`,
      ),
    );
    await expectOneShadowAlertThenStop(run);
  }, 30_000);
});

describe.skipIf(liveUnavailable !== null)("privileges (real credentials via setpriv)", () => {
  const lannerArgs = ["run", "-o", "file_output.enabled=false", "-o", "stdout_output.enabled=false"];

  test("as an unprivileged user: one clear sentence, exit 2, no stack trace", () => {
    const r = Bun.spawnSync(
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", LANNER, ...lannerArgs],
      { cwd: "/tmp", stderr: "pipe" },
    );
    const err = r.stderr.toString();
    expect(r.exitCode).toBe(2);
    expect(err).toContain("run it as root or grant CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)");
    expect(err).not.toMatch(/\n\s+at /);
  });

  test("as root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: exit 2 with the same advice", () => {
    const r = Bun.spawnSync(["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin", LANNER, ...lannerArgs], {
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("grant CAP_BPF and CAP_PERFMON");
  });

  test("CAP_BPF and CAP_PERFMON without CAP_SYS_ADMIN are enough", async () => {
    const run = newRun();
    await run.start([], (argv) => ["setpriv", "--bounding-set=-sys_admin", ...argv]);
    await expectOneShadowAlertThenStop(run);
  }, 30_000);
});

describe.skipIf(liveUnavailable !== null)("no usable BTF (real, in a private mount namespace)", () => {
  const inNamespace = (setup: string) =>
    Bun.spawnSync(inPrivateMountNamespace(`${setup} && exec '${LANNER}' run -o file_output.enabled=false`), {
      cwd: "/tmp",
      stderr: "pipe",
    });

  test("BTF file absent: exit 2 with the path and what to do", () => {
    const r = inNamespace("mount -t tmpfs none /sys/kernel/btf");
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("Kernel BTF is missing at /sys/kernel/btf/vmlinux");
  });

  test("BTF file present but empty: exit 2, said as a BTF problem", () => {
    const empty = mkdtempSync(join(tmpdir(), "lanner-btf-"));
    try {
      writeFileSync(join(empty, "vmlinux"), "");
      const r = inNamespace(`mount --bind ${join(empty, "vmlinux")} /sys/kernel/btf/vmlinux`);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.toString()).toContain("The kernel's BTF at /sys/kernel/btf/vmlinux cannot be read");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

test("bad input: an invalid config exits 1 naming file, line and key; a broken rules file exits 1 naming the line", () => {
  const dir = mkdtempSync(join(tmpdir(), "lanner-bad-"));
  try {
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "priority: warning\nfile_outptu:\n  enabled: true\n");
    const bad = Bun.spawnSync([BUN, "agent/main.ts", "run", "-c", cfg], { cwd: REPO, stderr: "pipe" });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.toString()).toContain(
      `${cfg}:2:1: unknown key 'file_outptu'; did you mean 'file_output'?`,
    );

    const rules = join(dir, "bad-rules.yaml");
    writeFileSync(
      rules,
      "- rule: x\n  desc: d\n  condition: proc.name = \n  output: o\n  priority: WARNING\n",
    );
    const badRules = Bun.spawnSync([BUN, "agent/main.ts", "run", "-r", rules], { cwd: REPO, stderr: "pipe" });
    expect(badRules.exitCode).toBe(1);
    expect(badRules.stderr.toString()).toContain(`${rules}:3:`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
