// The state at one moment as plain data, and back: what a capture file stores after its header
// so a replay starts where the live agent was (docs/CAPTURE.md). A snapshot read from a file is
// untrusted: restoreState checks every field and names the first bad one.

import { readdirSync, readlinkSync } from "node:fs";
import { z } from "zod";
import { containerIdFromCgroup as containerIdOf } from "./containers.ts";
import type { HostInfo } from "./context.ts";
import type { FdTable } from "./fd-table.ts";
import type { PathBaseResolver } from "./fds.ts";
import { fdFromLink } from "./proc-reader.ts";
import { ENV_MAX_ENTRIES, type ProcessInfo, type ProcessTable } from "./processes.ts";
import { StateTracker } from "./tracker.ts";
import { UserTable } from "./users.ts";

/** Bounds on what a snapshot may hold, read or written. */
export const SNAPSHOT_BOUNDS = {
  processes: 1 << 20,
  fdsPerProcess: 4096,
  fdsTotal: 1 << 20,
  users: 1 << 20,
} as const;

const text = z.string().max(65_536);
const id = z.number().int().min(0).max(0xffffffff);
const hex = z.string().regex(/^[0-9a-f]{0,16}$/);

const processSchema = z.strictObject({
  pid: id,
  ppid: id,
  comm: text,
  exe: text,
  exepath: text,
  args: z.array(text).max(65_536),
  uid: id,
  gid: id,
  cgroup: text,
  startBootNs: z.number().min(0),
  // Added after the first format: absent in older captures, read with the defaults in processInfo.
  vpid: id.optional(),
  loginuid: z.number().int().min(-1).max(0xffffffff).optional(),
  cwd: text.optional(),
  env: z.array(text).max(ENV_MAX_ENTRIES).optional(),
  tty: id.optional(),
  sid: id.optional(),
  pgid: id.optional(),
  vpgid: id.optional(),
  /** Capability masks as hex strings (64-bit values do not fit a JSON/MessagePack double exactly). */
  caps: z.tuple([hex, hex, hex]).optional(),
  exeFromMemfd: z.boolean().optional(),
  pidTsBootNs: z.number().min(0).optional(),
});

const pathsSchema = z.strictObject({
  pid: id,
  cwd: text.optional(),
  fds: z.array(z.tuple([z.number().int().min(0).max(0x7fffffff), text])).max(SNAPSHOT_BOUNDS.fdsPerProcess),
});

const snapshotSchema = z.object({
  processes: z.array(processSchema).max(SNAPSHOT_BOUNDS.processes),
  paths: z.array(pathsSchema).max(SNAPSHOT_BOUNDS.processes),
  users: z.array(z.tuple([id, text, text, text])).max(SNAPSHOT_BOUNDS.users),
  groups: z.array(z.tuple([id, text])).max(SNAPSHOT_BOUNDS.users),
});

/** The process table's entries, each process's cwd and open fds, users and groups. */
export type StateSnapshot = z.infer<typeof snapshotSchema>;
export type ProcessSnapshot = z.infer<typeof processSchema>;

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotError";
  }
}

/**
 * Takes the snapshot: the process table as it is, users and groups, and cwd and fd paths of every
 * process under `procRoot` (so relative paths resolve on replay as they did live).
 */
export function snapshotState(processes: ProcessTable, users: UserTable, procRoot = "/proc"): StateSnapshot {
  const out: StateSnapshot = { processes: [], paths: [], users: [], groups: [] };
  for (const p of processes.entries()) {
    out.processes.push({
      pid: p.pid,
      ppid: p.ppid,
      comm: p.comm,
      exe: p.exe,
      exepath: p.exepath,
      args: [...p.args],
      uid: p.uid,
      gid: p.gid,
      cgroup: p.cgroup,
      startBootNs: p.startBootNs,
      vpid: p.vpid,
      loginuid: p.loginuid,
      cwd: p.cwd,
      env: [...p.env],
      tty: p.tty,
      sid: p.sid,
      pgid: p.pgid,
      vpgid: p.vpgid,
      caps: [capHex(p.capPermitted), capHex(p.capEffective), capHex(p.capInheritable)],
      exeFromMemfd: p.exeFromMemfd,
      pidTsBootNs: p.pidTsBootNs,
    });
  }
  let fdsLeft: number = SNAPSHOT_BOUNDS.fdsTotal;
  for (const pid of procPids(procRoot)) {
    if (out.paths.length >= SNAPSHOT_BOUNDS.processes) break;
    const cwd = readLink(`${procRoot}/${pid}/cwd`);
    const fds: [number, string][] = [];
    for (const name of listDir(`${procRoot}/${pid}/fd`)) {
      if (fds.length >= SNAPSHOT_BOUNDS.fdsPerProcess || fdsLeft === 0) break;
      const target = readLink(`${procRoot}/${pid}/fd/${name}`);
      if (target === undefined) continue;
      fds.push([Number(name), target]);
      fdsLeft--;
    }
    if (cwd === undefined && fds.length === 0) continue;
    out.paths.push(cwd === undefined ? { pid, fds } : { pid, cwd, fds });
  }
  const { users: u, groups: g } = users.entries();
  for (const [uid, e] of u) out.users.push([uid, e.name, e.home, e.shell]);
  for (const [gid, name] of g) out.groups.push([gid, name]);
  return out;
}

