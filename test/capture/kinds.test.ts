// Table-driven from the event table: for every syscall kind, the helper (syscalls.c) makes one call
// that succeeds and one that fails, and the decoded events carry the expected parameters.
// Needs root, BTF and Linux 5.8+; prints why and skips otherwise.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LiveProbe, openLiveProbe } from "../../agent/capture/probe.ts";
import { ALL_KINDS } from "../../agent/capture/selection.ts";
import { RecordDecoder } from "../../agent/events/decode.ts";
import { EVENT_TABLE } from "../../agent/events/table.ts";
import type { Event } from "../../agent/events/types.ts";
import { LIVE_SETUP_MS, LIVE_TEST_MS, liveUnavailable, waitFor } from "./live-support.ts";

const [EPERM, ENOENT, ESRCH, EBADF, EFAULT, EEXIST, EINVAL] = [1, 2, 3, 9, 14, 17, 22];
const EPROTONOSUPPORT = 93;
const EOPNOTSUPP = 95;
const AT_FDCWD = -100;
const O_CLOEXEC = 0o2000000;
const BAD_FD = 0x7fff;
const NO_PID = 0x3fffffff;
const LOOPBACK = "127.0.0.1";

/** What the helper printed (name=value), the directory it worked in, its pid. */
interface Run {
  v: Record<string, number>;
  dir: string;
  pid: number;
}
type Partial = Record<string, unknown>;

const ownCapEff = Number.parseInt(
  readFileSync("/proc/self/status", "utf8").match(/^CapEff:\s*(\w+)/m)![1],
  16,
);
const tcp = (src: [string, number], dst: [string, number]) =>
  expect.objectContaining({
    family: 2,
    srcIp: src[0],
    srcPort: src[1],
    dstIp: dst[0],
    dstPort: dst[1],
    path: "",
  });

/** Per kind, the events its helper run must produce (each matched by at least one event). Kinds
 * missing here are covered elsewhere (exec and open: live.test.ts) or listed in NOT_DRIVEN. */
