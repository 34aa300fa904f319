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
    const alerts = await run.waitForAlerts(
      (a) => a.some((x) => x.output_fields["proc.pid"] === shell.pid),
      30_000,
    );
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
  }, 60_000);

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
    // Ours: the parent is the copy of bash named nginx in this test's directory.
    const pick = (a: AlertJson[]) =>
      a.filter((x) => x.rule === "Run shell untrusted" && x.output_fields["proc.pexepath"] === nginx);
    const alerts = await run.waitForAlerts((a) => pick(a).length > 0, 15_000);
    expect(await run.stop()).toBe(0);
    const [alert] = pick(alerts);
    expect(alert?.output_fields).toMatchObject({
      "proc.name": "sh",
      "proc.pname": "nginx",
      "proc.pexepath": nginx,
      "user.name": "root",
    });
    expect(String(alert?.output_fields["proc.pcmdline"])).toStartWith("nginx -c read go");
  }, 60_000);
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
      const cat = Bun.spawnSync(
        ["sh", "-c", `echo $$ > ${join(path, "cgroup.procs")} && exec cat /etc/shadow`],
        {
          stdout: "ignore",
        },
      );
      // Other programs on this machine may read /etc/shadow too: pick ours by its pid.
      const pick = (a: { output_fields: Record<string, unknown> }[]) =>
        a.filter(
          (x) => x.output_fields["proc.pid"] === cat.pid && x.output_fields["fd.name"] === "/etc/shadow",
        );
      const alerts = await run.waitForAlerts((a) => pick(a).length > 0, 15_000);
      expect(await run.stop()).toBe(0);
      expect(pick(alerts)[0]?.output_fields["container.id"]).toBe(id.slice(0, 12));
    }, 60_000);
  },
);

const TEST_RULES = `
- rule: Lanner e2e ancestors
  desc: a fork chain's ancestors
  condition: evt.type in (open, openat) and fd.name = /etc/hostname and proc.name = cat
  output: "chain a1=%proc.aname[1] a2=%proc.aname[2] a3=%proc.aname[3] a4=%proc.aname[4] pcmd=%proc.pcmdline"
  priority: WARNING
- rule: Lanner e2e exec facts
  desc: where an executable came from
  condition: evt.type = execve and (proc.exepath startswith /dev/shm/ or proc.name in ("3", upper-sleep))
  output: "exec %proc.exepath memfd=%proc.is_exe_from_memfd upper=%proc.is_exe_upper_layer writable=%proc.is_exe_writable"
  priority: WARNING
`;

describe.skipIf(liveUnavailable !== null)("fields of processes started after the agent (live eBPF)", () => {
  test("fork chain ancestors, an openat with a dirfd, a relative open after chdir, exec from /dev/shm, a memfd and an overlay upper layer", async () => {
    const g = gate();
    const rulesFile = join(g.dir, "test_rules.yaml");
    writeFileSync(rulesFile, TEST_RULES);
    const run = newRun();
    // Every matching rule reports (the default rules also match some of these events).
    await run.start([
      "-r",
      join(REPO, "rules", "lanner_rules.yaml"),
      "-r",
      rulesFile,
      "-o",
      "rule_matching=all",
    ]);
    const sleep = Bun.which("sleep") ?? "/bin/sleep";

    // A fork chain: sh -> sh -> sh -> cat (each `; true` keeps the shell from exec'ing in place).
    Bun.spawnSync(["sh", "-c", `sh -c 'sh -c "cat /etc/hostname; true"; true'; true`], { stdout: "ignore" });
    // An openat against a directory fd opened after start; a relative open after chdir.
    const py = (code: string) =>
      Bun.spawnSync(["python3", "-c", code], { stdout: "ignore", stderr: "ignore" });
    py(
      `import os, time; d = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY); os.open("shadow", os.O_RDONLY, dir_fd=d); time.sleep(2)`,
    );
    py(`import os, time; os.chdir("/etc"); open("gshadow"); time.sleep(2)`);
    // Executables from /dev/shm, a memfd and an overlay's upper layer; each lives long enough to be inspected.
    const shm = "/dev/shm/lanner-e2e-exe";
    copyFileSync(sleep, shm);
    cleanups.push(() => rmSync(shm, { force: true }));
    Bun.spawnSync([shm, "0.5"]);
    py(
      `import os; fd = os.memfd_create("lanner-e2e", 0); os.write(fd, open("${sleep}", "rb").read()); os.execv(f"/proc/self/fd/{fd}", ["sleep", "0.5"])`,
    );
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(g.dir, d));
    const overlay = `mount -t overlay overlay -o lowerdir=${g.dir}/lower,upperdir=${g.dir}/upper,workdir=${g.dir}/work ${g.dir}/merged`;
    Bun.spawnSync([
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      `${overlay} && cp ${sleep} ${g.dir}/merged/upper-sleep && exec ${g.dir}/merged/upper-sleep 0.5`,
    ]);

    const alerts = await run.waitForAlerts(
      (a) =>
        a.filter((x) => x.rule === "Lanner e2e exec facts").length >= 3 &&
        a.some((x) => x.rule === "Lanner e2e ancestors"),
      30_000,
    );
    expect(await run.stop()).toBe(0);
    const chain = alerts.find((x) => x.rule === "Lanner e2e ancestors");
    expect(chain?.output_fields).toMatchObject({
      "proc.aname[1]": "sh",
      "proc.aname[2]": "sh",
      "proc.aname[3]": "sh",
      "proc.aname[4]": "bun",
    });
    const shadow = alerts
      .filter((x) => x.rule === "Credential file opened for reading")
      .map((x) => x.output_fields["fd.name"]);
    expect(shadow).toContain("/etc/shadow");
    expect(shadow).toContain("/etc/gshadow");
    const execs = alerts.filter((x) => x.rule === "Lanner e2e exec facts").map((x) => x.output_fields);
    expect(execs.find((f) => f["proc.exepath"] === shm)).toMatchObject({
      "proc.is_exe_from_memfd": false,
      "proc.is_exe_upper_layer": false,
      "proc.is_exe_writable": true,
    });
    // fexecve of /proc/self/fd/N: the exe path is the memfd behind it, as the kernel names it.
    expect(execs.find((f) => String(f["proc.exepath"]).startsWith("/memfd:lanner-e2e"))).toMatchObject({
      "proc.is_exe_from_memfd": true,
    });
    expect(
      execs.find((f) => String(f["proc.exepath"]).endsWith("/merged/upper-sleep"))?.[
        "proc.is_exe_upper_layer"
      ],
    ).toBe(true);
  }, 90_000);
});

