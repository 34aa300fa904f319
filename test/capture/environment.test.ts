import { describe, expect, test } from "bun:test";
import {
  checkEnvironment,
  effectiveCapabilities,
  type EnvironmentFacts,
  kernelVersion,
  readEnvironment,
} from "../../agent/capture/environment.ts";
import { loadFailure } from "../../agent/capture/load-failure.ts";

const ROOT_CAPS = "000001ffffffffff";
const CAP_BPF_PERFMON = ((1n << 39n) | (1n << 38n)).toString(16).padStart(16, "0");
const CAP_SYS_ADMIN = (1n << 21n).toString(16).padStart(16, "0");
const CAP_BPF_ONLY = (1n << 39n).toString(16).padStart(16, "0");

function status(capEff: string | null): string {
  const lines = ["Name:\tlanner", "Umask:\t0022", "CapInh:\t0000000000000000", "CapPrm:\t000001ffffffffff"];
  if (capEff !== null) lines.push(`CapEff:\t${capEff}`);
  lines.push("CapBnd:\t000001ffffffffff", "NoNewPrivs:\t0");
  return lines.join("\n") + "\n";
}

function facts(overrides: Partial<EnvironmentFacts> = {}): EnvironmentFacts {
  return { procStatus: status(ROOT_CAPS), btfPresent: true, kernelRelease: "6.1.112+", ...overrides };
}

describe("environment checks", () => {
  test("root on a 5.8+ kernel with BTF passes", () => {
    expect(checkEnvironment(facts())).toBeNull();
    expect(checkEnvironment(facts({ kernelRelease: "5.8.0" }))).toBeNull();
    expect(checkEnvironment(facts({ kernelRelease: "5.15.0-1057-gke" }))).toBeNull();
  });

  test("CAP_BPF + CAP_PERFMON or CAP_SYS_ADMIN is enough", () => {
    expect(checkEnvironment(facts({ procStatus: status(CAP_BPF_PERFMON) }))).toBeNull();
    expect(checkEnvironment(facts({ procStatus: status(CAP_SYS_ADMIN) }))).toBeNull();
  });

  test.each([
    ["no capabilities", status("0000000000000000")],
    ["CAP_BPF without CAP_PERFMON", status(CAP_BPF_ONLY)],
    ["no CapEff line", status(null)],
    ["unreadable status", null],
  ])("%s: permission", (_name, procStatus) => {
    const error = checkEnvironment(facts({ procStatus }));
    expect(error?.reason).toBe("permission");
    expect(error?.message).toContain("run it as root or grant CAP_BPF and CAP_PERFMON");
  });

  test("missing BTF", () => {
    const error = checkEnvironment(facts({ btfPresent: false }));
    expect(error?.reason).toBe("no_btf");
    expect(error?.message).toContain("/sys/kernel/btf/vmlinux");
  });

  test.each(["5.7.19", "5.4.0-1090-gke", "4.19.0"])("kernel %s is too old", (kernelRelease) => {
    const error = checkEnvironment(facts({ kernelRelease }));
    expect(error?.reason).toBe("kernel_too_old");
    expect(error?.message).toContain(`Kernel ${kernelRelease} is older than 5.8`);
  });

  test("an unreadable release is reported as such", () => {
    expect(checkEnvironment(facts({ kernelRelease: "unknown" }))?.reason).toBe("kernel_too_old");
  });

  test("parsers", () => {
    expect(effectiveCapabilities(status(ROOT_CAPS))).toBe(0x1ffffffffffn);
    expect(effectiveCapabilities("Name:\tx\n")).toBeNull();
    expect(kernelVersion("6.18.44-fc-v782")).toEqual([6, 18]);
    expect(kernelVersion("x")).toBeNull();
  });

  test("the real environment of this machine is read", () => {
    const real = readEnvironment();
    expect(real.kernelRelease).toMatch(/^\d+\.\d+/);
    expect(real.procStatus).toContain("CapEff:");
  });
});

describe("load failures", () => {
  test("a verifier rejection names the program and quotes the log's end", () => {
    const log = [
      "libbpf: prog 'lanner_sys_exit': BPF program load failed: Argument list too long",
      "libbpf: prog 'lanner_sys_exit': -- BEGIN PROG LOAD LOG --",
      "0: (79) r6 = *(u64 *)(r1 +8)",
      "BPF program is too large. Processed 1000001 insn",
      "processed 1000001 insns (limit 1000000) max_states_per_insn 16",
      "-- END PROG LOAD LOG --",
      "libbpf: prog 'lanner_sys_exit': failed to load: -7",
    ].join("\n");
    const error = loadFailure(-7, log);
    expect(error.reason).toBe("verifier");
    expect(error.message).toStartWith("The kernel verifier rejected eBPF program lanner_sys_exit (E2BIG): ");
    expect(error.message).toContain("processed 1000001 insns (limit 1000000)");
    expect(error.detail).toBe(log);
  });

  test("EPERM without a verifier log is a permission problem", () => {
    const log = "libbpf: prog 'lanner_exec': BPF program load failed: Operation not permitted\n";
    const error = loadFailure(-1, log);
    expect(error.reason).toBe("permission");
    expect(error.message).toContain("lanner_exec (EPERM)");
  });

  test("anything else is a load failure with libbpf's last line", () => {
    const error = loadFailure(-22, "libbpf: map 'events': failed to create: Invalid argument(-22)\n");
    expect(error.reason).toBe("load");
    expect(error.message).toBe(
      "Loading the eBPF probe failed (EINVAL): libbpf: map 'events': failed to create: Invalid argument(-22)",
    );
  });
});
