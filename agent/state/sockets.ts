// Sockets a process already holds, found through /proc: /proc/PID/fd/N links to socket:[INODE],
// and the net namespace's /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix} map inodes to their
// addresses. One index per net namespace, read on demand and kept a short time (bounded).

import { readFileSync, readlinkSync } from "node:fs";
import type { L4Proto, SocketEnds } from "./fds.ts";

export type SocketEntry = { kind: "inet"; ends: SocketEnds } | { kind: "unix"; path: string };

const TCP_LISTEN = 0x0a;

/** "0100007F" (a little-endian word as /proc prints it) -> "127.0.0.1". */
export function ipv4FromProcHex(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`;
}

/** 32 hex characters (four little-endian words) -> the address as inet_ntop prints it. */
export function ipv6FromProcHex(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  return formatIpv6(bytes);
}

/** RFC 5952 text of 16 bytes: lower case, longest zero run (>= 2 groups) as "::", IPv4-mapped tail dotted. */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

function parseInetTable(
  text: string,
  family: "ipv4" | "ipv6",
  l4proto: L4Proto,
  out: Map<number, SocketEntry>,
): void {
  const lines = text.split("\n");
  const listening = new Set<string>();
  const rows: { local: [string, number]; remote: [string, number]; state: number; inode: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = splitAddress(f[1], family);
    const remote = splitAddress(f[2], family);
    const inode = Number(f[9]);
    if (local === undefined || remote === undefined || !Number.isInteger(inode) || inode <= 0) continue;
    const state = Number.parseInt(f[3], 16);
    rows.push({ local, remote, state, inode });
    if (l4proto === "tcp" && state === TCP_LISTEN) listening.add(String(local[1]));
  }
  for (const r of rows) {
    const listens = l4proto === "tcp" && r.state === TCP_LISTEN;
    const connected = !listens && r.remote[1] !== 0;
    out.set(r.inode, {
      kind: "inet",
      ends: {
        family,
        l4proto,
        localIp: r.local[0],
        localPort: r.local[1],
        remoteIp: connected ? r.remote[0] : undefined,
        remotePort: connected ? r.remote[1] : undefined,
        // An accepted connection's local port is a port this namespace listens on.
        isServer: listens || (connected && listening.has(String(r.local[1]))),
        connected,
      },
    });
  }
}

function splitAddress(text: string, family: "ipv4" | "ipv6"): [string, number] | undefined {
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const hex = text.slice(0, colon);
  const port = Number.parseInt(text.slice(colon + 1), 16);
  if (family === "ipv4" && hex.length === 8) return [ipv4FromProcHex(hex), port];
  if (family === "ipv6" && hex.length === 32) return [ipv6FromProcHex(hex), port];
  return undefined;
}

function parseUnixTable(text: string, out: Map<number, SocketEntry>): void {
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 7) continue;
    const inode = Number(f[6]);
    if (Number.isInteger(inode) && inode > 0) out.set(inode, { kind: "unix", path: f[7] ?? "" });
  }
}

/** Reads one net namespace's socket tables through a process in it. Missing tables are skipped. */
export function readSocketTables(procPidDir: string): Map<number, SocketEntry> {
  const out = new Map<number, SocketEntry>();
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(`${procPidDir}/net/${name}`, "utf8");
    } catch {
      return undefined;
    }
  };
  const inet: [string, "ipv4" | "ipv6", L4Proto][] = [
    ["tcp", "ipv4", "tcp"],
    ["tcp6", "ipv6", "tcp"],
    ["udp", "ipv4", "udp"],
    ["udp6", "ipv6", "udp"],
    ["raw", "ipv4", "raw"],
    ["raw6", "ipv6", "raw"],
  ];
  for (const [name, family, proto] of inet) {
    const text = read(name);
    if (text !== undefined) parseInetTable(text, family, proto, out);
  }
  const unix = read("unix");
  if (unix !== undefined) parseUnixTable(unix, out);
  return out;
}

/** Socket tables per net namespace, kept `ttlMs` and at most `cap` namespaces (cleared when full). */
export class SocketIndex {
  private readonly byNetns = new Map<string, { at: number; table: Map<number, SocketEntry> }>();
  reads = 0;

  constructor(
    private readonly procRoot: string,
    private readonly ttlMs = 2000,
    private readonly cap = 64,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(pid: number, inode: number): SocketEntry | undefined {
    let netns: string;
    try {
      netns = readlinkSync(`${this.procRoot}/${pid}/ns/net`);
    } catch {
      return undefined;
    }
    let entry = this.byNetns.get(netns);
    const t = this.now();
    if (entry === undefined || t - entry.at > this.ttlMs) {
      if (this.byNetns.size >= this.cap) this.byNetns.clear();
      entry = { at: t, table: readSocketTables(`${this.procRoot}/${pid}`) };
      this.reads++;
      this.byNetns.set(netns, entry);
    }
    return entry.table.get(inode);
  }
}