/** Checks a decoded snapshot; throws SnapshotError naming the first bad field. */
export function parseSnapshot(value: unknown): StateSnapshot {
  const result = snapshotSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length === 0 ? "snapshot" : `snapshot.${issue.path.join(".")}`;
  throw new SnapshotError(`${where}: ${issue.message}`);
}

export interface RestoreOptions {
  processCapacity: number;
  host: HostInfo;
}

/** A state tracker that starts from the snapshot and never looks at this machine's /proc or /etc. */
export function restoreState(snapshot: StateSnapshot, options: RestoreOptions): StateTracker {
  const users = UserTable.fromEntries(
    snapshot.users.map(([uid, name, home, shell]) => [uid, { name, home, shell }]),
    snapshot.groups,
  );
  const cwds = new Map<number, string>();
  const fds = new Map<number, Map<number, string>>();
  for (const p of snapshot.paths) {
    if (p.cwd?.startsWith("/") === true) cwds.set(p.pid, p.cwd);
    if (p.fds.length > 0) fds.set(p.pid, new Map(p.fds));
  }
  let tracker: StateTracker | undefined;
  // A process born during the capture has its parent's cwd unless it changed it (not tracked yet).
  const cwdOf = (pid: number): string | undefined => {
    let at = pid;
    for (let hops = 0; hops < 64; hops++) {
      const known = cwds.get(at);
      if (known !== undefined) return known;
      const info = tracker?.processes.get(at);
      if (info === undefined || info.ppid === at) return undefined;
      at = info.ppid;
    }
    return undefined;
  };
  const pathBases: PathBaseResolver = {
    cwd: cwdOf,
    fdPath: (pid, fd) => {
      const path = fds.get(pid)?.get(fd);
      // Only file system paths are bases; sockets and pipes ("socket:[…]") are not.
      return path?.startsWith("/") === true ? path : undefined;
    },
  };
  tracker = new StateTracker({
    processCapacity: options.processCapacity,
    users,
    host: options.host,
    pathBases,
  });
  for (const p of snapshot.processes) {
    const info = processInfo(p, tracker.processes.newFdTable(), cwds.get(p.pid));
    for (const [num, target] of fds.get(p.pid) ?? [])
      info.fds.set(fdFromLink(NO_PROC, p.pid, num, target, undefined));
    tracker.processes.restore(info);
  }
  return tracker;
}

/** A /proc root that does not exist: restored fds are built from their recorded link text only. */
const NO_PROC = "/nonexistent-lanner-snapshot";

function capHex(mask: bigint | undefined): string {
  return mask === undefined ? "" : mask.toString(16);
}

function capOf(hexText: string | undefined): bigint | undefined {
  return hexText === undefined || hexText === "" ? undefined : BigInt(`0x${hexText}`);
}

function processInfo(p: ProcessSnapshot, fds: FdTable, cwdFromProc: string | undefined): ProcessInfo {
  const argsText = p.args.join(" ");
  return {
    pid: p.pid,
    ppid: p.ppid,
    vpid: p.vpid ?? p.pid,
    comm: p.comm,
    exe: p.exe,
    exepath: p.exepath,
    args: [...p.args],
    argsText,
    cmdline: p.args.length === 0 ? p.comm : `${p.comm} ${argsText}`,
    uid: p.uid,
    gid: p.gid,
    loginuid: p.loginuid ?? -1,
    cwd: p.cwd ?? cwdFromProc,
    env: p.env ?? [],
    tty: p.tty ?? 0,
    sid: p.sid ?? 0,
    pgid: p.pgid ?? 0,
    vpgid: p.vpgid ?? 0,
    capPermitted: capOf(p.caps?.[0]),
    capEffective: capOf(p.caps?.[1]),
    capInheritable: capOf(p.caps?.[2]),
    exeFromMemfd: p.exeFromMemfd ?? false,
    exeFile: undefined,
    exeLayerFromKernel: undefined,
    cgroup: p.cgroup,
    containerId: containerIdOf(p.cgroup),
    pidTsBootNs: p.pidTsBootNs ?? p.startBootNs,
    startBootNs: p.startBootNs,
    fds,
    source: "proc",
    exited: false,
    touched: 0,
  };
}

function procPids(procRoot: string): number[] {
  return listDir(procRoot)
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
