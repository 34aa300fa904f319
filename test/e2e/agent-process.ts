// Runs the built executable (dist/lanner) as a real agent for end-to-end tests: writes a config
// into a temp dir, starts the agent, waits until its probe is attached, reads the alerts it
// writes, and stops it with a real signal.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO = join(import.meta.dir, "..", "..");
export const LANNER = join(REPO, "dist", "lanner");

export interface AlertJson {
  rule: string;
  priority: string;
  output: string;
  output_fields: Record<string, unknown>;
  source: string;
  tags: string[];
  hostname: string;
  time: string;
}

export class AgentRun {
  readonly dir: string;
  readonly alertsPath: string;
  private proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  private stderrText = "";
  private stdoutText = "";

  constructor(private readonly extraConfig = "") {
    if (!existsSync(LANNER)) throw new Error(`${LANNER} is missing: run scripts/build first (npm test does)`);
    this.dir = mkdtempSync(join(tmpdir(), "lanner-e2e-"));
    this.alertsPath = join(this.dir, "alerts.jsonl");
  }

  get configPath(): string {
    return join(this.dir, "config.yaml");
  }

  /** Starts the agent; `wrap` can put a command in front (e.g. unshare ... sh -c). */
  async start(args: string[] = [], wrap?: (argv: string[]) => string[]): Promise<void> {
    writeFileSync(
      this.configPath,
      [
        "json_output: true",
        "stdout_output:",
        "  enabled: true",
        "file_output:",
        "  enabled: true",
        `  filename: ${this.alertsPath}`,
        "engine:",
        "  modern_ebpf:",
        "    drain_interval_ms: 10",
        this.extraConfig,
      ].join("\n"),
    );
    const argv = [LANNER, "run", "-c", this.configPath, ...args];
    this.proc = Bun.spawn(wrap === undefined ? argv : wrap(argv), {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      cwd: this.dir,
    });
    void this.collect(this.proc.stderr, (t) => {
      this.stderrText += t;
    });
    void this.collect(this.proc.stdout, (t) => {
      this.stdoutText += t;
    });
    const deadline = Date.now() + 20_000;
    while (!this.stderrText.includes("capture started")) {
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`agent did not start (exit ${this.proc.exitCode}):\n${this.stderrText}`);
      }
      await Bun.sleep(20);
    }
  }

  get pid(): number {
    if (this.proc === undefined) throw new Error("not started");
    return this.proc.pid;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get stdout(): string {
    return this.stdoutText;
  }

  alerts(): AlertJson[] {
    if (!existsSync(this.alertsPath)) return [];
    // Whole lines only: a batch being appended right now may be visible half written, as to any
    // tail -F reader; its line is read once its newline is there.
    return readFileSync(this.alertsPath, "utf8")
      .split("\n")
      .slice(0, -1)
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as AlertJson);
  }

  /** Polls the alert file until `pick` finds what it wants or the time is up. */
  async waitForAlerts(pick: (alerts: AlertJson[]) => boolean, ms = 5000): Promise<AlertJson[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const alerts = this.alerts();
      if (pick(alerts) || Date.now() > deadline) return alerts;
      await Bun.sleep(25);
    }
  }

  /** Sends a signal and does not wait. */
  signal(signal: NodeJS.Signals): void {
    if (this.proc === undefined) throw new Error("not started");
    this.proc.kill(signal);
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    if (this.proc === undefined) throw new Error("not started");
    this.proc.kill(signal);
    const code = await Promise.race([this.proc.exited, Bun.sleep(15_000).then(() => -1)]);
    if (code === -1) this.proc.kill("SIGKILL");
    return code;
  }

  /** Waits for the agent to exit by itself; -1 if it has not within `ms`. */
  async waitExit(ms = 15_000): Promise<number> {
    if (this.proc === undefined) throw new Error("not started");
    return await Promise.race([this.proc.exited, Bun.sleep(ms).then(() => -1)]);
  }

  cleanup(): void {
    if (this.proc !== undefined && this.proc.exitCode === null) this.proc.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  }
}
