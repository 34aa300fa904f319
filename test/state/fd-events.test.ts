// The fd table (agent/state/fd-events.ts, fds.ts) driven by records named as Falco names events
// and parameters: socket/connect/accept/bind/listen, dup family, fcntl, pipe, close, chdir, exec
// close-on-exec, clone with and without CLONE_FILES, and the caps per process and in total.
// Kinds the probe does not deliver yet are built here in the shape the decoder will produce.

import { describe, expect, test } from "bun:test";
import type { Event, ExecEvent, ForkEvent, OpenEvent } from "../../agent/events/types.ts";
import { parseEndpoint, parseTuple } from "../../agent/state/fd-events.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { readField as read } from "./read-field.ts";

let n = 0;
const head = (pid: number) => ({ num: ++n, bootSec: 5, bootNsec: 0, tid: pid, pid, cut: 0 });

function tracker(over: { fdsPerProcess?: number; fdsTotal?: number } = {}): StateTracker {
  return new StateTracker({
    processCapacity: 64,
    users: new UserTable(),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => undefined, fdPath: () => undefined },
    ...over,
  });
}

function exec(pid: number, cwd?: string): ExecEvent {
  return {
    ...head(pid),
    kind: "execve",
    res: 0,
    ppid: 1,
    uid: 0,
    gid: 0,
    comm: "app",
    filename: "/bin/app",
    args: ["app"],
    cgroup: "/",
    ...(cwd === undefined ? {} : { cwd }),
  } as ExecEvent;
}

function open(pid: number, path: string, res: number, extra: Partial<OpenEvent> = {}): OpenEvent {
  return { ...head(pid), kind: "openat", res, dirfd: -100, path, flags: 0, mode: 0, resolve: 0, ...extra };
}

/** A record of a kind the capture will add, with Falco's parameter names. */
function sys(pid: number, kind: string, params: Record<string, unknown>): Event {
  return { ...head(pid), kind, ...params } as unknown as Event;
}

describe("sockets", () => {
  test("socket + connect over TCP to 127.0.0.1: tuple fields from the client's side", () => {
    const t = tracker();
    t.apply(exec(10));
    t.apply(sys(10, "socket", { fd: 3, domain: 2, type: 1, proto: 0 }));
    const ctx = t.apply(sys(10, "connect", { res: 0, fd: 3, tuple: "127.0.0.1:40000->127.0.0.1:8080" }));
    expect(read(ctx, "fd.name")).toBe("127.0.0.1:40000->127.0.0.1:8080");
    expect(read(ctx, "fd.type")).toBe("ipv4");
    expect(read(ctx, "fd.typechar")).toBe("4");
    expect(read(ctx, "fd.l4proto")).toBe("tcp");
    expect(read(ctx, "fd.sockfamily")).toBe("ip");
    expect(read(ctx, "fd.is_server")).toBe(false);
    expect(read(ctx, "fd.cip")).toBe("127.0.0.1");
    expect(read(ctx, "fd.cport")).toBe(40000);
    expect(read(ctx, "fd.sip")).toBe("127.0.0.1");
    expect(read(ctx, "fd.sport")).toBe(8080);
    expect(read(ctx, "fd.lport")).toBe(40000);
    expect(read(ctx, "fd.rport")).toBe(8080);
    expect(read(ctx, "fd.rip")).toBe("127.0.0.1");
    expect(read(ctx, "fd.num")).toBe(3);
  });

  test("listen + accept on the server: is_server, server = local end, name still client->server", () => {
    const t = tracker();
    t.apply(exec(20));
    t.apply(sys(20, "socket", { fd: 3, domain: 10, type: 1 }));
    t.apply(sys(20, "bind", { res: 0, fd: 3, addr: "::1:8080" }));
    const listening = t.apply(sys(20, "listen", { res: 0, fd: 3, backlog: 5 }));
    expect(read(listening, "fd.name")).toBe("::1:8080");
    expect(read(listening, "fd.is_server")).toBe(true);
    const ctx = t.apply(sys(20, "accept4", { fd: 4, tuple: "::1:51000->::1:8080", flags: 0 }));
    expect(read(ctx, "fd.type")).toBe("ipv6");
    expect(read(ctx, "fd.name")).toBe("::1:51000->::1:8080");
    expect(read(ctx, "fd.is_server")).toBe(true);
    expect(read(ctx, "fd.sport")).toBe(8080);
    expect(read(ctx, "fd.cport")).toBe(51000);
    expect(read(ctx, "fd.lport")).toBe(8080);
    expect(read(ctx, "fd.rport")).toBe(51000);
  });

  test("fd.net / fd.snet / fd.ip compare either end and networks", () => {
    const t = tracker();
    t.apply(exec(30));
    t.apply(sys(30, "socket", { fd: 5, domain: 2, type: 2 }));
    const ctx = t.apply(sys(30, "connect", { res: 0, fd: 5, tuple: "10.0.0.2:5353->8.8.8.8:53" }));
    expect(read(ctx, "fd.l4proto")).toBe("udp");
    expect(read(ctx, "fd.ip")).toEqual(["10.0.0.2", "8.8.8.8"]);
    expect(read(ctx, "fd.snet")).toBe("8.8.8.8");
    expect(read(ctx, "fd.port")).toEqual([5353, 53]);
  });

  test("dup2 of a socket onto stdin makes fd 0 that socket", () => {
    const t = tracker();
    t.apply(exec(40));
    t.apply(sys(40, "socket", { fd: 3, domain: 2, type: 1 }));
    t.apply(sys(40, "connect", { res: 0, fd: 3, tuple: "10.1.1.1:1234->10.2.2.2:4444" }));
    const ctx = t.apply(sys(40, "dup2", { res: 0, oldfd: 3, newfd: 0 }));
    expect(read(ctx, "fd.num")).toBe(0);
    expect(read(ctx, "fd.type")).toBe("ipv4");
    expect(read(ctx, "fd.name")).toBe("10.1.1.1:1234->10.2.2.2:4444");
    expect(t.processes.get(40)?.fds.get(0)?.socket?.remotePort).toBe(4444);
  });

  test("unix socket connect names the path", () => {
    const t = tracker();
    t.apply(exec(41));
    t.apply(sys(41, "socket", { fd: 3, domain: 1, type: 1 }));
    const ctx = t.apply(sys(41, "connect", { res: 0, fd: 3, tuple: "ffff0001->ffff0002 /run/docker.sock" }));
    expect(read(ctx, "fd.type")).toBe("unix");
    expect(read(ctx, "fd.name")).toBe("/run/docker.sock");
    expect(read(ctx, "fd.sockfamily")).toBe("unix");
  });
});

