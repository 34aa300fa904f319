// End to end through the built executable with the real probe and Falco's stable rules, unchanged:
// the rules whose events the probe did not capture before (symlink, socket, dup2, ptrace, connect)
// fire on the real action, each matched to the pid of the process that did it (other work on
// the machine raises alerts too). The actions are small C calls (falco-actions.c), run the way
// the rule expects: in a containerd-named cgroup and a private mount namespace for the
// container-only rules, and from a program named ssh in a private network namespace with a
// public-looking address for the outbound one.
// Each rule also has a near miss (same call, one condition false) that must raise nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroup2Root } from "../../agent/cli/selftest-actions.ts";
import type { TCPSocketListener } from "bun";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun, type AlertJson, REPO } from "./agent-process.ts";

const STABLE_RULES = join(REPO, "..", "shared", "falco-rules", "falco_rules.yaml");
/** TEST-NET-3 (RFC 5737): not loopback, not RFC 1918, so Falco's `outbound` macro accepts it; it
 * only ever exists on the loopback device of a network namespace this test creates. */
const PUBLIC_LOOKING_IP = "203.0.113.7";
/** In Falco's ssh_non_standard_ports list. */
const SSH_ODD_PORT = 4444;

const missing = [
  liveUnavailable,
  existsSync(STABLE_RULES) ? null : `${STABLE_RULES} is missing`,
  cgroup2Root() === undefined ? "no cgroup v2 hierarchy for a container-like cgroup" : null,
  ...["clang", "unshare", "ip", "mount"].map((p) => (Bun.which(p) === null ? `${p} is not installed` : null)),
].filter((m) => m !== null);
if (missing.length > 0) console.warn(`Falco stable rules live test SKIPPED: ${missing.join("; ")}`);

