// Seeding the state from /proc (agent/state/tracker.ts seedFromProc, agent/state/proc-reader.ts):
// real processes of this machine started before the tracker (a sleep with a known cwd, env, args
// and fds; this test process with a real TCP listener and connection), reconciliation with kernel
// events, the rate-limited repair of a process first seen mid-life, and a host root laid out by
// hand for what a live process cannot show (odd comm, unset loginuid, kernel threads).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Event } from "../../agent/events/types.ts";
import { USER_FIELDS } from "../../agent/rules/fields/extract/user.ts";
import { readBounded } from "../../agent/state/proc-reader.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { execEvent, openEvent } from "./events.ts";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "lanner-seed-")));
let sleeper: Subprocess;

function tracker(over: Partial<ConstructorParameters<typeof StateTracker>[0]> = {}): StateTracker {
  return new StateTracker({
    processCapacity: 65_536,
    users: UserTable.load("/"),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    hostRoot: "/",
    ...over,
  });
}

beforeAll(async () => {
  writeFileSync(join(dir, "held.txt"), "x");
  // fd 7 held open for reading, fd 8 for writing with close-on-exec unset; then sleep.
  // setsid makes it lead its own session and group: in a container whose session leader lives
  // outside the pid namespace (CI's), an inherited session id reads as 0 in /proc/PID/stat.
  sleeper = Bun.spawn(
    ["setsid", "sh", "-c", `exec 7<"${dir}/held.txt" 8>>"${dir}/out.log"; exec sleep 60 61`],
    {
      cwd: dir,
      env: { LANNER_SEED_MARK: "present", PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  // Wait until the shell has exec'd sleep.
  for (let i = 0; i < 200; i++) {
    const comm = await Bun.file(`/proc/${sleeper.pid}/comm`)
      .text()
      .catch(() => "");
    if (comm.trim() === "sleep") break;
    await Bun.sleep(10);
  }
});

afterAll(() => {
  sleeper.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("seedFromProc on this machine's /proc", () => {
  test("a process started before the tracker has its identity, args, cwd, env, ids and fds", () => {
    const t = tracker();
    const report = t.seedFromProc();
    expect(report.processes).toBeGreaterThan(2);
    const p = t.processes.get(sleeper.pid);
    if (p === undefined) throw new Error("sleep was not seeded");
    expect(p.comm).toBe("sleep");
    expect(p.exe).toBe("sleep");
    expect(p.exepath).toBe(realpathSync(Bun.which("sleep") ?? "/bin/sleep"));
    expect(p.args).toEqual(["60", "61"]);
    expect(p.cmdline).toBe("sleep 60 61");
    expect(p.cwd).toBe(dir);
    expect(p.env).toContain("LANNER_SEED_MARK=present");
    expect(p.ppid).toBe(process.pid);
    expect(p.uid).toBe(process.getuid?.() ?? 0);
    expect(p.gid).toBe(process.getgid?.() ?? 0);
    expect(p.source).toBe("proc");
    // Root here has every capability; its text names them.
    expect(p.capEffective).toBeGreaterThan(0n);
    const held = p.fds.get(7);
    expect(held).toMatchObject({ num: 7, type: "file", typechar: "f", name: join(dir, "held.txt") });
    expect(p.fds.get(8)?.name).toBe(join(dir, "out.log"));
    expect(p.fds.get(8)?.cloexec).toBe(false);
    // Its parent (this test process) is known too, so ancestor fields work.
    expect(t.processes.get(p.ppid)?.pid).toBe(process.pid);
    // Session and process group come from stat: setsid made sleep lead both.
    expect(p.sid).toBe(sleeper.pid);
    expect(p.pgid).toBe(sleeper.pid);
    expect(p.pidTsBootNs).toBeGreaterThan(0);
  });

  test("sockets of a process resolve through /proc/net: a TCP listener and both ends of a connection", async () => {
    const server: Server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const client: Socket = connect(address.port, "127.0.0.1");
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    try {
      const t = tracker();
      t.seedFromProc();
      const me = t.processes.get(process.pid);
      if (me === undefined) throw new Error("this process was not seeded");
      const inet = [...me.fds.values()].filter((f) => f.type === "ipv4");
      const listener = inet.find(
        (f) =>
          f.socket?.isServer === true && f.socket.connected === false && f.socket.localPort === address.port,
      );
      expect(listener?.name).toBe(`127.0.0.1:${address.port}`);
      expect(listener?.socket?.l4proto).toBe("tcp");
      const clientEnd = inet.find(
        (f) => f.socket?.connected === true && f.socket.remotePort === address.port,
      );
      const localPort = client.localPort;
      expect(clientEnd?.name).toBe(`127.0.0.1:${localPort}->127.0.0.1:${address.port}`);
      expect(clientEnd?.socket?.isServer).toBe(false);
    } finally {
      client.destroy();
      server.close();
    }
  });

  test("a process the kernel's events already described keeps the events' facts", () => {
    const t = tracker();
    const exec = execEvent(sleeper.pid, {
      comm: "from-kernel",
      filename: "/usr/bin/from-kernel",
      args: ["from-kernel"],
    });
    t.apply(exec);
    const report = t.seedFromProc();
    expect(report.alreadyKnown).toBeGreaterThanOrEqual(1);
    expect(t.processes.get(sleeper.pid)?.comm).toBe("from-kernel");
  });

  test("an event of a process first seen mid-life repairs it from /proc once, counted", () => {
    const t = tracker();
    const open = openEvent(sleeper.pid, "rel.txt", { res: 9 });
    const ctx = t.apply(open);
    expect(ctx.process?.comm).toBe("sleep");
    // The relative path resolves against the repaired cwd.
    expect(ctx.fd?.name).toBe(join(dir, "rel.txt"));
    const metric = (name: string) => t.metrics().find((m) => m.name === name)?.value;
    expect(metric("state_process_repairs_total")).toBe(1);
    expect(metric("state_process_misses_total")).toBe(1);
  });

  test("a failed exec changes no state: an unknown caller is repaired from /proc, a known one keeps its identity and cwd", () => {
    const t = tracker();
    const failed = (pid: number) =>
      execEvent(pid, { res: -2, comm: "sleep", filename: "/nonexistent/prog", args: [], cwd: "/elsewhere" });
    // Unknown: its fields come from /proc (libsinsp looks an unknown thread up there too).
    const ctx = t.apply(failed(sleeper.pid));
    expect(ctx.process).toMatchObject({ comm: "sleep", cwd: dir, args: ["60", "61"] });
    expect(t.metrics().find((m) => m.name === "state_process_repairs_total")?.value).toBe(1);
    // Known: the record's filename, empty argv and cwd change nothing.
    const again = t.apply(failed(sleeper.pid));
    expect(again.process).toMatchObject({ comm: "sleep", cwd: dir, args: ["60", "61"] });
    expect(again.process?.exepath).not.toBe("/nonexistent/prog");
  });

  test("repairs are rate limited; the denied ones are counted", () => {
    let now = 0n;
    const t = tracker({ repairRate: 1, repairBurst: 1, clock: () => now });
    const openBy = (pid: number) => openEvent(pid, "/x");
    expect(t.apply(openBy(process.pid)).process?.pid).toBe(process.pid);
    // The bucket is empty: the sleeper is not read.
    expect(t.apply(openBy(sleeper.pid)).process).toBeUndefined();
    const metric = (name: string) => t.metrics().find((m) => m.name === name)?.value;
    expect(metric("state_process_repairs_denied_total")).toBe(1);
    // A second later there is a token again.
    now += 1_000_000_000n;
    expect(t.apply(openBy(sleeper.pid)).process?.comm).toBe("sleep");
  });

  test("without a host root the tracker reads nothing of the host", () => {
    const t = new StateTracker({
      processCapacity: 16,
      users: new UserTable(),
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    expect(t.seedFromProc().processes).toBe(0);
    expect(t.procRoot).toBeUndefined();
  });
});

describe("seedFromProc on a host root laid out by hand", () => {
  const root = join(dir, "host");
  beforeAll(() => {
    const proc = join(root, "proc");
    const fake = (
      pid: number,
      stat: string,
      files: Record<string, string>,
      links: Record<string, string> = {},
    ) => {
      mkdirSync(join(proc, String(pid), "fd"), { recursive: true });
      writeFileSync(join(proc, String(pid), "stat"), stat);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(proc, String(pid), name), text);
      for (const [name, target] of Object.entries(links)) symlinkSync(target, join(proc, String(pid), name));
    };
    // comm with a space and a parenthesis; stat fields after the last ')'.
    // state ppid pgrp session tty_nr tpgid flags ... starttime (field 22) = 500 ticks.
    const after = (ppid: number, flags: number) =>
      `S ${ppid} 300 300 34816 -1 ${flags} 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0`;
    fake(
      300,
      `300 (we (ird) x) ${after(1, 0)}`,
      {
        status:
          "Name:\tx\nUid:\t1000\t1001\t1001\t1001\nGid:\t50\t51\t51\t51\nNSpid:\t300\t7\nNSpgid:\t300\t7\nCapInh:\t0000000000000000\nCapPrm:\t0000000000200000\nCapEff:\t0000000000200000\n",
        cmdline: "/opt/app/bin\0--flag\0",
        loginuid: "4294967295",
        cgroup: `0::/\n4:memory:/kubepods/besteffort/pod1/${"c".repeat(64)}\n`,
        environ: "A=1\0B=2\0",
      },
      { exe: "/opt/app/bin (deleted)", cwd: "/srv" },
    );
    // The container's own passwd and group, seen through /proc/PID/root.
    mkdirSync(join(proc, "300", "root", "etc"), { recursive: true });
    writeFileSync(join(proc, "300", "root", "etc", "passwd"), "appuser:x:1001:51::/app:/bin/false\n");
    writeFileSync(join(proc, "300", "root", "etc", "group"), "appgroup:x:51:\n");
    // A kernel thread (PF_KTHREAD): not tracked.
    fake(2, `2 (kthreadd) ${after(0, 0x00200000)}`, { status: "", cmdline: "" });
    mkdirSync(join(root, "etc"), { recursive: true });
  });

  test("odd comm, deleted exe, unset loginuid, namespaced pid, v1 cgroup naming the container", () => {
    const t = tracker({ hostRoot: root });
    const report = t.seedFromProc();
    expect(report.processes).toBe(1);
    const p = t.processes.get(300);
    expect(p).toMatchObject({
      comm: "we (ird) x",
      exe: "/opt/app/bin",
      exepath: "/opt/app/bin",
      args: ["--flag"],
      uid: 1001,
      gid: 51,
      loginuid: -1,
      vpid: 7,
      vpgid: 7,
      sid: 300,
      pgid: 300,
      tty: 34816,
      cwd: "/srv",
      env: ["A=1", "B=2"],
      containerId: "cccccccccccc",
      pidTsBootNs: 5e9,
    });
    expect(p?.capEffective).toBe(1n << 21n);
    expect(t.processes.get(2)).toBeUndefined();
    // In a container: user and group names from the container's files, as Falco reads them.
    const ctx = t.apply({
      kind: "openat",
      num: 1,
      bootSec: 9,
      bootNsec: 0,
      tid: 300,
      pid: 300,
      cut: 0,
      res: 3,
      dirfd: -100,
      path: "/x",
      flags: 0,
      mode: 0,
      resolve: 0,
    });
    expect(USER_FIELDS["user.name"](undefined)(ctx)).toBe("appuser");
    expect(USER_FIELDS["user.homedir"](undefined)(ctx)).toBe("/app");
    expect(USER_FIELDS["group.name"](undefined)(ctx)).toBe("appgroup");
    expect(t.metrics().find((m) => m.name === "state_container_user_tables_total")?.value).toBe(1);
  });
});

describe("fds the table does not know", () => {
  test("a read of an fd the table does not know is repaired from /proc once; such reads share the repair budget", () => {
    let now = 0n;
    const t = tracker({ repairRate: 1, repairBurst: 2, clock: () => now });
    const sys = (fd: number) =>
      ({
        kind: "read",
        num: 1,
        bootSec: 1,
        bootNsec: 0,
        tid: sleeper.pid,
        pid: sleeper.pid,
        cut: 0,
        res: 1,
        fd,
        size: 1,
      }) as unknown as Event;
    // The first event repairs the process (one token) with its fds; forget two of them, as if
    // the table had dropped them.
    t.apply(sys(1));
    const fds = t.processes.get(sleeper.pid)?.fds;
    fds?.delete(7);
    fds?.delete(8);
    expect(t.apply(sys(7)).fd?.name).toBe(join(dir, "held.txt"));
    expect(t.metrics().find((m) => m.name === "state_fd_repairs_total")?.value).toBe(1);
    // Known again: no token needed.
    expect(t.apply(sys(7)).fd?.name).toBe(join(dir, "held.txt"));
    // The bucket is empty: fd 8 is not read.
    expect(t.apply(sys(8)).fd).toBeUndefined();
    now += 2_000_000_000n;
    expect(t.apply(sys(8)).fd?.name).toBe(join(dir, "out.log"));
  });
});

describe("bounded /proc reads", () => {
  test("readBounded returns at most the bound, and undefined for a missing file", () => {
    const big = join(dir, "big.txt");
    writeFileSync(big, "x".repeat(100_000));
    expect(readBounded(big, 4096)?.length).toBe(4096);
    expect(readBounded(join(dir, "missing"), 10)).toBeUndefined();
  });
});

describe("seeding in steps", () => {
  test("gives the same processes as the one-go seed, and lets the event loop run in between", async () => {
    const t = tracker();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const report = await t.seedFromProcInSteps(4);
    clearInterval(timer);
    expect(report.processes).toBeGreaterThan(4);
    expect(t.processes.get(sleeper.pid)?.comm).toBe("sleep");
    expect(ticks).toBeGreaterThan(0);
    expect(tracker().seedFromProc().processes).toBeGreaterThanOrEqual(report.processes - 5);
  });
});