const EXPECT: Record<string, (r: Run) => Partial[]> = {
  creat: (r) => [
    { res: r.v.fd, name: `${r.dir}/f`, mode: 0o640 },
    { res: -ENOENT, name: `${r.dir}/missing/f` },
  ],
  close: (r) => [
    { res: 0, fd: r.v.fd },
    { res: -EBADF, fd: r.v.fd },
  ],
  close_range: (r) => [
    { res: 0, first: r.v.first, last: r.v.last, flags: 4 },
    { res: 0, first: r.v.first, last: r.v.last, flags: 0 },
    { res: -EINVAL, first: r.v.last, last: r.v.first, flags: 0 },
  ],
  socket: (r) => [
    { res: r.v.fd, domain: 10, type: 2, proto: 0 },
    { res: -EPROTONOSUPPORT, domain: 2, type: 1, proto: 99 },
  ],
  socketpair: (r) => [
    { res: 0, domain: 1, type: 1, fd1: r.v.fd1, fd2: r.v.fd2 },
    { res: -EOPNOTSUPP, domain: 2, fd1: -1, fd2: -1 },
  ],
  connect: (r) => [
    {
      res: 0,
      fd: r.v.fd,
      tuple: tcp([LOOPBACK, r.v.localport], [LOOPBACK, r.v.port]),
      addr: { family: 2, addr: LOOPBACK, port: r.v.port },
    },
    {
      res: -ENOENT,
      fd: r.v.ufd,
      tuple: { family: 1, srcIp: "", srcPort: 0, dstIp: "", dstPort: 0, path: "" },
      addr: { family: 1, addr: `${r.dir}/nobody.sock`, port: 0 },
    },
    {
      res: 0,
      fd: r.v.ufd2,
      tuple: { family: 1, srcIp: "", srcPort: 0, dstIp: "", dstPort: 0, path: `${r.dir}/srv.sock` },
      addr: { family: 1, addr: `${r.dir}/srv.sock`, port: 0 },
    },
  ],
  accept: (r) => [
    { res: r.v.fd, tuple: tcp([LOOPBACK, r.v.clientport], [LOOPBACK, r.v.port]) },
    { res: -EBADF, tuple: null },
  ],
  accept4: (r) => [
    { res: r.v.fd, flags: O_CLOEXEC, tuple: tcp([LOOPBACK, r.v.clientport], [LOOPBACK, r.v.port]) },
    { res: -EBADF, tuple: null, flags: 0 },
  ],
  bind: (r) => [
    { res: 0, fd: r.v.fd, addr: { family: 1, addr: `${r.dir}/b.sock`, port: 0 } },
    { res: -EBADF, fd: BAD_FD },
  ],
  listen: (r) => [
    { res: 0, fd: r.v.fd, backlog: 7 },
    { res: -EBADF, fd: BAD_FD, backlog: 7 },
  ],
  sendto: (r) => [
    { res: 5, fd: r.v.fd, size: 5, tuple: expect.objectContaining({ family: 2, dstPort: r.v.port }) },
    { res: -EBADF, fd: BAD_FD, tuple: null },
  ],
  sendmsg: (r) => [
    { res: 5, fd: r.v.fd, tuple: expect.objectContaining({ family: 2, dstPort: r.v.port }) },
    { res: -EBADF, fd: BAD_FD, tuple: null },
  ],
  // Inbound: the peer (the client) is the source, this end (the server port) the destination.
  recvfrom: (r) => [
    { res: 5, fd: r.v.fd, size: 16, tuple: expect.objectContaining({ family: 2, dstPort: r.v.port }) },
    { res: -EBADF, fd: BAD_FD },
  ],
  recvmsg: (r) => [
    { res: 5, fd: r.v.fd, tuple: expect.objectContaining({ family: 2, dstPort: r.v.port }) },
    { res: -EBADF, fd: BAD_FD },
  ],
  dup: (r) => [
    { res: r.v.fd, oldfd: 1 },
    { res: -EBADF, oldfd: BAD_FD },
  ],
  dup2: () => [
    { res: 50, oldfd: 1, newfd: 50 },
    { res: -EBADF, oldfd: BAD_FD, newfd: 50 },
  ],
  dup3: () => [
    { res: 51, oldfd: 1, newfd: 51, flags: O_CLOEXEC },
    { res: -EINVAL, oldfd: 1, newfd: 1, flags: 0 },
  ],
  fcntl: (r) => [
    { res: r.v.fd, fd: 1, cmd: 1030 },
    { res: -EBADF, fd: BAD_FD, cmd: 0 },
  ],
  pipe: (r) => [
    { res: 0, fd1: r.v.fd1, fd2: r.v.fd2 },
    { res: -EFAULT, fd1: -1, fd2: -1 },
  ],
  pipe2: (r) => [
    { res: 0, fd1: r.v.fd1, fd2: r.v.fd2, flags: O_CLOEXEC },
    { res: -EINVAL, fd1: -1, fd2: -1, flags: 0x7fffffff },
  ],
  symlink: (r) => [
    { res: 0, target: "/etc/shadow", linkpath: `${r.dir}/l` },
    { res: -EEXIST, target: "/etc/shadow", linkpath: `${r.dir}/l` },
  ],
  symlinkat: (r) => [
    { res: 0, target: "/etc/shadow", linkdirfd: AT_FDCWD, linkpath: `${r.dir}/l` },
    { res: -EEXIST, linkpath: `${r.dir}/l` },
  ],
  link: (r) => [
    { res: 0, oldpath: `${r.dir}/a`, newpath: `${r.dir}/b` },
    { res: -EEXIST, oldpath: `${r.dir}/a` },
  ],
  linkat: (r) => [
    { res: 0, olddir: AT_FDCWD, oldpath: `${r.dir}/a`, newdir: AT_FDCWD, newpath: `${r.dir}/b`, flags: 0 },
    { res: -EEXIST, newpath: `${r.dir}/b` },
  ],
  unlink: (r) => [
    { res: 0, path: `${r.dir}/a` },
    { res: -ENOENT, path: `${r.dir}/a` },
  ],
  unlinkat: (r) => [
    { res: 0, dirfd: AT_FDCWD, name: `${r.dir}/d`, flags: 0x200 },
    { res: -ENOENT, name: `${r.dir}/d` },
  ],
  rename: (r) => [
    { res: 0, oldpath: `${r.dir}/a`, newpath: `${r.dir}/b` },
    { res: -ENOENT, oldpath: `${r.dir}/a` },
  ],
  renameat: (r) => [
    { res: 0, olddirfd: AT_FDCWD, oldpath: `${r.dir}/a`, newdirfd: AT_FDCWD, newpath: `${r.dir}/b` },
    { res: -ENOENT, oldpath: `${r.dir}/a` },
  ],
  renameat2: (r) => [
    { res: 0, oldpath: `${r.dir}/a`, newpath: `${r.dir}/b`, flags: 1 },
    { res: -ENOENT, flags: 1 },
  ],
  mkdir: (r) => [
    { res: 0, path: `${r.dir}/d`, mode: 0o751 },
    { res: -EEXIST, path: `${r.dir}/d` },
  ],
  mkdirat: (r) => [
    { res: 0, dirfd: AT_FDCWD, path: `${r.dir}/d`, mode: 0o751 },
    { res: -EEXIST, path: `${r.dir}/d` },
  ],
  rmdir: (r) => [
    { res: 0, path: `${r.dir}/d` },
    { res: -ENOENT, path: `${r.dir}/d` },
  ],
  chmod: (r) => [
    { res: 0, filename: `${r.dir}/a`, mode: 0o4755 },
    { res: -ENOENT, filename: `${r.dir}/missing`, mode: 0o644 },
  ],
  fchmod: (r) => [
    { res: 0, fd: r.v.fd, mode: 0o604 },
    { res: -EBADF, fd: BAD_FD },
  ],
  fchmodat: (r) => [
    { res: 0, dirfd: AT_FDCWD, filename: `${r.dir}/a`, mode: 0o640 },
    { res: -ENOENT, filename: `${r.dir}/missing` },
  ],
  chown: (r) => [
    { res: 0, path: `${r.dir}/a`, uid: 1, gid: 2 },
    { res: -ENOENT, path: `${r.dir}/missing` },
  ],
  lchown: (r) => [
    { res: 0, path: `${r.dir}/l`, uid: 1, gid: 2 },
    { res: -ENOENT, path: `${r.dir}/missing` },
  ],
  fchown: (r) => [
    { res: 0, fd: r.v.fd, uid: 1, gid: 2 },
    { res: -EBADF, fd: BAD_FD },
  ],
  fchownat: (r) => [
    { res: 0, dirfd: AT_FDCWD, pathname: `${r.dir}/l`, uid: 1, gid: 2, flags: 0x100 },
    { res: -ENOENT, pathname: `${r.dir}/missing`, flags: 0 },
  ],
  chdir: (r) => [
    { res: 0, path: r.dir },
    { res: -ENOENT, path: `${r.dir}/missing` },
  ],
  fchdir: (r) => [
    { res: 0, fd: r.v.fd },
    { res: -EBADF, fd: BAD_FD },
  ],
  setuid: (r) => [
    { pid: r.v.child, res: 0, uid: 1234 },
    { pid: r.v.child, res: -EPERM, uid: 0 },
  ],
  setgid: (r) => [
    { pid: r.v.child, res: 0, gid: 1234 },
    { pid: r.v.child, res: -EPERM, gid: 0 },
  ],
  setreuid: (r) => [
    { pid: r.v.child, res: 0, ruid: 1234, euid: 1235 },
    { pid: r.v.child, res: -EPERM, ruid: 0, euid: 0 },
  ],
  setregid: (r) => [
    { pid: r.v.child, res: 0, rgid: 1234, egid: 1235 },
    { pid: r.v.child, res: -EPERM, rgid: 0, egid: 0 },
  ],
  setresuid: (r) => [
    { pid: r.v.child, res: 0, ruid: 1234, euid: 1235, suid: 1236 },
    { pid: r.v.child, res: -EPERM, ruid: 0 },
  ],
  setresgid: (r) => [
    { pid: r.v.child, res: 0, rgid: 1234, egid: 1235, sgid: 1236 },
    { pid: r.v.child, res: -EPERM, rgid: 0 },
  ],
  ptrace: (r) => [
    { pid: r.pid, res: 0, request: 16, targetPid: r.v.child },
    { pid: r.pid, res: -ESRCH, request: 16, targetPid: NO_PID },
  ],
  mount: (r) => [
    { res: 0, dev: "lanner-test", dir: `${r.dir}/m`, type: "tmpfs", flags: 2 },
    { res: -ENOENT, dir: `${r.dir}/missing`, flags: 0 },
  ],
  umount2: (r) => [
    { res: 0, name: `${r.dir}/m`, flags: 2 },
    { res: -EINVAL, name: `${r.dir}/m`, flags: 0 },
  ],
  setns: (r) => [
    { res: 0, fd: r.v.fd, nstype: 0x40000000 },
    { res: -EBADF, fd: BAD_FD, nstype: 0 },
  ],
  unshare: () => [
    { res: 0, flags: 0x04000000 },
    { res: -EINVAL, flags: 1 },
  ],
  bpf: () => [{ res: -EINVAL, cmd: 0x7ff }],
  init_module: (r) => [{ res: -r.v.errno, length: 64, uargs: "lanner=1" }],
  finit_module: (r) => [{ res: -r.v.errno, fd: BAD_FD, uargs: "lanner=1", flags: 0 }],
  memfd_create: (r) => [
    { res: r.v.fd, name: "lanner-memfd", flags: 1 },
    { res: -EINVAL, flags: 0x7fff0000 },
  ],
  userfaultfd: (r) => [
    { res: r.v.fd, flags: O_CLOEXEC },
    { res: -EINVAL, flags: 0x7fff0000 },
  ],
  prctl: () => [
    { res: 0, option: 15 },
    { res: -EINVAL, option: 0x7fff },
  ],
  kill: (r) => [
    { res: 0, targetPid: r.v.child, sig: 9 },
    { res: -ESRCH, targetPid: NO_PID, sig: 15 },
  ],
  tkill: (r) => [
    { res: 0, targetTid: r.pid, sig: 0 },
    { res: -ESRCH, targetTid: NO_PID },
  ],
  tgkill: (r) => [
    { res: 0, targetPid: r.pid, targetTid: r.pid, sig: 0 },
    { res: -ESRCH, targetTid: NO_PID },
  ],
  clone: (r) => [
    { pid: r.pid, res: r.v.child, flags: 17 },
    { pid: r.v.child, res: 0 },
    { pid: r.pid, res: -EINVAL, flags: 0x800 },
  ],
  // The children report the flags their parent passed (CLONE_CLEAR_SIGHAND; CLONE_VM for the one
  // sharing the parent's memory, whose struct the parent wiped as soon as clone3 returned).
  clone3: (r) => [
    { pid: r.pid, res: r.v.child, flags: 2 ** 32 },
    { pid: r.v.child, res: 0, flags: 2 ** 32 },
    { pid: r.pid, res: -EINVAL, flags: 0x800 },
    { pid: r.pid, res: r.v.vmchild, flags: 0x100 },
    { pid: r.v.vmchild, res: 0, flags: 0x100 },
  ],
  fork: (r) => [
    { pid: r.pid, res: r.v.child },
    { pid: r.v.child, res: 0 },
  ],
  vfork: (r) => [
    { pid: r.pid, res: r.v.child },
    { pid: r.v.child, res: 0 },
  ],
  capset: () => [
    { res: 0, cap_effective: ownCapEff - (ownCapEff & (1 << 13)) },
    { res: -EINVAL, cap_effective: ownCapEff - (ownCapEff & (1 << 13)) },
  ],
  read: (r) => [
    { fd: r.v.fd, size: 7 },
    { res: -EBADF, fd: BAD_FD, size: 7 },
  ],
  write: (r) => [
    { res: 3, fd: r.v.fd, size: 3 },
    { res: -EBADF, fd: BAD_FD },
  ],
  pread: (r) => [
    { fd: r.v.fd, size: 7, pos: 1 },
    { res: -EBADF, fd: BAD_FD, pos: 1 },
  ],
  pwrite: (r) => [
    { res: 3, fd: r.v.fd, size: 3, pos: 2 },
    { res: -EBADF, fd: BAD_FD, pos: 2 },
  ],
  readv: (r) => [{ fd: r.v.fd }, { res: -EBADF, fd: BAD_FD }],
  writev: (r) => [
    { res: 3, fd: r.v.fd },
    { res: -EBADF, fd: BAD_FD },
  ],
};

