// Checks that live capture can work here before anything is loaded, so the user gets a clear
// reason instead of an errno from deep inside libbpf. The checks take their inputs as values
// (unit-testable); readEnvironment() gathers the real ones.
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { CaptureError } from "./errors.ts";

export const BTF_PATH = "/sys/kernel/btf/vmlinux";
/** BPF ring buffer and bpf_ktime_get_boot_ns() arrived in Linux 5.8. */
export const MIN_KERNEL: readonly [number, number] = [5, 8];

// include/uapi/linux/capability.h
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export interface EnvironmentFacts {
  /** Contents of /proc/self/status, or null if unreadable. */
  procStatus: string | null;
  /** Whether the kernel's BTF file exists. */
  btfPresent: boolean;
  /** uname -r. */
  kernelRelease: string;
}

export function readEnvironment(): EnvironmentFacts {
  let procStatus: string | null = null;
  try {
    procStatus = readFileSync("/proc/self/status", "utf8");
  } catch {
    procStatus = null;
  }
  return { procStatus, btfPresent: existsSync(BTF_PATH), kernelRelease: release() };
}

/** Effective capability set from /proc/self/status ("CapEff:\t000001ffffffffff"), or null. */
export function effectiveCapabilities(procStatus: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  return match ? BigInt("0x" + match[1]) : null;
}

/** [major, minor] from a release such as "6.1.112+" or "5.15.0-1057-gke", or null. */
export function kernelVersion(kernelRelease: string): [number, number] | null {
  const match = /^(\d+)\.(\d+)/.exec(kernelRelease);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** The first reason capture cannot work here, or null if all checks pass. */
export function checkEnvironment(facts: EnvironmentFacts): CaptureError | null {
  const version = kernelVersion(facts.kernelRelease);
  if (version === null) {
    return new CaptureError(
      "kernel_too_old",
      `Cannot read the kernel version from "${facts.kernelRelease}"; Lanner needs Linux ${MIN_KERNEL.join(".")} or newer.`,
      facts.kernelRelease,
    );
  }
  const [major, minor] = version;
  if (major < MIN_KERNEL[0] || (major === MIN_KERNEL[0] && minor < MIN_KERNEL[1])) {
    return new CaptureError(
      "kernel_too_old",
      `Kernel ${facts.kernelRelease} is older than ${MIN_KERNEL.join(".")}, which Lanner needs (BPF ring buffer); upgrade the node image.`,
      facts.kernelRelease,
    );
  }
  const caps = facts.procStatus === null ? null : effectiveCapabilities(facts.procStatus);
  const has = (cap: bigint): boolean => caps !== null && ((caps >> cap) & 1n) === 1n;
  if (!(has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)))) {
    return new CaptureError(
      "permission",
      "Lanner lacks the privileges to load eBPF programs; run it as root or grant CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).",
      caps === null ? "CapEff not found in /proc/self/status" : `CapEff=${caps.toString(16)}`,
    );
  }
  if (!facts.btfPresent) {
    return new CaptureError(
      "no_btf",
      `Kernel BTF is missing at ${BTF_PATH}; Lanner needs a kernel built with CONFIG_DEBUG_INFO_BTF=y.`,
      BTF_PATH,
    );
  }
  return null;
}