const NET_RULES = `
- rule: Lanner e2e connect
  desc: client side of a TCP connection
  condition: evt.type = connect and proc.name = python3 and fd.sport = PORT
  output: "connect %fd.name %fd.cip %fd.cport %fd.sip %fd.sport %fd.lport %fd.rport %fd.is_server %fd.l4proto %fd.typechar"
  priority: WARNING
- rule: Lanner e2e accept
  desc: server side of a TCP connection
  condition: evt.type in (accept, accept4) and proc.name = python3 and fd.sport = PORT
  output: "accept %fd.name %fd.cport %fd.sport %fd.lport %fd.rport %fd.is_server"
  priority: WARNING
- rule: Lanner e2e socket on stdin
  desc: a socket duplicated onto stdin
  condition: evt.type in (dup2, dup3) and proc.name = python3 and fd.num = 0 and fd.type in (ipv4, ipv6)
  output: "stdin %fd.name"
  priority: WARNING
- rule: Lanner e2e relative open
  desc: a relative open after chdir
  condition: evt.type in (open, openat) and proc.name = python3 and fd.name = /etc/hostname
  output: "open %fd.name raw=%fd.nameraw cwd=%proc.cwd"
  priority: WARNING
`;

describe.skipIf(liveUnavailable !== null)("sockets and cwd through the live probe", () => {
  test("TCP connect to a listener on 127.0.0.1 (both sides' tuple fields), dup2 of the socket onto stdin, chdir then a relative open", async () => {
    const g = gate();
    const port = 20_000 + (process.pid % 20_000);
    const rulesFile = join(g.dir, "net_rules.yaml");
    writeFileSync(rulesFile, NET_RULES.replaceAll("PORT", String(port)));
    const run = newRun();
    await run.start(["-r", rulesFile, "-o", "rule_matching=all"]);
    const script = [
      "import socket, os, time",
      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      `s.bind(("127.0.0.1", ${port})); s.listen(1)`,
      `c = socket.socket(); c.connect(("127.0.0.1", ${port}))`,
      "a, _ = s.accept()",
      "os.dup2(c.fileno(), 0)",
      'os.chdir("/etc"); open("hostname").read()',
      "print(c.getsockname()[1], flush=True)",
      "time.sleep(0.3)",
    ].join("\n");
    const py = Bun.spawnSync(["python3", "-c", script], { stdout: "pipe", stderr: "pipe" });
    expect(py.exitCode).toBe(0);
    const clientPort = Number(py.stdout.toString().trim());
    const want = ["connect", "accept", "socket on stdin", "relative open"].map((r) => `Lanner e2e ${r}`);
    const alerts = await run.waitForAlerts((a) => want.every((r) => a.some((x) => x.rule === r)), 15_000);
    expect(await run.stop()).toBe(0);
    const by = (rule: string) => alerts.find((x) => x.rule === `Lanner e2e ${rule}`)?.output_fields;
    const name = `127.0.0.1:${clientPort}->127.0.0.1:${port}`;
    expect(by("connect")).toMatchObject({
      "fd.name": name,
      "fd.cip": "127.0.0.1",
      "fd.cport": clientPort,
      "fd.sip": "127.0.0.1",
      "fd.sport": port,
      "fd.lport": clientPort,
      "fd.rport": port,
      "fd.is_server": false,
      "fd.l4proto": "tcp",
      "fd.typechar": "4",
    });
    expect(by("accept")).toMatchObject({
      "fd.name": name,
      "fd.cport": clientPort,
      "fd.sport": port,
      "fd.lport": port,
      "fd.rport": clientPort,
      "fd.is_server": true,
    });
    expect(by("socket on stdin")).toMatchObject({ "fd.name": name });
    expect(by("relative open")).toMatchObject({
      "fd.name": "/etc/hostname",
      "fd.nameraw": "hostname",
      "proc.cwd": "/etc/",
    });
  }, 90_000);
});
