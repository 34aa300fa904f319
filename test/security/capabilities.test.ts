// Least privilege (agent/security/capabilities.ts). The drop itself runs in a subprocess (it is
// irreversible, and the test runner shares one process between test files).

import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { CAP, keepMask, maskOf, readCapabilities } from "../../agent/security/capabilities.ts";

const ROOT = resolve(import.meta.dir, "../..");
const KEPT = maskOf([CAP.BPF, CAP.PERFMON, CAP.SYS_PTRACE, CAP.DAC_READ_SEARCH]);
const isRoot = process.getuid?.() === 0;

describe("keepMask", () => {
  test("keeps BPF, PERFMON, SYS_PTRACE, DAC_READ_SEARCH of what the process has, nothing else", () => {
    const all = (1n << 41n) - 1n;
    expect(keepMask(all)).toBe(KEPT);
    expect(keepMask(maskOf([CAP.BPF, CAP.PERFMON, 0, 1]))).toBe(maskOf([CAP.BPF, CAP.PERFMON]));
  });
  test("without CAP_BPF, CAP_SYS_ADMIN stands in for it", () => {
    expect(keepMask(maskOf([CAP.SYS_ADMIN, CAP.SYS_PTRACE, 0]))).toBe(
      maskOf([CAP.SYS_ADMIN, CAP.SYS_PTRACE]),
    );
  });
  test("readCapabilities parses this process's status", () => {
    const c = readCapabilities();
    expect(c.effective & ~c.permitted).toBe(0n);
    expect(typeof c.noNewPrivs).toBe("boolean");
  });
});

test.skipIf(!isRoot)(
  "after the drop: only the kept set, no_new_privs, chown to another user refused, /proc still readable, a child gets no more",
  () => {
    const proc = Bun.spawnSync(
      [join(ROOT, "node_modules/.bin/bun"), join(import.meta.dir, "drop-fixture.ts")],
      {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
        timeout: 20_000,
      },
    );
    expect(proc.stderr.toString()).toBe("");
    const r = JSON.parse(proc.stdout.toString()) as Record<string, string | boolean | number>;
    const before = BigInt(`0x${r.before}`);
    const expected = (KEPT & before).toString(16);
    expect(r.after).toBe(expected);
    expect(r.permitted).toBe(expected);
    expect(r.bounding).toBe(expected);
    expect(r.noNewPrivs).toBe(true);
    expect(r.boundingKept).toBe(0);
    expect(r.chownToOtherUser).toBe("EPERM");
    expect(r.killOtherUser).toBe("EPERM");
    // CAP_SYS_PTRACE is kept for this: the state tracker reads other users' /proc entries.
    expect(r.readOtherUsersCwd).toBe("ok");
    const child = String(r.child);
    const childEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(child)?.[1]}`);
    expect(childEff & ~KEPT).toBe(0n);
    expect(child).toMatch(/NoNewPrivs:\s*1/);
  },
);
