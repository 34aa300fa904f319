// `lanner selftest [--json]`: proves on this node that detection works end to end. It starts the
// agent in-process (live probe, the embedded default rules), performs a harmless version of what
// each rule watches for (selftest-actions.ts), and reports per action whether the expected rule
// fired and how long it took from the action's start to the alert. Exit 0 only if every expected
// rule fired. Everything it creates is removed, also on SIGINT/SIGTERM.

import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, type AgentOutputs, liveFrameSource } from "../agent/index.ts";
import { Logger } from "../log.ts";
import type { Alert } from "../outputs/index.ts";
import { ruleLiveness } from "../rules/index.ts";
import { StateTracker } from "../state/index.ts";
import { parseArgs } from "./args.ts";
import { buildEngine } from "./assemble.ts";
import { EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { openProbe } from "./probe-setup.ts";
import { type ActionContext, Cleanup, SELFTEST_ACTIONS, type SelftestAction } from "./selftest-actions.ts";
import { CliFailure, loadCliConfig, loadCliRules } from "./setup.ts";
import { stateOptions } from "./state-options.ts";

export const SELFTEST_HELP = `Usage: lanner selftest [--json]

Checks on this node that detection works: attaches the probe with the embedded default rules,
performs a harmless version of what each rule watches for (temp files, 127.0.0.1, private
network and mount namespaces it creates, no secret content read, refused kernel calls), and prints
per action the expected rule, whether it fired and the latency from the action's event (its kernel time) to the alert. Everything created is removed,
also when interrupted.

  --json       print {"results": [{"action", "rule", "fired", "latency_ms"}...]}
  -h, --help   this help

Exit codes: 0 every expected rule fired, 1 some did not, 2 environment (not root, no BPF/BTF).`;

/** How long to wait for an action's alert after the action ends. */
const ALERT_WAIT_MS = 3000;
/** Alerts kept while the self-test runs (other activity on the node may raise some too). */
const KEPT_ALERTS = 10_000;

export interface SelftestResult {
  action: string;
  rule: string;
  fired: boolean;
  latency_ms: number | null;
  /** Why it did not fire, when known (not in --json). */
  note: string;
}

interface Received {
  alert: Alert;
  /** performance.now() when the alert reached the outputs. */
  at: number;
  /** Milliseconds from the event's kernel time to the alert reaching the outputs. */
  latencyMs: number;
}

/** Outputs that keep the alerts in memory with the time they arrived. */
function collectingOutputs(rules: ReadonlySet<string>): { outputs: AgentOutputs; received: Received[] } {
  const received: Received[] = [];
  let dropped = 0;
  const outputs: AgentOutputs = {
    publish(alert) {
      if (!rules.has(alert.rule)) return;
      if (received.length < KEPT_ALERTS) {
        const eventMs = alert.time.sec * 1000 + alert.time.nsec / 1e6;
        received.push({ alert, at: performance.now(), latencyMs: Date.now() - eventMs });
      } else dropped++;
    },
    reopen() {},
    async shutdown() {},
    health: () => ({
      healthy: dropped === 0,
      problems: dropped === 0 ? [] : [`${dropped} alert(s) not kept`],
    }),
    metrics: () => [
      { name: "selftest_alerts_dropped_total", type: "counter", help: "Alerts past the cap", value: dropped },
    ],
  };
  return { outputs, received };
}

export async function selftestCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, [{ name: "json" }, { name: "help", short: "h" }]);
  if (args.switches.has("help")) {
    console.log(SELFTEST_HELP);
    return EXIT_OK;
  }
  if (args.positional.length > 0)
    throw new CliFailure(`unexpected argument '${args.positional[0]}'\n\n${SELFTEST_HELP}`, 2);
  const results = await runSelftest(SELFTEST_ACTIONS);
  if (args.switches.has("json")) {
    const plain = results.map(({ action, rule, fired, latency_ms }) => ({ action, rule, fired, latency_ms }));
    console.log(JSON.stringify({ results: plain }, null, 2));
  } else {
    console.log(renderTable(results));
  }
  return results.every((r) => r.fired) ? EXIT_OK : EXIT_INVALID;
}

