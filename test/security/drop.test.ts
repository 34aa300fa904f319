// What the agent logs around the drop (agent/security/drop.ts). The drop itself is irreversible,
// so here it is replaced by functions returning this process's real capability sets (unchanged)
// or failing; the real drop runs in a subprocess (capabilities.test.ts) and in the running agent
// (test/e2e/operate.test.ts).

import { afterEach, expect, test } from "bun:test";
import { readCapabilities } from "../../agent/security/capabilities.ts";
import { dropPrivilegesAfterAttach } from "../../agent/security/drop.ts";
import { LogCapture } from "../ops/log-capture.ts";

let capture: LogCapture | undefined;
afterEach(() => capture?.close());

test("a drop is logged with the kept capabilities and CapEff before and after", () => {
  capture = new LogCapture();
  const now = readCapabilities();
  dropPrivilegesAfterAttach(capture.log, () => ({ before: now, after: now, boundingKept: 0 }));
  const [line] = capture.lines();
  expect(line.msg).toBe("capabilities dropped after attach");
  expect(line.cap_eff_before).toBe(now.effective.toString(16));
  expect(line.no_new_privs).toBe(now.noNewPrivs);
  if (process.getuid?.() === 0)
    expect(line.kept).toBe("CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE,CAP_DAC_READ_SEARCH");
});

test("a kernel that refuses is a warning, and the agent goes on", () => {
  capture = new LogCapture();
  dropPrivilegesAfterAttach(capture.log, () => {
    throw new Error("capset refused to drop capabilities");
  });
  expect(capture.lines()).toEqual([
    expect.objectContaining({
      level: "warning",
      msg: "could not drop capabilities; running with the ones the agent started with",
      error: "capset refused to drop capabilities",
    }),
  ]);
});