describe.skipIf(missing.length > 0)(
  "Falco's stable rules on real actions (live eBPF, built executable)",
  () => {
    let dir: string;
    let helper: string;
    let sshHelper: string;
    let run: AgentRun;
    let containerCgroup: string;
    let listener: TCPSocketListener;
    const cleanups: (() => void)[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "lanner-e2e-falco-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      helper = join(dir, "falco-actions");
      const cc = Bun.spawnSync([
        "clang",
        "-O1",
        "-Wall",
        "-Werror",
        "-o",
        helper,
        join(import.meta.dir, "falco-actions.c"),
      ]);
      if (cc.exitCode !== 0) throw new Error(`compiling falco-actions.c failed: ${cc.stderr.toString()}`);
      // Falco's ssh rule tests proc.exe (argv[0]) and proc.name: a copy named ssh.
      sshHelper = join(dir, "ssh");
      copyFileSync(helper, sshHelper);
      chmodSync(sshHelper, 0o755);

      // A cgroup named like a containerd container: the agent gives its processes a container id.
      const root = cgroup2Root() as string;
      const parent = join(root, `lanner-e2e-falco-${process.pid}`);
      const id = new Bun.CryptoHasher("sha256").update(`lanner-e2e-falco-${process.pid}`).digest("hex");
      containerCgroup = join(parent, `cri-containerd-${id}.scope`);
      mkdirSync(containerCgroup, { recursive: true });
      cleanups.push(() => {
        // A cgroup directory goes with rmdir once its processes are gone.
        rmdirSync(containerCgroup);
        rmdirSync(parent);
      });

      // A TCP peer on loopback for the dup2 action: accepts and holds the connection.
      listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      cleanups.push(() => listener.stop(true));

      // proc.pid in every alert's output_fields (the stable rules' outputs do not name it).
      run = new AgentRun(
        ["append_output:", "  - suggested_output: true", '  - extra_output: "pid=%proc.pid"'].join("\n"),
      );
      cleanups.push(() => run.cleanup());
      await run.start(["-r", STABLE_RULES]);
    }, 60_000);

    afterAll(async () => {
      const code = run === undefined ? 0 : await run.stop();
      for (const c of cleanups.splice(0).reverse()) {
        try {
          c();
        } catch {
          // Best effort: the other steps still run.
        }
      }
      expect(code).toBe(0);
    }, 30_000);

    /** Runs one action to completion (exit 0 required) in `cwd` and returns the pid it printed. */
    async function act(
      argv: string[],
      cwd = dir,
    ): Promise<{ pid: number; out: Record<string, number>; text: string }> {
      const p = Bun.spawn(argv, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const text = await new Response(p.stdout).text();
      const code = await p.exited;
      if (code !== 0)
        throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
      const out: Record<string, number> = {};
      for (const [, k, v] of text.matchAll(/^(\w+)=(\d+)$/gm)) out[k] = Number(v);
      if (out.pid === undefined) throw new Error(`${argv.join(" ")} printed no pid: ${text}`);
      return { pid: out.pid, out, text };
    }

    /** argv that runs `inner` as a container would: in a private mount namespace, moved into the
     * container-named cgroup before it is exec'd (unshare and sh exec in place: one pid). */
    const inContainer = (inner: string[]) => [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'echo $$ > "$0/cgroup.procs" && exec "$@"',
      containerCgroup,
      ...inner,
    ];

    const byPid = (alerts: AlertJson[], pid: number) =>
      alerts.filter((a) => a.output_fields["proc.pid"] === pid);

    /** Waits for `rule` to fire for `pid`; returns that alert. */
    async function alertFor(rule: string, pid: number): Promise<AlertJson> {
      const alerts = await run.waitForAlerts((a) => byPid(a, pid).some((x) => x.rule === rule), 15_000);
      const mine = byPid(alerts, pid);
      expect(mine.map((a) => a.rule)).toContain(rule);
      return mine.find((a) => a.rule === rule) as AlertJson;
    }

    /** Called after an alert for a later action arrived. With several rings an earlier record can
     * still be one drain behind it: wait several drain intervals, then `rule` must not have fired
     * for `pid`. */
    async function expectNoAlert(rule: string, pid: number): Promise<void> {
      await Bun.sleep(500);
      expect(byPid(run.alerts(), pid).map((a) => a.rule)).not.toContain(rule);
    }

    test("symlink and symlinkat over /etc/shadow and /etc/sudoers: 'Create Symlink Over Sensitive Files'; over /etc/hostname: nothing", async () => {
      const rule = "Create Symlink Over Sensitive Files";
      const harmless = await act([helper, "symlink", "/etc/hostname", join(dir, "hostname-link")]);
      const viaSymlink = await act([helper, "symlink", "/etc/shadow", join(dir, "shadow-link")]);
      const viaSymlinkat = await act([helper, "symlinkat", "/etc/sudoers", join(dir, "sudoers-link")]);
      const a = await alertFor(rule, viaSymlink.pid);
      expect(a.priority).toBe("Warning");
      expect(a.output_fields).toMatchObject({
        "evt.type": "symlink",
        "evt.arg.target": "/etc/shadow",
        "evt.arg.linkpath": join(dir, "shadow-link"),
        "proc.name": "falco-actions",
        "user.uid": 0,
      });
      const b = await alertFor(rule, viaSymlinkat.pid);
      expect(b.output_fields).toMatchObject({
        "evt.type": "symlinkat",
        "evt.arg.target": "/etc/sudoers",
        "evt.arg.linkpath": join(dir, "sudoers-link"),
      });
      await expectNoAlert(rule, harmless.pid);
    }, 30_000);

    // A hard link needs both names on one filesystem: the temp dir must be on /etc's.
    test.skipIf(statSync("/etc").dev !== statSync(tmpdir()).dev)(
      "link of /etc/pam.conf named relative to the cwd /etc: 'Create Hardlink Over Sensitive Files' with the resolved oldpath; of /etc/hostname: nothing",
      async () => {
        const rule = "Create Hardlink Over Sensitive Files";
        const harmless = await act([helper, "link", "hostname", join(dir, "hostname-hardlink")], "/etc");
        const sensitive = await act([helper, "link", "pam.conf", join(dir, "pam-hardlink")], "/etc");
        const a = await alertFor(rule, sensitive.pid);
        expect(a.priority).toBe("Warning");
        // oldpath is a path Falco resolves against the cwd for evt.arg: the rule's list holds /etc/pam.conf.
        expect(a.output_fields).toMatchObject({
          "evt.type": "link",
          "evt.arg.oldpath": "/etc/pam.conf",
          "evt.arg.newpath": join(dir, "pam-hardlink"),
        });
        await expectNoAlert(rule, harmless.pid);
      },
      30_000,
    );

    test("a packet socket in a container: 'Packet socket created in container'; the same socket on the host: nothing", async () => {
      const onHost = await act([helper, "packet"]);
      const inside = await act(inContainer([helper, "packet"]));
      const a = await alertFor("Packet socket created in container", inside.pid);
      expect(a.priority).toBe("Notice");
      expect(a.output_fields["evt.type"]).toBe("socket");
      expect(String(a.output_fields["container.id"])).toMatch(/^[0-9a-f]{12}$/);
      expect(a.output).toContain("domain=17(AF_PACKET)");
      await expectNoAlert("Packet socket created in container", onHost.pid);
    }, 30_000);

    test("dup2 of a TCP socket onto stdin in a container: 'Redirect STDOUT/STDIN to Network Connection in Container'", async () => {
      const onHost = await act([helper, "dup2", String(listener.port)]);
      const inside = await act(inContainer([helper, "dup2", String(listener.port)]));
      const rule = "Redirect STDOUT/STDIN to Network Connection in Container";
      const a = await alertFor(rule, inside.pid);
      expect(a.output_fields).toMatchObject({
        "evt.type": "dup2",
        "fd.type": "ipv4",
        "fd.l4proto": "tcp",
        "fd.rport": listener.port,
        "fd.sip": "127.0.0.1",
      });
      expect(String(a.output_fields["fd.name"])).toEndWith(`->127.0.0.1:${listener.port}`);
      await expectNoAlert(rule, onHost.pid);
    }, 30_000);

    test("PTRACE_ATTACH to a child: 'PTRACE attached to process'; PTRACE_TRACEME: 'PTRACE anti-debug attempt'", async () => {
      const attach = await act([helper, "ptrace"]);
      const traceme = await act([helper, "traceme"]);
      const a = await alertFor("PTRACE attached to process", attach.pid);
      expect(a.priority).toBe("Warning");
      expect(a.output_fields).toMatchObject({ "evt.type": "ptrace", "proc.name": "falco-actions" });
      const b = await alertFor("PTRACE anti-debug attempt", traceme.pid);
      expect(b.priority).toBe("Notice");
      // Each request raises only its own rule.
      await expectNoAlert("PTRACE anti-debug attempt", attach.pid);
      await expectNoAlert("PTRACE attached to process", traceme.pid);
    }, 30_000);

    test("ssh connecting to port 4444 of a public-looking address: 'Disallowed SSH Connection Non Standard Port'; port 22: nothing", async () => {
      // A private network namespace: the address exists only on its loopback device.
      const inNetns = (port: number) => [
        "unshare",
        "--net",
        "sh",
        "-c",
        `ip link set lo up && ip addr add ${PUBLIC_LOOKING_IP}/32 dev lo && exec "$@"`,
        "netns",
        sshHelper,
        "connect",
        PUBLIC_LOOKING_IP,
        String(port),
      ];
      const standard = await act(inNetns(22));
      const odd = await act(inNetns(SSH_ODD_PORT));
      const rule = "Disallowed SSH Connection Non Standard Port";
      const a = await alertFor(rule, odd.pid);
      expect(a.output_fields).toMatchObject({
        "evt.type": "connect",
        "proc.name": "ssh",
        "fd.rport": SSH_ODD_PORT,
        "fd.l4proto": "tcp",
      });
      expect(String(a.output_fields["fd.name"])).toEndWith(`->${PUBLIC_LOOKING_IP}:${SSH_ODD_PORT}`);
      await expectNoAlert(rule, standard.pid);
    }, 30_000);

    test("a program written into a container's overlay upper layer and run: 'Drop and execute new binary in container'; one from the lower layer: nothing", async () => {
      const base = mkdtempSync(join(dir, "overlay-"));
      for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(base, d));
      copyFileSync(helper, join(base, "lower", "from-image"));
      chmodSync(join(base, "lower", "from-image"), 0o755);
      const merged = join(base, "merged");
      // The image's program runs first (a child of the shell), then the dropped one replaces the shell.
      const { text } = await act(
        inContainer([
          "sh",
          "-c",
          `mount -t overlay overlay -o lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work ${merged} && ` +
            `${merged}/from-image noop && cp ${helper} ${merged}/dropped && exec ${merged}/dropped noop`,
        ]),
      );
      const [fromImage, dropped] = [...text.matchAll(/^pid=(\d+)$/gm)].map((m) => Number(m[1]));
      expect([fromImage, dropped].every((pid) => pid > 0)).toBe(true);
      const rule = "Drop and execute new binary in container";
      const a = await alertFor(rule, dropped);
      expect(a.priority).toBe("Critical");
      expect(a.output_fields).toMatchObject({
        "proc.exepath": `${merged}/dropped`,
        "evt.type": "execve",
        // The probe's word on the layer, in Falco's names.
        "evt.arg.flags": "EXE_UPPER_LAYER",
      });
      expect(String(a.output_fields["container.id"])).toMatch(/^[0-9a-f]{12}$/);
      await expectNoAlert(rule, fromImage);
    }, 30_000);
  },
);