/** Runs the actions through a live agent with the embedded default rules. */
export async function runSelftest(actions: readonly SelftestAction[]): Promise<SelftestResult[]> {
  const config = loadCliConfig(undefined, ["rule_matching=all", "priority=debug", "log_level=error"]);
  const log = new Logger("error");
  const loaded = loadCliRules([]);
  if (loaded.diagnostics.errorCount > 0)
    throw new CliFailure("the embedded default rules do not load", EXIT_INVALID);
  const byName = new Map(loaded.ruleset.rules.map((r) => [r.name, r]));
  const { outputs, received } = collectingOutputs(new Set(actions.map((a) => a.rule)));

  const probe = openProbe(config);
  const cleanup = new Cleanup();
  // The pid in every name: concurrent self-tests (and their checks) never mistake each other's files.
  const dir = mkdtempSync(join(tmpdir(), `lanner-selftest-${process.pid}-`));
  cleanup.path(dir);
  const agent = new Agent({
    source: liveFrameSource(probe),
    // The same state settings as `lanner run`: with the host root set, facts read from /proc
    // (an executable's overlay layer, for one) are filled as they are on a running agent.
    state: new StateTracker(stateOptions(config, hostname(), probe.clock)),
    engine: buildEngine(loaded, config),
    outputs,
    log,
    hostname: hostname(),
    clock: "kernel",
    statsIntervalMs: 0,
  });
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (s) => void s.end(), data: () => {} },
  });
  cleanup.add(() => listener.stop(true));

  // An interrupt still removes what the actions created.
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup.run();
    void agent.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const results: SelftestResult[] = [];
  try {
    agent.start();
    const base = `${process.pid}x${Date.now().toString(36)}`;
    const pending: { result: SelftestResult; marker: string; start: number; end: number }[] = [];
    for (const [i, action] of actions.entries()) {
      // A token per action ("s1x..." is no substring of "s10x..."), so alerts match one action.
      const ctx: ActionContext = { dir, token: `s${i}x${base}`, port: listener.port, cleanup };
      const result: SelftestResult = {
        action: action.action,
        rule: action.rule,
        fired: false,
        latency_ms: null,
        note: "",
      };
      results.push(result);
      const missing = action.needs.filter((p) => Bun.which(p) === null);
      if (missing.length > 0) {
        result.note = `not run: needs ${missing.join(", ")}`;
        continue;
      }
      const start = performance.now();
      try {
        const marker = await action.run(ctx);
        pending.push({ result, marker, start, end: performance.now() });
      } catch (err) {
        result.note = `not run: ${(err as Error).message}`;
      }
    }
    // Wait until every action's alert arrived or its wait is over.
    const match = (p: (typeof pending)[number]) =>
      received.find(
        (r) => r.at >= p.start && r.alert.rule === p.result.rule && r.alert.message.includes(p.marker),
      );
    for (;;) {
      const now = performance.now();
      const open = pending.filter((p) => match(p) === undefined && now < p.end + ALERT_WAIT_MS);
      if (open.length === 0) break;
      await Bun.sleep(20);
    }
    for (const p of pending) {
      const hit = match(p);
      if (hit !== undefined) {
        p.result.fired = true;
        // From the action's syscall (the event's kernel time) to the alert: process start-up of
        // the action's helper (python, a shell) is not part of what the agent costs.
        p.result.latency_ms = Math.max(0, Math.round(hit.latencyMs * 10) / 10);
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await agent.stop();
    cleanup.run();
  }
  for (const r of results) {
    if (r.fired || r.note !== "") continue;
    const rule = byName.get(r.rule);
    if (rule === undefined) {
      r.note = "rule not loaded";
      continue;
    }
    const live = ruleLiveness(rule);
    const parts: string[] = [];
    if (live.uncapturedEventTypes.length > 0)
      parts.push(`event types not captured: ${live.uncapturedEventTypes.join(", ")}`);
    if (live.unfilledFields.length > 0) parts.push(`fields not filled: ${live.unfilledFields.join(", ")}`);
    r.note = parts.length > 0 ? parts.join("; ") : "no alert within the wait";
  }
  return results;
}

export function renderTable(results: readonly SelftestResult[]): string {
  const rows = [
    ["action", "expected rule", "fired", "latency ms", "note"],
    ...results.map((r) => [
      r.action,
      r.rule,
      r.fired ? "yes" : "NO",
      r.latency_ms === null ? "-" : r.latency_ms.toFixed(1),
      r.note,
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell))
      .join("  ")
      .trimEnd(),
  );
  const fired = results.filter((r) => r.fired).length;
  lines.push("", `${fired} of ${results.length} expected rules fired`);
  return lines.join("\n");
}