describe("file fds: dup, fcntl, pipe, close, chdir, exec, clone", () => {
  test("chdir then a relative openat resolves against the new cwd; openat with a dirfd against that dir", () => {
    const t = tracker();
    t.apply(exec(50, "/"));
    t.apply(sys(50, "chdir", { res: 0, path: "/var/log" }));
    expect(t.apply(open(50, "../lib/./x", 3)).fd?.name).toBe("/var/lib/x");
    t.apply(open(50, "/etc", 4, { flags: 0o200000 }));
    expect(t.apply(open(50, "passwd", 5, { dirfd: 4 })).fd?.name).toBe("/etc/passwd");
    t.apply(sys(50, "fchdir", { res: 0, fd: 4 }));
    expect(t.processes.get(50)?.cwd).toBe("/etc");
    const ctx = t.apply(open(50, "shadow", 6));
    expect(read(ctx, "fd.name")).toBe("/etc/shadow");
    expect(read(ctx, "proc.cwd")).toBe("/etc/");
  });

  test("close removes the fd (and the close event still sees it)", () => {
    const t = tracker();
    t.apply(exec(60));
    t.apply(open(60, "/tmp/a", 3));
    const ctx = t.apply(sys(60, "close", { res: 0, fd: 3 }));
    expect(ctx.fd?.name).toBe("/tmp/a");
    expect(t.processes.get(60)?.fds.get(3)).toBeUndefined();
  });

  test("close_range closes every fd in its range, or with CLOSE_RANGE_CLOEXEC marks them for the exec", () => {
    const t = tracker();
    t.apply(exec(62));
    for (const fd of [3, 4, 5, 9]) t.apply(open(62, `/tmp/r${fd}`, fd));
    const fds = () => [...(t.processes.get(62)?.fds.values() ?? [])].map((f) => f.num).sort((a, b) => a - b);
    // A failed call changes nothing.
    t.apply(sys(62, "close_range", { res: -22, first: 4, last: 5, flags: 0 }));
    expect(fds()).toEqual([3, 4, 5, 9]);
    // CLOSE_RANGE_CLOEXEC: still open, closed by the next exec.
    t.apply(sys(62, "close_range", { res: 0, first: 4, last: 5, flags: 4 }));
    expect(fds()).toEqual([3, 4, 5, 9]);
    expect(t.processes.get(62)?.fds.get(4)?.cloexec).toBe(true);
    t.apply(exec(62));
    expect(fds()).toEqual([3, 9]);
    // last = ~0: every fd from first up. A reused number is then the new open's, not a stale name.
    t.apply(sys(62, "close_range", { res: 0, first: 4, last: 0xffffffff, flags: 0 }));
    expect(fds()).toEqual([3]);
    expect(t.apply(sys(62, "dup2", { res: 1, oldfd: 9, newfd: 1, flags: 0 })).fd).toBeUndefined();
  });

  test("fcntl F_DUPFD copies; pipe makes two pipe fds; a read names its fd", () => {
    const t = tracker();
    t.apply(exec(61));
    t.apply(open(61, "/tmp/b", 3));
    t.apply(sys(61, "fcntl", { res: 10, fd: 3, cmd: 0 }));
    expect(t.processes.get(61)?.fds.get(10)?.name).toBe("/tmp/b");
    t.apply(sys(61, "pipe2", { res: 0, fd1: 4, fd2: 5, ino: 777, flags: 0 }));
    expect(t.processes.get(61)?.fds.get(5)).toMatchObject({
      type: "pipe",
      typechar: "p",
      name: "pipe:[777]",
    });
    expect(t.apply(sys(61, "read", { res: 1, fd: 10, size: 1 })).fd?.name).toBe("/tmp/b");
  });

  test("exec closes close-on-exec fds and keeps the others", () => {
    const t = tracker();
    t.apply(exec(70));
    t.apply(open(70, "/tmp/keep", 3));
    t.apply(open(70, "/tmp/cloexec", 4, { flags: 0o2000000 }));
    t.apply(sys(70, "dup3", { res: 5, oldfd: 3, newfd: 5, flags: 0o2000000 }));
    t.apply(sys(70, "socket", { fd: 6, domain: 2, type: 1 | 0o2000000 }));
    t.apply(exec(70));
    const fds = t.processes.get(70)?.fds;
    expect(fds?.get(3)?.name).toBe("/tmp/keep");
    expect(fds?.get(4)).toBeUndefined();
    expect(fds?.get(5)).toBeUndefined();
    expect(fds?.get(6)).toBeUndefined();
  });

  test("fork copies the table; clone with CLONE_FILES shares it", () => {
    const t = tracker();
    t.apply(exec(80));
    t.apply(open(80, "/tmp/shared", 3));
    const fork = (child: number): ForkEvent => ({
      ...head(80),
      kind: "procfork",
      childPid: child,
      childTid: child,
    });
    t.apply(fork(81));
    t.apply(open(81, "/tmp/child-only", 4));
    expect(t.processes.get(80)?.fds.get(4)).toBeUndefined();
    expect(t.processes.get(81)?.fds.get(3)?.name).toBe("/tmp/shared");
    // A capture from schema 2: the clone record says CLONE_FILES.
    t.apply(fork(82));
    t.apply(sys(80, "clone", { res: 82, flags: 0x400 }));
    t.apply(open(82, "/tmp/seen-by-both", 5));
    expect(t.processes.get(80)?.fds.get(5)?.name).toBe("/tmp/seen-by-both");
    // Schema 3: the fork record itself says so, with no clone record.
    t.apply({ ...fork(83), sharesFds: 1 });
    t.apply(open(83, "/tmp/also-shared", 6));
    expect(t.processes.get(80)?.fds.get(6)?.name).toBe("/tmp/also-shared");
    t.apply({ ...fork(84), sharesFds: 0 });
    t.apply(open(84, "/tmp/own", 7));
    expect(t.processes.get(80)?.fds.get(7)).toBeUndefined();
  });
});