/** Kinds with their own live tests, and why. */
const NOT_DRIVEN: Record<string, string> = {
  execve: "live.test.ts",
  execveat: "live.test.ts",
  open: "live.test.ts",
  openat: "live.test.ts",
  openat2: "live.test.ts",
  procexit: "live.test.ts (tracepoint)",
  procfork: "live.test.ts (tracepoint)",
};

test("every kind of the event table has a live expectation or a stated reason", () => {
  for (const k of EVENT_TABLE) expect(k.name in EXPECT || k.name in NOT_DRIVEN).toBe(true);
});

describe.skipIf(liveUnavailable !== null)("every syscall kind, live", () => {
  let dir = "";
  let helper = "";
  let probe: LiveProbe;
  const events: Event[] = [];
  const errors: Error[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lanner-kinds-"));
    helper = join(dir, "syscalls");
    const cc = Bun.which("clang") ?? Bun.which("cc");
    if (cc === null) throw new Error("the kinds test needs a C compiler for its syscall helper");
    const built = Bun.spawnSync([cc, "-O1", "-o", helper, join(import.meta.dir, "syscalls.c")]);
    if (built.exitCode !== 0) throw new Error(`compiling syscalls.c failed: ${built.stderr.toString()}`);
    probe = openLiveProbe({
      ringBytes: 32 << 20,
      drainIntervalMs: 10,
      batchBytes: 1 << 20,
      selection: ALL_KINDS,
    });
    const decoder = new RecordDecoder();
    probe.start((frames, count) =>
      decoder.decodeFrames(
        frames,
        count,
        (e) => {
          if (!pids.has(e.pid)) return;
          events.push(e);
          // The helper's children: their fork is recorded before they run.
          if (e.kind === "procfork") pids.add(e.childPid);
        },
        (e) => errors.push(e),
      ),
    );
  }, LIVE_SETUP_MS);

  afterAll(() => {
    probe?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, LIVE_SETUP_MS);

  // Only the helpers' events are kept: the whole machine's reads and writes would be noise.
  const pids = new Set<number>();

  for (const [kind, expected] of Object.entries(EXPECT)) {
    test(
      kind,
      async () => {
        const work = mkdtempSync(join(dir, `${kind}-`));
        const child = Bun.spawn([helper, kind, work], { stdout: "pipe", stderr: "pipe" });
        pids.add(child.pid);
        const out = await new Response(child.stdout).text();
        const code = await child.exited;
        if (code !== 0)
          throw new Error(`helper ${kind} exited ${code}: ${await new Response(child.stderr).text()}`);
        const v: Record<string, number> = {};
        for (const [, name, value] of out.matchAll(/^(\w+)=(-?\d+)$/gm)) v[name] = Number(value);
        for (const c of [v.child, v.vmchild]) if (c !== undefined) pids.add(c);
        const run: Run = { v, dir: work, pid: child.pid };
        const wanted = expected(run);
        const mine = () =>
          events.filter(
            (e) => e.kind === kind && (e.pid === child.pid || e.pid === v.child || e.pid === v.vmchild),
          );
        const matches = (p: Partial) => mine().some((e) => Bun.deepMatch(p, e) || matchesAsym(e, p));
        await waitFor(() => (wanted.every(matches) ? true : undefined), 10_000);
        for (const p of wanted) expect(mine()).toContainEqual(expect.objectContaining({ kind, ...p }));
        if (kind === "fcntl") expect(mine().filter((e) => (e as { cmd: number }).cmd === 3)).toEqual([]);
      },
      LIVE_TEST_MS,
    );
  }

  test(
    "procfork says whether the new process shares its parent's fd table",
    async () => {
      const work = mkdtempSync(join(dir, "fork-shares-"));
      const child = Bun.spawn([helper, "fork_shares_fds", work], { stdout: "pipe", stderr: "pipe" });
      pids.add(child.pid);
      const out = await new Response(child.stdout).text();
      expect(await child.exited).toBe(0);
      const shared = Number(out.match(/^shared=(\d+)$/m)?.[1]);
      const forked = Number(out.match(/^child=(\d+)$/m)?.[1]);
      const fork = (childPid: number) =>
        events.find((e) => e.kind === "procfork" && e.pid === child.pid && e.childPid === childPid);
      await waitFor(() => (fork(shared) && fork(forked) ? true : undefined), 10_000);
      expect(fork(shared)).toMatchObject({ childTid: shared, sharesFds: 1 });
      expect(fork(forked)).toMatchObject({ childTid: forked, sharesFds: 0 });
    },
    LIVE_TEST_MS,
  );

  test(
    "no record was malformed or dropped",
    () => {
      expect(errors).toEqual([]);
      const c = probe.counters();
      expect(c.ringFull + c.tooBig).toBe(0);
    },
    LIVE_TEST_MS,
  );
});

/** toContainEqual with asymmetric matchers, as a boolean (for polling). */
function matchesAsym(e: Event, p: Partial): boolean {
  try {
    expect(e).toEqual(expect.objectContaining(p));
    return true;
  } catch {
    return false;
  }
}
