// Facts about a process's executable (proc.is_exe_from_memfd, proc.is_exe_upper_layer,
// proc.is_exe_writable, proc.exe_ino*) and session/group/env/capability fields, read from real
// processes: a sleep executed from a memfd, from the upper layer of a real overlay mount (in a
// private mount namespace), from /dev/shm, and one in a new session.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { OpenEvent } from "../../agent/events/types.ts";
import type { EventContext } from "../../agent/state/context.ts";
import { deviceMajor } from "../../agent/state/proc-reader.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { execEvent } from "./events.ts";
import { readField as read } from "./read-field.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-exe-"));
const children: Subprocess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const SLEEP = Bun.which("sleep") ?? "/bin/sleep";

/** Starts argv and waits until the process runs `comm`; returns the pid of that process. */
async function start(
  argv: string[],
  comm: string,
  pidOf?: (parentPid: number) => number | undefined,
): Promise<number> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  children.push(child);
  for (let i = 0; i < 300; i++) {
    const pid = pidOf === undefined ? child.pid : pidOf(child.pid);
    if (pid !== undefined) {
      const c = await Bun.file(`/proc/${pid}/comm`)
        .text()
        .catch(() => "");
      if (c.trim() === comm) return pid;
    }
    await Bun.sleep(10);
  }
  throw new Error(`${argv.join(" ")} did not reach ${comm}`);
}

/** An open of /etc/hostname by `pid`. */
function openOf(pid: number): OpenEvent {
  return {
    kind: "openat",
    num: 1,
    bootSec: Math.floor(performance.timeOrigin / 1000),
    bootNsec: 0,
    tid: pid,
    pid,
    cut: 0,
    res: 3,
    dirfd: -100,
    path: "/etc/hostname",
    flags: 0,
    mode: 0,
    resolve: 0,
  };
}

