// The real capture path on this kernel: probe -> ring -> shim -> frames -> decoder -> events.
// Needs root (or CAP_BPF + CAP_PERFMON), BTF and Linux 5.8+; prints why and skips otherwise.
import { EVT_PARAMS } from "../../agent/events/kinds.gen.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOUNDS, EXEC_PARAM, OPEN_PARAM } from "../../agent/events/schema.ts";
import type { Event, ExecEvent, ExitEvent, ForkEvent, OpenEvent } from "../../agent/events/types.ts";
import {
  collectLive,
  isExec,
  LIVE_SETUP_MS,
  LIVE_TEST_MS,
  liveUnavailable,
  waitFor,
  waitForExec,
} from "./live-support.ts";

const O_CLOEXEC = 0o2000000;
const RESOLVE_NO_SYMLINKS = 0x04;
const ENOENT = 2;
const OPTIONS = { ringBytes: 4 << 20, drainIntervalMs: 10, batchBytes: 256 << 10 };

const isOpen = (e: Event): e is OpenEvent => e.kind === "open" || e.kind === "openat" || e.kind === "openat2";

/** A started probe whose decoded events accumulate in `events`. */
const capture = () => collectLive(OPTIONS);

/** The exec record's flags (native/lanner.bpf.c, docs/EVENTS.md). */
const [EXE_FROM_MEMFD, EXE_UPPER_LAYER, EXE_LOWER_LAYER, EXE_LAYER_READ] = [1, 2, 4, 8];

