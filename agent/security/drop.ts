// The agent's call after attach: drop what is no longer needed, and say what is kept. A kernel
// that refuses is logged, not fatal: the agent keeps running with the privileges it had.

import type { Logger } from "../log.ts";
import { type DropResult, dropCapabilities, KEPT_AFTER_ATTACH } from "./capabilities.ts";

export function dropPrivilegesAfterAttach(log: Logger, drop: () => DropResult = dropCapabilities): void {
  try {
    const r = drop();
    log.info("capabilities dropped after attach", {
      kept: Object.keys(KEPT_AFTER_ATTACH)
        .filter((name) => (r.after.effective >> BigInt(KEPT_AFTER_ATTACH[name].cap)) & 1n)
        .join(","),
      cap_eff_before: r.before.effective.toString(16),
      cap_eff_after: r.after.effective.toString(16),
      no_new_privs: r.after.noNewPrivs,
      bounding_not_dropped: r.boundingKept,
    });
  } catch (err) {
    log.warning("could not drop capabilities; running with the ones the agent started with", {
      error: (err as Error).message,
    });
  }
}