describe("caps", () => {
  test("per process: the oldest fd goes, counted", () => {
    const t = tracker({ fdsPerProcess: 4, fdsTotal: 1000 });
    t.apply(exec(90));
    for (let fd = 3; fd < 13; fd++) t.apply(open(90, `/f${fd}`, fd));
    const fds = t.processes.get(90)?.fds;
    expect(fds?.size).toBe(4);
    expect(fds?.get(12)?.name).toBe("/f12");
    expect(fds?.get(3)).toBeUndefined();
    expect(t.metrics().find((m) => m.name === "state_fds_evicted_total")?.value).toBe(6);
  });

  test("in total: a full budget makes a process give up its own oldest; one with none tracks nothing new", () => {
    const t = tracker({ fdsPerProcess: 4, fdsTotal: 6 });
    t.apply(exec(100));
    t.apply(exec(101));
    for (let fd = 3; fd < 7; fd++) t.apply(open(100, `/a${fd}`, fd));
    t.apply(open(101, "/b3", 3));
    t.apply(open(101, "/b4", 4));
    expect(t.metrics().find((m) => m.name === "state_fds")?.value).toBe(6);
    t.apply(open(101, "/b5", 5));
    expect(t.processes.get(101)?.fds.get(3)).toBeUndefined();
    expect(t.processes.get(101)?.fds.get(5)?.name).toBe("/b5");
    t.apply(exec(102));
    t.apply(open(102, "/c3", 3));
    expect(t.processes.get(102)?.fds.size).toBe(0);
    const m = (name: string) => t.metrics().find((x) => x.name === name)?.value;
    expect(m("state_fds")).toBe(6);
    expect(m("state_fds_evicted_total")).toBe(2);
    // An exit gives its fds back.
    t.apply({ ...head(100), kind: "procexit", exitCode: 0 });
    expect(m("state_fds")).toBe(2);
  });
});

