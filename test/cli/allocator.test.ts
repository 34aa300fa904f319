// The allocator setting of the long-running commands (agent/allocator.ts): which commands
// execute themselves again and with what environment, and, through the built executable, that
// `lanner run` really runs with the setting, as the same process (pid) with the same arguments,
// and keeps a value the user set.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  allocatorEnvironment,
  FTL_THRESHOLD,
  FTL_THRESHOLD_VARIABLE,
  GC_TIMER_OFF,
  GC_TIMER_VARIABLE,
  PURGE_DELAY,
  PURGE_DELAY_VARIABLE,
  reexecWithAllocatorSetting,
} from "../../agent/allocator.ts";
import { liveUnavailable } from "../capture/live-support.ts";

const LANNER = join(import.meta.dir, "..", "..", "dist", "lanner");

describe("allocatorEnvironment", () => {
  test("run, capture and replay get the settings, with the rest of the environment as it was", () => {
    for (const command of ["run", "capture", "replay"]) {
      expect(allocatorEnvironment(command, { PATH: "/bin", EMPTY: "", GONE: undefined })).toEqual({
        PATH: "/bin",
        EMPTY: "",
        [PURGE_DELAY_VARIABLE]: PURGE_DELAY,
        [GC_TIMER_VARIABLE]: GC_TIMER_OFF,
        // The JIT's top-tier threshold is for the live commands only: replay runs millions of
        // events in seconds and keeps the runtime's default.
        ...(command === "replay" ? {} : { [FTL_THRESHOLD_VARIABLE]: FTL_THRESHOLD }),
      });
    }
  });

  test("short commands, no command, and values the user set: no exec", () => {
    for (const command of ["rules", "config", "version", "selftest", "--help", undefined])
      expect(allocatorEnvironment(command, { PATH: "/bin" })).toBeUndefined();
    expect(
      allocatorEnvironment("run", {
        [PURGE_DELAY_VARIABLE]: "250",
        [GC_TIMER_VARIABLE]: "0",
        [FTL_THRESHOLD_VARIABLE]: "100000",
      }),
    ).toBeUndefined();
    expect(
      allocatorEnvironment("run", {
        [PURGE_DELAY_VARIABLE]: "",
        [GC_TIMER_VARIABLE]: "",
        [FTL_THRESHOLD_VARIABLE]: "",
      }),
    ).toBeUndefined();
    expect(
      allocatorEnvironment("replay", { [PURGE_DELAY_VARIABLE]: "250", [GC_TIMER_VARIABLE]: "0" }),
    ).toBeUndefined();
  });

  test("one value set by the user: it is kept and the other is added", () => {
    expect(allocatorEnvironment("replay", { [PURGE_DELAY_VARIABLE]: "250" })).toEqual({
      [PURGE_DELAY_VARIABLE]: "250",
      [GC_TIMER_VARIABLE]: GC_TIMER_OFF,
    });
  });
});

describe("reexecWithAllocatorSetting in this process", () => {
  test("a short command, or a value already set: nothing happens", () => {
    expect(reexecWithAllocatorSetting(["rules", "validate"])).toBe("not needed");
    expect(
      reexecWithAllocatorSetting(["run"], "/proc/self/exe", {
        [PURGE_DELAY_VARIABLE]: "1",
        [GC_TIMER_VARIABLE]: "1",
        [FTL_THRESHOLD_VARIABLE]: "100000",
      }),
    ).toBe("not needed");
  });

  test("an exec that fails (an executable that is not there) returns, and the command goes on", () => {
    // A real execve(2), refused by the kernel with ENOENT; a successful one would replace the runner.
    expect(reexecWithAllocatorSetting(["run"], `/nonexistent/lanner-${process.pid}`, { PATH: "/bin" })).toBe(
      "failed",
    );
  });
});

/** Starts `lanner run`, waits until capture started, returns what /proc shows of it, stops it. */
async function runAndRead(env: Record<string, string>): Promise<{ environ: string[]; cmdline: string[] }> {
  const argv = [LANNER, "run", "-o", "file_output.enabled=false", "-o", "stdout_output.enabled=false"];
  const proc = Bun.spawn(argv, { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let err = "";
  const reader = (async () => {
    const d = new TextDecoder();
    for await (const chunk of proc.stderr) err += d.decode(chunk, { stream: true });
  })();
  try {
    const deadline = Date.now() + 30_000;
    while (!err.includes("capture started")) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start:\n${err}`);
      await Bun.sleep(20);
    }
    // The pid Bun.spawn returned: the exec kept the process.
    const environ = readFileSync(`/proc/${proc.pid}/environ`, "utf8").split("\0");
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8")
      .split("\0")
      .filter((a) => a !== "");
    return { environ, cmdline };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    await reader;
  }
}

describe.skipIf(liveUnavailable !== null || !existsSync(LANNER))("lanner run, through the executable", () => {
  test("runs with the setting, as the pid it was started as, with its own arguments", async () => {
    const { environ, cmdline } = await runAndRead({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MARK: "kept",
    });
    expect(environ).toContain(`${PURGE_DELAY_VARIABLE}=${PURGE_DELAY}`);
    expect(environ).toContain(`${GC_TIMER_VARIABLE}=${GC_TIMER_OFF}`);
    expect(environ).toContain(`${FTL_THRESHOLD_VARIABLE}=${FTL_THRESHOLD}`);
    expect(environ).toContain("MARK=kept");
    expect(cmdline).toEqual([
      LANNER,
      "run",
      "-o",
      "file_output.enabled=false",
      "-o",
      "stdout_output.enabled=false",
    ]);
  }, 60_000);

  test("a value the user set is kept", async () => {
    const { environ } = await runAndRead({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      [PURGE_DELAY_VARIABLE]: "250",
    });
    expect(environ).toContain(`${PURGE_DELAY_VARIABLE}=250`);
    expect(environ).not.toContain(`${PURGE_DELAY_VARIABLE}=${PURGE_DELAY}`);
  }, 60_000);
});