/** The context of an event of `pid`, after seeding from the real /proc. */
/** A tracker seeded from this machine's /proc. */
function seededTracker(): StateTracker {
  const t = new StateTracker({
    processCapacity: 65_536,
    users: UserTable.load("/"),
    host: { hostname: "h", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
    hostRoot: "/",
  });
  t.seedFromProc();
  return t;
}

function contextOf(pid: number): EventContext {
  return seededTracker().apply(openOf(pid));
}

/** python3 that copies sleep into a memfd and executes it as fd 3 ("sleep 60", comm "3"). */
const MEMFD_SLEEP = `import os; fd = os.memfd_create("lanner-payload", 0); os.write(fd, open("${SLEEP}", "rb").read()); os.execv(f"/proc/self/fd/{fd}", ["sleep", "60"])`;

describe("where the executable came from", () => {
  test("a memfd: proc.is_exe_from_memfd, exepath /memfd:...", async () => {
    const pid = await start(["python3", "-c", MEMFD_SLEEP], "3");
    const ctx = contextOf(pid);
    expect(read(ctx, "proc.is_exe_from_memfd")).toBe(true);
    expect(String(read(ctx, "proc.exepath"))).toStartWith("/memfd:lanner-payload");
  });

  test("a memfd whose exec record says the probe looked and found no memfd: the record's word stands (no /proc read)", async () => {
    const pid = await start(["python3", "-c", MEMFD_SLEEP], "3");
    const t = seededTracker();
    expect(read(t.apply(openOf(pid)), "proc.is_exe_from_memfd")).toBe(true); // seeded: the exe link says
    const exec = (exeFlags: number | undefined) =>
      t.apply(
        execEvent(pid, {
          num: 2,
          ppid: process.pid,
          comm: "3",
          filename: "/proc/self/fd/3",
          args: ["sleep", "60"],
          exeFlags,
        }),
      );
    // Probe bits: 1 memfd, 8 the probe read the exe file.
    expect(read(exec(8), "proc.is_exe_from_memfd")).toBe(false);
    expect(read(exec(1 | 8), "proc.is_exe_from_memfd")).toBe(true);
    // A record without the flags (an older probe): the exe link decides again.
    expect(read(exec(undefined), "proc.is_exe_from_memfd")).toBe(true);
  });

  test("/dev/shm: a plain file, not memfd, not an overlay upper layer; inode and times readable", async () => {
    const copy = "/dev/shm/lanner-exe-test-sleep";
    copyFileSync(SLEEP, copy);
    try {
      const pid = await start([copy, "60"], "lanner-exe-test");
      const ctx = contextOf(pid);
      expect(read(ctx, "proc.exepath")).toBe(copy);
      expect(read(ctx, "proc.is_exe_from_memfd")).toBe(false);
      expect(read(ctx, "proc.is_exe_upper_layer")).toBe(false);
      expect(read(ctx, "proc.is_exe_lower_layer")).toBe(false);
      expect(read(ctx, "proc.is_exe_writable")).toBe(true);
      const st = statSync(copy, { bigint: true });
      expect(read(ctx, "proc.exe_ino")).toBe(Number(st.ino));
      expect(read(ctx, "proc.exe_ino.mtime")).toBe(st.mtimeNs);
    } finally {
      rmSync(copy, { force: true });
    }
  });

  test("a binary off overlay (tmpfs, the test's temp dir): neither overlay layer, as in Falco", async () => {
    const copy = join(dir, "plain-sleep");
    copyFileSync(SLEEP, copy);
    const pid = await start([copy, "60"], "plain-sleep");
    const ctx = contextOf(pid);
    expect(read(ctx, "proc.exepath")).toBe(copy);
    expect(read(ctx, "proc.is_exe_upper_layer")).toBe(false);
    expect(read(ctx, "proc.is_exe_lower_layer")).toBe(false);
    expect(read(ctx, "proc.is_exe_from_memfd")).toBe(false);
  });

  test("deviceMajor splits stat's device id as the kernel encodes it", () => {
    // /dev/null is character device 1:3; st_rdev carries its number, st_dev the fs it sits on.
    expect(deviceMajor(statSync("/dev/null", { bigint: true }).rdev)).toBe(1);
    expect(deviceMajor((259n << 8n) | 5n)).toBe(259);
    // glibc's makedev: major bits 0-11 at 8-19, bits 12 and up from bit 44; minor around them.
    const makedev = (major: bigint, minor: bigint) =>
      ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
    expect(deviceMajor(makedev(0x1234n, 0xabcdn))).toBe(0x1234);
    // /proc is on an anonymous device: major 0, like every overlay mount.
    expect(deviceMajor(statSync("/proc/self", { bigint: true }).dev)).toBe(0);
  });

  test("a binary written to an overlay's upper layer: proc.is_exe_upper_layer", async () => {
    const lower = join(dir, "lower");
    const upper = join(dir, "upper");
    const work = join(dir, "work");
    const merged = join(dir, "merged");
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    copyFileSync(SLEEP, join(lower, "lower-sleep"));
    const mount = `mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work} ${merged}`;
    // Copy in through the merged view: the file lands in the upper layer. Then exec it.
    const pid = await start(
      [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        `${mount} && cp ${SLEEP} ${merged}/upper-sleep && exec ${merged}/upper-sleep 60`,
      ],
      "upper-sleep",
    );
    expect(read(contextOf(pid), "proc.is_exe_upper_layer")).toBe(true);
    const lowerPid = await start(
      ["unshare", "-m", "--propagation", "private", "sh", "-c", `${mount} && exec ${merged}/lower-sleep 60`],
      "lower-sleep",
    );
    const ctx = contextOf(lowerPid);
    expect(read(ctx, "proc.is_exe_upper_layer")).toBe(false);
    expect(read(ctx, "proc.is_exe_lower_layer")).toBe(true);
  });
});

describe("session, group, env, capabilities", () => {
  test("setsid makes a session and group leader; env and caps read as Falco shows them", async () => {
    const child = Bun.spawn(["setsid", "sleep", "60"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      env: { LANNER_ENV_PROBE: "yes", PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    children.push(child);
    let pid = child.pid;
    for (let i = 0; i < 200; i++) {
      if (
        (
          await Bun.file(`/proc/${pid}/comm`)
            .text()
            .catch(() => "")
        ).trim() === "sleep"
      )
        break;
      await Bun.sleep(10);
    }
    pid = child.pid;
    const ctx = contextOf(pid);
    expect(read(ctx, "proc.is_sid_leader")).toBe(true);
    expect(read(ctx, "proc.is_vpgid_leader")).toBe(true);
    expect(read(ctx, "proc.sid")).toBe(pid);
    expect(read(ctx, "proc.vpgid.name")).toBe("sleep");
    expect(read(ctx, "proc.sname")).toBe("sleep");
    expect(read(ctx, "proc.env[LANNER_ENV_PROBE]")).toBe("yes");
    expect(String(read(ctx, "proc.env"))).toContain("LANNER_ENV_PROBE=yes");
    expect(read(ctx, "proc.tty")).toBe(0);
    expect(String(read(ctx, "thread.cap_effective"))).toContain("CAP_SYS_ADMIN");
    expect(String(read(ctx, "thread.cap_permitted"))).toContain("CAP_CHOWN");
    expect(read(ctx, "thread.cap_inheritable")).toBe("");
    // Started before the tracker: its start time is in the past.
    expect(Number(read(ctx, "proc.pid.ts"))).toBeGreaterThan(0);
    expect(read(ctx, "proc.pname")).toBeDefined();
  });
});