describe("parsing tuples and endpoints", () => {
  test("Falco's renderings and object forms", () => {
    expect(parseEndpoint("1.2.3.4:80")).toEqual({ ip: "1.2.3.4", port: 80 });
    expect(parseEndpoint("[::1]:80")).toEqual({ ip: "::1", port: 80 });
    expect(parseEndpoint("nope")).toBeUndefined();
    expect(parseTuple({ family: 2, sip: "1.1.1.1", sport: 1, dip: "2.2.2.2", dport: 2 })).toEqual({
      family: "ipv4",
      src: { ip: "1.1.1.1", port: 1 },
      dst: { ip: "2.2.2.2", port: 2 },
      path: undefined,
    });
    expect(parseTuple("/run/x.sock")?.family).toBe("unix");
    expect(parseTuple(42)).toBeUndefined();
  });
});

describe("records in the probe's decoded shapes (agent/events table)", () => {
  test("connect with the kernel tuple object; accept4 with the peer as source; bind with a sockaddr", () => {
    const t = tracker();
    t.apply(exec(110));
    t.apply(sys(110, "socket", { res: 3, domain: 2, type: 1, proto: 6 }));
    const c = t.apply(
      sys(110, "connect", {
        res: 0,
        fd: 3,
        tuple: { family: 2, srcAddr: "127.0.0.1", srcPort: 45000, dstAddr: "127.0.0.1", dstPort: 9000 },
        addr: { family: 2, addr: "127.0.0.1", port: 9000 },
      }),
    );
    expect(read(c, "fd.name")).toBe("127.0.0.1:45000->127.0.0.1:9000");
    t.apply(sys(110, "socket", { res: 4, domain: 10, type: 1, proto: 6 }));
    const b = t.apply(sys(110, "bind", { res: 0, fd: 4, addr: { family: 10, addr: "::", port: 9000 } }));
    expect(read(b, "fd.name")).toBe(":::9000");
    const a = t.apply(
      sys(110, "accept4", {
        res: 5,
        tuple: { family: 10, srcAddr: "::1", srcPort: 50000, dstAddr: "::1", dstPort: 9000 },
        flags: 0,
      }),
    );
    expect(read(a, "fd.name")).toBe("::1:50000->::1:9000");
    expect(read(a, "fd.sport")).toBe(9000);
    expect(read(a, "fd.is_server")).toBe(true);
    t.apply(sys(110, "socket", { res: 6, domain: 1, type: 1, proto: 0 }));
    const u = t.apply(
      sys(110, "connect", {
        res: 0,
        fd: 6,
        tuple: { family: 1, srcAddr: "", srcPort: 0, dstAddr: "/run/containerd/containerd.sock", dstPort: 0 },
      }),
    );
    expect(read(u, "fd.name")).toBe("/run/containerd/containerd.sock");
  });

  test("creat's fd is its result; setuid/setresuid/setgid change the ids; capset the capabilities", () => {
    const t = tracker();
    t.apply(exec(120, "/home"));
    const c = t.apply(sys(120, "creat", { res: 7, name: "new.txt", mode: 0o644 }));
    expect(read(c, "fd.num")).toBe(7);
    expect(read(c, "fd.name")).toBe("/home/new.txt");
    t.apply(sys(120, "setresuid", { res: 0, ruid: 1000, euid: 1000, suid: 1000 }));
    t.apply(sys(120, "setgid", { res: 0, gid: 50 }));
    t.apply(sys(120, "setuid", { res: -1, uid: 0 }));
    t.apply(sys(120, "setreuid", { res: 0, ruid: 4294967295, euid: 4294967295 }));
    expect(t.processes.get(120)).toMatchObject({ uid: 1000, gid: 50 });
    const ctx = t.apply(
      sys(120, "capset", { res: 0, cap_inheritable: 0, cap_permitted: 1 << 21, cap_effective: 1 << 21 }),
    );
    expect(read(ctx, "thread.cap_effective")).toBe("CAP_SYS_ADMIN");
  });

  test("exec extras: cwd, env, tty, session, loginuid (unset reads -1), capabilities, exe flags", () => {
    const t = tracker();
    const e = {
      ...exec(130),
      cwd: "/srv",
      env: ["HOME=/root", "TERM=xterm"],
      tty: 34816,
      sid: 130,
      pgid: 130,
      loginuid: 4294967295,
      capEffective: 2 ** 21,
      exeFlags: 1 | 2 | 8, // memfd, upper layer, layer read
    } as ExecEvent;
    const ctx = t.apply(e);
    expect(read(ctx, "proc.cwd")).toBe("/srv/");
    expect(read(ctx, "proc.env[TERM]")).toBe("xterm");
    expect(read(ctx, "proc.tty")).toBe(34816);
    expect(read(ctx, "proc.is_sid_leader")).toBe(true);
    expect(read(ctx, "user.loginuid")).toBe(-1);
    expect(read(ctx, "thread.cap_effective")).toBe("CAP_SYS_ADMIN");
    expect(read(ctx, "proc.is_exe_from_memfd")).toBe(true);
    expect(t.processes.get(130)?.exeLayerFromKernel).toBe("upper");
    // The probe's word, without a /proc read (pid 130 is not this machine's).
    expect(read(ctx, "proc.is_exe_upper_layer")).toBe(true);
    expect(read(ctx, "proc.is_exe_lower_layer")).toBe(false);
    const lower = t.apply({ ...exec(131), exeFlags: 4 | 8 } as ExecEvent);
    expect(read(lower, "proc.is_exe_upper_layer")).toBe(false);
    expect(read(lower, "proc.is_exe_lower_layer")).toBe(true);
    const plain = t.apply({ ...exec(132), exeFlags: 8 } as ExecEvent);
    expect(read(plain, "proc.is_exe_upper_layer")).toBe(false);
    expect(read(plain, "proc.is_exe_lower_layer")).toBe(false);
    // A later exec without extras keeps what does not change across exec.
    const again = t.apply(exec(130));
    expect(read(again, "proc.tty")).toBe(34816);
    expect(read(again, "proc.cwd")).toBe("/srv/");
  });
});

