// Turns a failed probe load (errno + libbpf log) into the CaptureError that says why.
import { getSystemErrorName } from "node:util";
import { BTF_PATH } from "./environment.ts";
import { CaptureError } from "./errors.ts";

/** Classifies a failed lanner_load from its errno and libbpf's log. */
export function loadFailure(rc: number, log: string): CaptureError {
  const program = /prog '([^']+)': (?:BPF program load failed|failed to load)/.exec(log)?.[1] ?? "(unknown)";
  if (log.includes("BEGIN PROG LOAD LOG")) {
    return new CaptureError(
      "verifier",
      `The kernel verifier rejected eBPF program ${program} (${errnoName(rc)}): ${verifierTail(log)}`,
      log,
    );
  }
  if (/failed to find valid kernel BTF|Error loading vmlinux BTF/.test(log)) {
    // The file exists (the environment check saw it) but libbpf cannot read BTF from it.
    return new CaptureError(
      "no_btf",
      `The kernel's BTF at ${BTF_PATH} cannot be read (${errnoName(rc)}); Lanner needs a kernel built with CONFIG_DEBUG_INFO_BTF=y and that file readable.`,
      log,
    );
  }
  if (rc === -1 || rc === -13) {
    return new CaptureError(
      "permission",
      `The kernel refused to load eBPF program ${program} (${errnoName(rc)}); run as root or grant CAP_BPF and CAP_PERFMON, and check that no LSM (lockdown, SELinux) forbids BPF.`,
      log,
    );
  }
  return new CaptureError("load", `Loading the eBPF probe failed (${errnoName(rc)}): ${lastLine(log)}`, log);
}

/** The last lines of the verifier's own log, which say why it stopped. */
function verifierTail(log: string): string {
  const end = log.lastIndexOf("-- END PROG LOAD LOG --");
  const body = log.slice(0, end < 0 ? log.length : end);
  const lines = body.split("\n").filter((line) => line.trim() !== "");
  return lines.slice(-3).join(" | ");
}

function lastLine(log: string): string {
  const lines = log.split("\n").filter((line) => line.trim() !== "");
  return lines.at(-1) ?? "no message from libbpf";
}

export function errnoName(rc: number): string {
  try {
    return rc < 0 ? getSystemErrorName(rc) : `code ${rc}`;
  } catch {
    return `errno ${-rc}`;
  }
}
