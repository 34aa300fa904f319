// The harmless actions `lanner selftest` performs, one per default rule it can exercise safely:
// temp files and directories only (a few dot-files in /etc, /usr/local/bin and /var/log, removed
// right away), 127.0.0.1 only (or a private network namespace that dies with the action), files opened without reading their content, kernel calls that are
// refused (an invalid fd for finit_module, no program for BPF_PROG_LOAD), "containers" that are
// only a cgroup named like one, and private mount namespaces (a tmpfs over /run, an overlay in the
// temp dir) that die with the action. Every action runs in a child process: the agent ignores itself.

import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  rmdirSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Undo steps, run in reverse order at the end, on error and on SIGINT/SIGTERM. */
export class Cleanup {
  private readonly steps: (() => void)[] = [];

  add(step: () => void): void {
    this.steps.push(step);
  }

  /** Removes a path when cleaning up. */
  path(p: string): string {
    this.add(() => rmSync(p, { recursive: true, force: true }));
    return p;
  }

  run(): void {
    while (this.steps.length > 0) {
      const step = this.steps.pop() as () => void;
      try {
        step();
      } catch {
        // Best effort: one step failing must not keep the others from running.
      }
    }
  }
}

export interface ActionContext {
  /** A private temp directory, removed at the end. */
  dir: string;
  /** Unique to this selftest run; put in paths and command lines so alerts can be matched. */
  token: string;
  /** A TCP listener on 127.0.0.1 that accepts and closes. */
  port: number;
  cleanup: Cleanup;
}

export interface SelftestAction {
  /** What is done, for the table. */
  action: string;
  /** The default rule expected to fire. */
  rule: string;
  /** Programs the action needs; missing ones make it "not run". */
  needs: readonly string[];
  /** Does it; returns text that the expected alert's message contains. */
  run(ctx: ActionContext): Promise<string>;
}

/** Runs argv to completion; the child's pid is the returned marker's usual ingredient. */
async function spawn(argv: string[], env?: Record<string, string>): Promise<{ pid: number; code: number }> {
  const p = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    env: { ...process.env, ...env },
  });
  const code = await p.exited;
  return { pid: p.pid, code };
}

const sh = (script: string, ...args: string[]) => ["sh", "-c", script, "selftest", ...args];

/** A file with harmless content (never a real secret). */
function fakeFile(path: string, content = "lanner selftest: not a secret\n"): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** The cgroup v2 root, if the host has one. */
export function cgroup2Root(): string | undefined {
  for (const p of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) {
    try {
      if (statfsSync(p).type === 0x63677270) return p;
    } catch {
      // not mounted
    }
  }
  return undefined;
}

/**
 * argv that runs `inner` inside a cgroup named like a containerd container, so the agent sees it
 * as a container. The cgroup is removed by the cleanup.
 */
function inContainer(ctx: ActionContext, inner: string[]): string[] {
  const root = cgroup2Root();
  if (root === undefined) throw new Error("no cgroup v2 hierarchy for a container-like cgroup");
  const id = new Bun.CryptoHasher("sha256").update(ctx.token).digest("hex");
  const parent = join(root, `lanner-selftest-${ctx.token}`);
  const leaf = join(parent, `cri-containerd-${id}.scope`);
  if (!existsSync(leaf)) {
    mkdirSync(leaf, { recursive: true });
    ctx.cleanup.add(() => {
      // A cgroup directory is removed with rmdir (its files are not real files), once empty.
      rmdirSync(leaf);
      rmdirSync(parent);
    });
  }
  return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', leaf, ...inner];
}

const python = (code: string) => ["python3", "-c", code];