describe("which cwd a relative path uses", () => {
  test("before any chdir event the live /proc cwd wins over the tracked one; after one, the tracked cwd", () => {
    const t = new StateTracker({
      processCapacity: 16,
      users: new UserTable(),
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
      pathBases: { cwd: () => "/live", fdPath: () => undefined },
    });
    t.apply(exec(140, "/tracked"));
    // The capture may not deliver chdir: the process could have moved since exec.
    expect(t.apply(open(140, "x", 3)).fd?.name).toBe("/live/x");
    t.apply(sys(140, "chdir", { res: 0, path: "/moved" }));
    expect(t.apply(open(140, "y", 4)).fd?.name).toBe("/moved/y");
  });
});

describe("fexecve", () => {
  test("an exec of /proc/self/fd/N names the memfd behind fd N as proc.exepath, and is_exe_from_memfd", () => {
    const t = tracker();
    t.apply(exec(150));
    t.apply(sys(150, "memfd_create", { res: 3, name: "payload", flags: 1 }));
    const ctx = t.apply({ ...exec(150), filename: "/proc/self/fd/3", exeFlags: 0 } as ExecEvent);
    expect(read(ctx, "proc.exepath")).toBe("/memfd:payload");
    expect(read(ctx, "proc.is_exe_from_memfd")).toBe(true);
    // MFD_CLOEXEC: the memfd is closed by the exec it served.
    expect(t.processes.get(150)?.fds.get(3)).toBeUndefined();
    // Without the layer-read bit (a record from an older probe) the layer is not the probe's word.
    expect(t.processes.get(150)?.exeLayerFromKernel).toBeUndefined();
  });
});
