// `lanner version`: the agent, record schema and rules-engine versions.

import pkg from "../../package.json" with { type: "json" };
import { SCHEMA_VERSION } from "../events/index.ts";
import { ENGINE_VERSION } from "../rules/index.ts";
import { parseArgs } from "./args.ts";
import { EXIT_OK } from "./exit-codes.ts";

export function versionCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, [{ name: "json" }, { name: "help", short: "h" }]);
  const info = {
    lanner: pkg.version,
    record_schema: SCHEMA_VERSION,
    falco_rules_engine: ENGINE_VERSION,
    bun: Bun.version,
  };
  if (args.switches.has("help")) console.log("Usage: lanner version [--json]");
  else if (args.switches.has("json")) console.log(JSON.stringify(info));
  else
    console.log(
      `lanner ${info.lanner} (record schema ${info.record_schema}, Falco rules engine ${info.falco_rules_engine}, bun ${info.bun})`,
    );
  return EXIT_OK;
}
