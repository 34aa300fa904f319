// Least privilege after the probe is attached. Loading and attaching eBPF programs needs
// CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) and more; once attached, the agent only reads the ring
// buffer (mmap, no capability), reads the probe's counter map and updates its syscall selection
// (the bpf() syscall: kernels before 6.4 check CAP_BPF on every call when unprivileged BPF is
// disabled), and reads other processes' /proc entries (cwd, root, exe links: CAP_SYS_PTRACE) and
// host files owned by other users (CAP_DAC_READ_SEARCH). Everything else is dropped from the
// effective, permitted, inheritable, ambient and bounding sets, and no_new_privs is set, so
// neither this process nor anything it could exec gets a capability back.

import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { capabilityBit } from "../common/index.ts";

/** The capability bit of `name`, from the one capability table (agent/common/capabilities.ts). */
function bit(name: string): number {
  const b = capabilityBit(name);
  if (b === undefined) throw new Error(`unknown capability ${name}`);
  return b;
}

/** The capabilities the privilege drop names. */
export const CAP = {
  DAC_READ_SEARCH: bit("CAP_DAC_READ_SEARCH"),
  SETPCAP: bit("CAP_SETPCAP"),
  SYS_PTRACE: bit("CAP_SYS_PTRACE"),
  SYS_ADMIN: bit("CAP_SYS_ADMIN"),
  PERFMON: bit("CAP_PERFMON"),
  BPF: bit("CAP_BPF"),
} as const;

/** What the running agent keeps after attach, and why (docs/OPERATIONS.md lists the same). */
export const KEPT_AFTER_ATTACH: Readonly<Record<string, { cap: number; why: string }>> = {
  CAP_BPF: {
    cap: CAP.BPF,
    why: "read the probe's counters and update its syscall selection (bpf() on kernels < 6.4)",
  },
  CAP_PERFMON: { cap: CAP.PERFMON, why: "paired with CAP_BPF for tracing programs' maps" },
  CAP_SYS_PTRACE: { cap: CAP.SYS_PTRACE, why: "read other processes' /proc/PID/{cwd,root,exe}" },
  CAP_DAC_READ_SEARCH: {
    cap: CAP.DAC_READ_SEARCH,
    why: "read host files (passwd, group, container state) owned by other users",
  },
};

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export interface CapabilityState {
  effective: bigint;
  permitted: bigint;
  bounding: bigint;
  noNewPrivs: boolean;
}

/** The capability sets of a process, from /proc/PID/status. */
export function readCapabilities(pid: number | "self" = "self"): CapabilityState {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hex = (key: string) => {
    const m = new RegExp(`^${key}:\\s*([0-9a-fA-F]+)$`, "m").exec(status);
    return m === null ? 0n : BigInt(`0x${m[1]}`);
  };
  const nnp = /^NoNewPrivs:\s*(\d)$/m.exec(status);
  return {
    effective: hex("CapEff"),
    permitted: hex("CapPrm"),
    bounding: hex("CapBnd"),
    noNewPrivs: nnp?.[1] === "1",
  };
}

export function maskOf(caps: readonly number[]): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m;
}

/** The set to keep: the kept capabilities the process has now; CAP_SYS_ADMIN stands in for a missing CAP_BPF. */
export function keepMask(current: bigint): bigint {
  let keep = maskOf(Object.values(KEPT_AFTER_ATTACH).map((k) => k.cap));
  if ((current & (1n << BigInt(CAP.BPF))) === 0n) keep |= 1n << BigInt(CAP.SYS_ADMIN);
  return keep & current;
}

export interface DropResult {
  before: CapabilityState;
  after: CapabilityState;
  /** Capabilities the bounding set still holds because dropping them failed (no CAP_SETPCAP). */
  boundingKept: number;
}

let libc: ReturnType<typeof openLibc> | undefined;
function openLibc() {
  return dlopen("libc.so.6", {
    capset: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    prctl: {
      args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
      returns: FFIType.i32,
    },
  }).symbols;
}

/**
 * Drops every capability outside keepMask() from all sets and sets no_new_privs. Throws when
 * the kernel refuses capset (then nothing changed); bounding-set drops that fail are counted.
 */
export function dropCapabilities(): DropResult {
  libc ??= openLibc();
  const before = readCapabilities();
  const keep = keepMask(before.effective);
  // The bounding set first: dropping from it needs CAP_SETPCAP, which capset removes below.
  let boundingKept = 0;
  const lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  for (let cap = 0; cap <= lastCap; cap++) {
    if ((keep >> BigInt(cap)) & 1n) continue;
    if ((before.bounding >> BigInt(cap)) & 1n && libc.prctl(PR_CAPBSET_DROP, BigInt(cap), 0n, 0n, 0n) !== 0)
      boundingKept++;
  }
  libc.prctl(PR_CAP_AMBIENT, BigInt(PR_CAP_AMBIENT_CLEAR_ALL), 0n, 0n, 0n);
  // struct __user_cap_header_struct { u32 version; int pid; } and two __user_cap_data_struct
  // { u32 effective, permitted, inheritable; } for capabilities 0-31 and 32-63.
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const lo = Number(keep & 0xffffffffn);
  const hi = Number((keep >> 32n) & 0xffffffffn);
  const data = new Uint32Array([lo, lo, 0, hi, hi, 0]);
  if (libc.capset(ptr(header), ptr(data)) !== 0) throw new Error("capset refused to drop capabilities");
  if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0)
    throw new Error("prctl(PR_SET_NO_NEW_PRIVS) failed");
  return { before, after: readCapabilities(), boundingKept };
}