export const SELFTEST_ACTIONS: readonly SelftestAction[] = [
  {
    action: "open /etc/shadow for reading (nothing read)",
    rule: "Credential file opened for reading",
    needs: ["sh"],
    async run() {
      const { pid } = await spawn(sh("exec 3</etc/shadow"));
      return `pid=${pid} `;
    },
  },
  {
    action: "open a fake private SSH key",
    rule: "Private SSH key read by an unexpected program",
    needs: ["sh"],
    async run(ctx) {
      const key = fakeFile(join(ctx.dir, "home", ".ssh", `id_${ctx.token}`));
      await spawn(sh('exec 3<"$1"', key));
      return key;
    },
  },
  {
    action: "open a fake AWS credentials file",
    rule: "Cloud credentials read by an unexpected program",
    needs: ["sh"],
    async run(ctx) {
      const file = fakeFile(join(ctx.dir, ctx.token, ".aws", "credentials"));
      await spawn(sh('exec 3<"$1"', file));
      return file;
    },
  },
  {
    action: "a program named nginx starts a shell",
    rule: "Shell started by a server process",
    needs: ["sh"],
    async run(ctx) {
      const server = join(ctx.dir, "nginx");
      copyFileSync("/bin/sh", server);
      chmodSync(server, 0o755);
      // The trailing `true` keeps the shell from replacing itself with the inner sh.
      await spawn([server, "-c", `sh -c ': ${ctx.token}'; true`]);
      return ctx.token;
    },
  },
  {
    action: "run a copy of /bin/true from /dev/shm",
    rule: "Program run from shared memory or a memfd",
    needs: ["sh"],
    async run(ctx) {
      const exe = ctx.cleanup.path(`/dev/shm/lanner-selftest-${ctx.token}`);
      copyFileSync("/bin/true", exe);
      chmodSync(exe, 0o700);
      await spawn([exe]);
      return exe;
    },
  },
  {
    action: "run /bin/true from a memfd",
    rule: "Program run from shared memory or a memfd",
    needs: ["python3"],
    async run(ctx) {
      await spawn(
        python(
          "import os\n" +
            `fd = os.memfd_create("lanner-selftest-${ctx.token}")\n` +
            "os.write(fd, open('/bin/true', 'rb').read())\n" +
            "pid = os.fork()\n" +
            // The token as argv[1]: the alert's command line is how this action's alert is found.
            `if pid == 0:\n  os.execv(f'/proc/self/fd/{fd}', ['true', '${ctx.token}'])\n` +
            "os.waitpid(pid, 0)\n",
        ),
      );
      return ctx.token;
    },
  },
  {
    action: "create and remove a dot-file in /usr/local/bin",
    rule: "Write below a binary directory",
    needs: ["sh"],
    async run(ctx) {
      mkdirSync("/usr/local/bin", { recursive: true });
      const file = ctx.cleanup.path(`/usr/local/bin/.lanner-selftest-${ctx.token}`);
      await spawn(sh(': > "$1"; rm -f "$1"', file));
      return file;
    },
  },
  {
    action: "create and remove a dot-file in /etc",
    rule: "Write below /etc",
    needs: ["sh"],
    async run(ctx) {
      const file = ctx.cleanup.path(`/etc/.lanner-selftest-${ctx.token}`);
      await spawn(sh(': > "$1"; rm -f "$1"', file));
      return file;
    },
  },
  {
    action: "symlink to /etc/shadow in a temp dir",
    rule: "Link to a sensitive file",
    needs: ["ln"],
    async run(ctx) {
      const link = join(ctx.dir, `shadow-link-${ctx.token}`);
      await spawn(["ln", "-s", "/etc/shadow", link]);
      return ctx.token;
    },
  },
  {
    action: "finit_module on an invalid fd (refused)",
    rule: "Kernel module loaded",
    needs: ["python3"],
    async run(ctx) {
      await spawn(
        python(`import ctypes\nctypes.CDLL(None, use_errno=True).syscall(313, -1, b"", 0)  # ${ctx.token}`),
      );
      return ctx.token;
    },
  },
  {
    action: "BPF_PROG_LOAD without a program (refused)",
    rule: "BPF program loaded by an unexpected program",
    needs: ["python3"],
    async run(ctx) {
      await spawn(
        python(`import ctypes\nctypes.CDLL(None, use_errno=True).syscall(321, 5, None, 0)  # ${ctx.token}`),
      );
      return ctx.token;
    },
  },
  {
    action: "truncate a temp log file in /var/log",
    rule: "Log file cleared",
    needs: ["sh"],
    async run(ctx) {
      const log = ctx.cleanup.path(fakeFile(`/var/log/lanner-selftest-${ctx.token}.log`, "old line\n"));
      await spawn(sh(': > "$1"', log));
      return log;
    },
  },
  {
    action: "shred a temp file",
    rule: "Bulk deletion of data",
    needs: ["shred"],
    async run(ctx) {
      const file = fakeFile(join(ctx.dir, `shred-${ctx.token}`));
      await spawn(["shred", "-u", file]);
      return ctx.token;
    },
  },
  {
    action: "grep an empty temp dir for private keys",
    rule: "Search for private keys or credentials",
    needs: ["grep"],
    async run(ctx) {
      const empty = join(ctx.dir, `search-${ctx.token}`);
      mkdirSync(empty);
      await spawn(["grep", "-r", "PRIVATE KEY", empty]);
      return ctx.token;
    },
  },
  {
    action: "write a temp file named release_agent",
    rule: "Cgroup release_agent written",
    needs: ["sh"],
    async run(ctx) {
      const file = join(ctx.dir, `cg-${ctx.token}`, "release_agent");
      mkdirSync(join(file, ".."));
      await spawn(sh(': > "$1"', file));
      return file;
    },
  },
  {
    action: "mount proc in a private namespace of a container-like cgroup",
    rule: "Sensitive mount in a container",
    needs: ["unshare", "mount", "sh"],
    async run(ctx) {
      const target = join(ctx.dir, `mnt-${ctx.token}`);
      mkdirSync(target);
      await spawn(
        inContainer(ctx, [
          "unshare",
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          'mount -t proc proc "$0" && umount "$0"',
          target,
        ]),
      );
      return target;
    },
  },
  {
    action: "ptrace-attach to a sleeping child and detach",
    rule: "Process attached with ptrace",
    needs: ["python3", "sleep"],
    async run(ctx) {
      const sleeper = Bun.spawn(["sleep", "5"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      ctx.cleanup.add(() => sleeper.kill());
      await spawn(
        python(
          "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" +
            `pid = ${sleeper.pid}\nlibc.ptrace(16, pid, None, None)\nos.waitpid(pid, 0)\nlibc.ptrace(17, pid, None, None)  # ${ctx.token}\n`,
        ),
      );
      sleeper.kill();
      return ctx.token;
    },
  },
  {
    action: "open and close an AF_PACKET socket",
    rule: "Packet socket opened",
    needs: ["python3"],
    async run(ctx) {
      await spawn(
        python(`import socket\nsocket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()  # ${ctx.token}`),
      );
      return ctx.token;
    },
  },
  {
    action: "bash puts a 127.0.0.1 TCP socket on its stdout",
    rule: "Reverse shell",
    needs: ["bash"],
    async run(ctx) {
      await spawn(["bash", "-c", `exec 1>/dev/tcp/127.0.0.1/${ctx.port}; echo ${ctx.token}`]);
      return ctx.token;
    },
  },
  {
    // The rule leaves loopback out (sidecars), so the connection goes to a TEST-NET address that
    // exists only on the loopback of a private network namespace made for this action: nothing
    // leaves the machine.
    action: "a container-like process connects to an unusual port (private netns)",
    rule: "Outbound connection on an unusual port from a container",
    needs: ["unshare", "ip", "python3", "sh"],
    async run(ctx) {
      const addr = "198.51.100.7";
      const connect =
        "import socket\n" +
        `l = socket.socket(); l.bind(("${addr}", 4444)); l.listen()\n` +
        `socket.create_connection(("${addr}", 4444)).close(); l.close()  # ${ctx.token}\n`;
      await spawn(
        inContainer(ctx, [
          "unshare",
          "--net",
          "sh",
          "-c",
          `ip link set lo up && ip addr add ${addr}/32 dev lo && exec python3 -c "$0"`,
          connect,
        ]),
      );
      return ctx.token;
    },
  },
  {
    // The token is a dummy file on a tmpfs mounted over /run in a private mount namespace: the
    // host's /run (and any real token) stays out of reach and the mount dies with the action.
    action: "a shell opens a dummy service-account token (tmpfs over /run, private mount ns)",
    rule: "Service account token read by a shell tool",
    needs: ["unshare", "mount", "sh"],
    async run(ctx) {
      const dir = "/run/secrets/kubernetes.io/serviceaccount";
      await spawn([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        `mount -t tmpfs tmpfs /run && mkdir -p ${dir} && echo not-a-token > ${dir}/token && exec 3<${dir}/token; : ${ctx.token}`,
      ]);
      return ctx.token;
    },
  },
  {
    // `script` gives the shell a pseudo-terminal, as `kubectl exec -it` does.
    action: "a shell on a pseudo-terminal in a container-like cgroup",
    rule: "Interactive shell in a container",
    needs: ["script", "sh"],
    async run(ctx) {
      await spawn(inContainer(ctx, ["script", "-qc", `sh -c ': ${ctx.token}'`, "/dev/null"]));
      return ctx.token;
    },
  },
  {
    // A private overlay mount in the temp dir stands in for a container's image + writable layer;
    // the copied program sleeps briefly so its mounts can be read while it runs.
    action: "a container-like process runs a program copied into an overlay upper layer",
    rule: "Binary dropped and run in a container",
    needs: ["unshare", "mount", "sh", "cp", "sleep"],
    async run(ctx) {
      const base = join(ctx.dir, `overlay-${ctx.token}`);
      for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(base, d), { recursive: true });
      const opts = `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`;
      const exe = `${base}/merged/dropped-${ctx.token}`;
      await spawn(
        inContainer(ctx, [
          "unshare",
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          `mount -t overlay overlay -o ${opts} ${base}/merged && cp "$(command -v sleep)" ${exe} && ${exe} 1`,
        ]),
      );
      return ctx.token;
    },
  },
  {
    // A numeric uid: nodes without a "daemon" passwd entry still have the uid.
    action: "system uid 1 (daemon) gets a shell on a pseudo-terminal",
    rule: "Interactive session of a system user",
    needs: ["setpriv", "script", "sh"],
    async run(ctx) {
      await spawn([
        "setpriv",
        "--reuid",
        "1",
        "--regid",
        "1",
        "--clear-groups",
        "script",
        "-qc",
        `sh -c ': ${ctx.token}'`,
        "/dev/null",
      ]);
      return ctx.token;
    },
  },
];