describe.skipIf(liveUnavailable !== null)("live capture", () => {
  let dir = "";
  let session: ReturnType<typeof capture>;
  let helper = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-live-"));
    // The helper makes open, openat2 and execveat, which Bun cannot make itself.
    helper = join(dir, "syscalls");
    const cc = Bun.which("clang") ?? Bun.which("cc");
    if (cc === null) throw new Error("live test needs a C compiler (clang or cc) for its syscall helper");
    const built = Bun.spawnSync([cc, "-O1", "-o", helper, join(import.meta.dir, "syscalls.c")]);
    if (built.exitCode !== 0) throw new Error(`compiling syscalls.c failed: ${built.stderr.toString()}`);
    session = capture();
  }, LIVE_SETUP_MS);

  afterAll(() => {
    session?.probe.stop();
    rmSync(dir, { recursive: true, force: true });
  }, LIVE_SETUP_MS);

  test(
    "openat from a child: pid, path, flags, res",
    async () => {
      const path = join(dir, `cat-me-${crypto.randomUUID()}`);
      writeFileSync(path, "hello\n");
      const child = Bun.spawnSync(["cat", path]);
      expect(child.stdout.toString()).toBe("hello\n");
      const e = await waitFor(
        () => session.events.find((x) => isOpen(x) && x.path === path) as OpenEvent | undefined,
      );
      expect(e).toBeDefined();
      expect(e).toMatchObject({
        kind: "openat",
        pid: child.pid,
        tid: child.pid,
        dirfd: -100,
        cut: 0,
        resolve: 0,
      });
      expect(e!.res).toBeGreaterThanOrEqual(0);
      expect(e!.flags & 3).toBe(0); // O_RDONLY
    },
    LIVE_TEST_MS,
  );

  test(
    "the creation mode is kept with O_CREAT",
    async () => {
      const path = join(dir, `created-${crypto.randomUUID()}`);
      // dash and bash open a redirect target with O_WRONLY|O_CREAT|O_TRUNC, mode 0666.
      const child = Bun.spawnSync(["sh", "-c", 'echo > "$1"', "sh", path]);
      expect(child.exitCode).toBe(0);
      const e = await waitFor(
        () => session.events.find((x) => isOpen(x) && x.path === path) as OpenEvent | undefined,
      );
      expect(e).toMatchObject({ kind: "openat", pid: child.pid, mode: 0o666 });
      expect(e!.flags & 0o1101).toBe(0o1101); // O_WRONLY | O_CREAT | O_TRUNC
    },
    LIVE_TEST_MS,
  );

  test(
    "open and openat2 from a child, and execveat",
    async () => {
      const path = join(dir, `two-opens-${crypto.randomUUID()}`);
      writeFileSync(path, "");
      const child = Bun.spawnSync([helper, path]);
      expect(child.exitCode).toBe(0);
      const opens = await waitFor(() => {
        const found = session.events.filter((x) => isOpen(x) && x.path === path) as OpenEvent[];
        return found.length >= 2 ? found : undefined;
      });
      expect(opens?.map((o) => o.kind)).toEqual(["open", "openat2"]);
      expect(opens![0]).toMatchObject({ pid: child.pid, dirfd: -100, flags: 0, mode: 0, resolve: 0 });
      expect(opens![1]).toMatchObject({
        pid: child.pid,
        dirfd: -100,
        flags: O_CLOEXEC,
        resolve: RESOLVE_NO_SYMLINKS,
      });
      expect(opens![1].res).toBeGreaterThanOrEqual(0);

      const exec = await waitForExec(session.events, child.pid, (x) => x.args[0] === "true-via-execveat");
      expect(exec).toMatchObject({
        kind: "execveat",
        res: 0,
        ppid: process.pid,
        args: ["true-via-execveat"],
      });
      expect((exec as ExecEvent).filename).toStartWith("/dev/fd/");
    },
    LIVE_TEST_MS,
  );

  test(
    "execve of /bin/true: comm, args, ppid, ids, cgroup, fork and exit",
    async () => {
      const child = Bun.spawnSync(["/bin/true", "--lanner-test"]);
      const exec = await waitForExec(session.events, child.pid);
      expect(exec).toMatchObject({
        kind: "execve",
        tid: child.pid,
        filename: "/bin/true",
        comm: "true",
        args: ["/bin/true", "--lanner-test"],
        ppid: process.pid,
        uid: process.geteuid!(),
        gid: process.getegid!(),
      });
      // Nothing is cut but, where this process's environment is over its bound (a CI runner's
      // can be), the env parameter.
      const envBit = 1 << EVT_PARAMS.execve.findIndex((p) => p.field === "env");
      expect(exec!.cut & ~envBit).toBe(0);
      // This process's v2 path (exec-cgroup.test.ts covers the v1 memory controller's).
      const ownCgroup = readFileSync("/proc/self/cgroup", "utf8").match(/^0::(.*)$/m)?.[1];
      if (ownCgroup !== undefined && ownCgroup !== "/") expect(exec!.cgroup).toBe(ownCgroup);

      const fork = await waitFor(
        () =>
          session.events.find((x) => x.kind === "procfork" && x.childPid === child.pid) as
            | ForkEvent
            | undefined,
      );
      expect(fork).toMatchObject({ pid: process.pid, childTid: child.pid });
      const exit = await waitFor(
        () =>
          session.events.find((x) => x.kind === "procexit" && x.pid === child.pid) as ExitEvent | undefined,
      );
      expect(exit).toMatchObject({ tid: child.pid, exitCode: 0 });
      expect(fork!.num).toBeLessThan(exec!.num);
      expect(exec!.num).toBeLessThan(exit!.num);

      // Boot time + the probe's clock offset is wall-clock time.
      const wall = exec!.bootSec + session.probe.clock.offsetSec;
      expect(Math.abs(wall - Date.now() / 1000)).toBeLessThan(30);
    },
    LIVE_TEST_MS,
  );

  test(
    "exec carries env, cwd, tty, loginuid, session, process group and capabilities",
    async () => {
      const work = mkdtempSync(join(dir, "cwd-"));
      const child = Bun.spawnSync(["cat", "/proc/self/stat", "/proc/self/status", "/proc/self/loginuid"], {
        cwd: work,
        env: { LANNER_MARK: "exec-extras", PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
      expect(child.exitCode).toBe(0);
      const out = child.stdout.toString();
      // /proc/PID/stat after the command name: state ppid pgrp session tty_nr ...
      const stat = out.slice(out.indexOf(")") + 2).split(" ");
      const exec = (await waitForExec(session.events, child.pid))!;
      expect(exec.env).toEqual([`LANNER_MARK=exec-extras`, `PATH=${process.env.PATH ?? "/usr/bin:/bin"}`]);
      expect(exec.cwd).toBe(realpathSync(work));
      expect(exec.pgid).toBe(Number(stat[2]));
      expect(exec.sid).toBe(Number(stat[3]));
      expect(exec.tty).toBe(Number(stat[4]));
      expect(exec.capEffective).toBe(Number.parseInt(out.match(/^CapEff:\s*(\w+)/m)![1], 16));
      expect(exec.loginuid).toBe(Number(out.trim().split("\n").at(-1)));
      // The layer was read (bit 3): not on overlayfs, not a memfd.
      expect(exec.exeFlags).toBe(EXE_LAYER_READ);
      expect(exec.cut).toBe(0);
    },
    LIVE_TEST_MS,
  );

  test(
    "an exec from a memfd is flagged",
    async () => {
      const child = Bun.spawnSync([helper, "exec-memfd"]);
      expect(child.exitCode).toBe(0);
      const exec = await waitForExec(session.events, child.pid, (x) => x.args[0] === "true-from-memfd");
      expect(exec).toMatchObject({ kind: "execveat", res: 0, exeFlags: EXE_FROM_MEMFD | EXE_LAYER_READ });
    },
    LIVE_TEST_MS,
  );

  test(
    "an exec from an overlay's upper layer and one from its lower layer are flagged as such",
    async () => {
      const base = mkdtempSync(join(dir, "overlay-"));
      for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(base, d));
      copyFileSync("/bin/true", join(base, "lower", "lower-true"));
      const merged = join(base, "merged");
      // A private mount namespace: the overlay goes away with the shell.
      const child = Bun.spawnSync([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        `mount -t overlay overlay -o lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work ${merged} && ` +
          `${merged}/lower-true && cp /bin/true ${merged}/upper-true && exec ${merged}/upper-true`,
      ]);
      expect(child.exitCode).toBe(0);
      const execOf = (name: string) =>
        waitFor(
          () =>
            session.events.find((x) => isExec(x) && x.res === 0 && x.filename === `${merged}/${name}`) as
              | ExecEvent
              | undefined,
        );
      expect((await execOf("lower-true"))?.exeFlags).toBe(EXE_LOWER_LAYER | EXE_LAYER_READ);
      expect((await execOf("upper-true"))?.exeFlags).toBe(EXE_UPPER_LAYER | EXE_LAYER_READ);
    },
    LIVE_TEST_MS,
  );

  test(
    "exit code as wait(2) encodes it",
    async () => {
      const child = Bun.spawnSync(["sh", "-c", "exit 3"]);
      const exit = await waitFor(
        () =>
          session.events.find((x) => x.kind === "procexit" && x.pid === child.pid) as ExitEvent | undefined,
      );
      expect(exit?.exitCode).toBe(3 << 8);
    },
    LIVE_TEST_MS,
  );

  test(
    "failed execve: res -ENOENT, the filename and the arguments as passed, the caller's cwd",
    async () => {
      const missing = `/nonexistent/lanner-${crypto.randomUUID()}`;
      const cwd = realpathSync(tmpdir());
      const child = Bun.spawnSync(["env", missing, "arg", "", "two words"], { cwd });
      expect(child.exitCode).toBe(127);
      const exec = await waitFor(() => session.events.find((x) => isExec(x) && x.filename === missing));
      // The caller stays what it was (a failed exec replaces nothing): its comm, its cwd. The
      // arguments are the attempted ones, read from the caller's argv array (an empty one too).
      expect(exec).toMatchObject({
        kind: "execve",
        res: -ENOENT,
        pid: child.pid,
        comm: "env",
        args: [missing, "arg", "", "two words"],
        cwd,
      });
      expect((exec as ExecEvent).cut & (1 << EXEC_PARAM.args)).toBe(0);
    },
    LIVE_TEST_MS,
  );

  test(
    "failed execve over the bounds: more than 64 arguments, or more than 4096 bytes, are cut and flagged",
    async () => {
      for (const extra of [
        Array.from({ length: 80 }, (_, i) => `a${i}`),
        Array.from({ length: 8 }, (_, i) => `${i}`.repeat(700)),
      ]) {
        const missing = `/nonexistent/lanner-${crypto.randomUUID()}`;
        Bun.spawnSync(["env", missing, ...extra]);
        const exec = (await waitFor(() => session.events.find((x) => isExec(x) && x.filename === missing))) as
          | ExecEvent
          | undefined;
        if (exec === undefined) throw new Error("no failed exec record");
        expect(exec.cut & (1 << EXEC_PARAM.args)).not.toBe(0);
        const all = [missing, ...extra];
        // What is kept is a prefix of the arguments: whole strings, then at most one cut short.
        expect(exec.args.length).toBeGreaterThan(1);
        expect(exec.args.length).toBeLessThanOrEqual(Math.min(all.length, BOUNDS.argvStrings));
        expect(exec.args.slice(0, -1)).toEqual(all.slice(0, exec.args.length - 1));
        expect(all[exec.args.length - 1].startsWith(exec.args.at(-1) as string)).toBe(true);
        const bytes = exec.args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
        expect(bytes).toBeLessThanOrEqual(BOUNDS.args);
      }
    },
    LIVE_TEST_MS,
  );

  test(
    "a path and an argv over their bounds are cut and flagged",
    async () => {
      const long = `/${crypto.randomUUID()}/${"p".repeat(5000)}`;
      const child = Bun.spawnSync(["cat", long]);
      expect(child.exitCode).not.toBe(0);
      const open = await waitFor(
        () =>
          session.events.find(
            (x) => isOpen(x) && x.pid === child.pid && x.path.startsWith(long.slice(0, 37)),
          ) as OpenEvent | undefined,
      );
      expect(open?.path).toBe(long.slice(0, BOUNDS.path));
      expect(open?.cut).toBe(1 << OPEN_PARAM.path);
      expect(open?.res).toBe(-36); // ENAMETOOLONG

      const arg = "a".repeat(3000);
      const exe = Bun.spawnSync(["/bin/true", arg, arg]);
      const exec = await waitForExec(session.events, exe.pid);
      // The args bit; the env bit too where this process's environment is over its bound.
      const envBit = 1 << EVT_PARAMS.execve.findIndex((p) => p.field === "env");
      expect((exec?.cut ?? 0) & ~envBit).toBe(1 << EXEC_PARAM.args);
      // 4096 bytes: "/bin/true" NUL, 3000 bytes NUL, then the start of the second argument.
      expect(exec?.args).toEqual(["/bin/true", arg, arg.slice(0, BOUNDS.args - 10 - 3001)]);
    },
    LIVE_TEST_MS,
  );

  test(
    "the agent's own opens produce no events",
    async () => {
      const path = join(dir, `own-${crypto.randomUUID()}`);
      writeFileSync(path, "x");
      readFileSync(path);
      // A child's open after ours: once it arrives, ours would have too.
      const marker = join(dir, `marker-${crypto.randomUUID()}`);
      writeFileSync(marker, "");
      Bun.spawnSync(["cat", marker]);
      expect(await waitFor(() => session.events.find((x) => isOpen(x) && x.path === marker))).toBeDefined();
      expect(session.events.find((x) => isOpen(x) && x.path === path)).toBeUndefined();
      expect(session.events.find((x) => isOpen(x) && x.pid === process.pid)).toBeUndefined();
    },
    LIVE_TEST_MS,
  );

  test(
    "counters move; nothing dropped, nothing malformed",
    () => {
      const c = session.probe.counters();
      expect(c.seen).toBeGreaterThan(0);
      expect(c.written).toBeGreaterThan(0);
      expect(c.written).toBeLessThanOrEqual(c.seen);
      expect(c.ringFull).toBe(0);
      expect(c.tooBig).toBe(0);
      expect(session.errors).toEqual([]);
      expect(session.decoder.stats.malformed).toBe(0);
    },
    LIVE_TEST_MS,
  );

  test(
    "stop drains the rest and is clean; a second probe opens",
    async () => {
      const before = session.events.length;
      const child = Bun.spawnSync(["/bin/true"]);
      session.probe.stop(); // no timer tick since the spawn: stop() itself must drain it
      expect(session.events.length).toBeGreaterThan(before);
      expect(session.events.some((x) => x.kind === "procexit" && x.pid === child.pid)).toBe(true);
      const final = session.probe.counters();
      expect(session.decoder.stats.decoded).toBe(final.written);
      session.probe.stop(); // idempotent
      expect(() => session.probe.start(() => {})).toThrow("the probe is stopped");

      const second = capture();
      try {
        const again = Bun.spawnSync(["/bin/true"]);
        const exec = await waitForExec(second.events, again.pid, () => true);
        expect(exec).toBeDefined();
      } finally {
        second.probe.stop();
      }
    },
    LIVE_TEST_MS,
  );
});
