// The state tracker's and append_output's settings from the configuration.

import type { LannerConfig } from "../config/index.ts";
import type { BootClock } from "../events/index.ts";
import { AppendOutput, AppendOutputError } from "../rules/index.ts";
import { joinAndNormalize, type StateOptions, UserTable } from "../state/index.ts";
import { EXIT_INVALID } from "./exit-codes.ts";
import { CliFailure } from "./setup.ts";

/** A runtime's state directory below the host root, or undefined when the runtime is disabled. */
function engineDir(hostRoot: string, engine: { enabled: boolean; state_dir: string }): string | undefined {
  return engine.enabled ? joinAndNormalize("/", `${hostRoot}/${engine.state_dir}`) : undefined;
}

export function stateOptions(config: LannerConfig, hostname: string, clock: BootClock): StateOptions {
  const s = config.state;
  const e = config.container_engines;
  return {
    processCapacity: s.max_processes,
    users: UserTable.load(s.host_root, s.max_users),
    host: { hostname, clock },
    hostRoot: s.host_root,
    fdsPerProcess: s.max_fds_per_process,
    fdsTotal: Math.max(s.max_fds_total, s.max_fds_per_process),
    containerCapacity: s.max_containers,
    containerEngines: {
      containerd: engineDir(s.host_root, e.containerd),
      crio: engineDir(s.host_root, e["cri-o"]),
      docker: engineDir(s.host_root, e.docker),
    },
    repairRate: s.repair_rate,
    repairBurst: s.repair_burst,
  };
}

export function appendOutputOrFail(entries: LannerConfig["append_output"]): AppendOutput {
  try {
    return new AppendOutput(entries);
  } catch (err) {
    if (err instanceof AppendOutputError) throw new CliFailure(err.message, EXIT_INVALID);
    throw err;
  }
}
