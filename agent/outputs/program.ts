// program_output: alerts piped to `sh -c PROGRAM`. With keep_alive the program runs for the agent's
// lifetime and is started again when it exits (counted); without, it runs once per batch, reading
// the batch on standard input. Writes to its pipe are non-blocking: a program that stops reading
// stalls only this sink. A batch written just as a kept-alive program dies may be lost with it (the
// pipe gives no receipt), as with Falco's program_output.

import type { Subprocess } from "bun";
import type { MetricSample } from "../common/index.ts";
import { DeliveryError, type Transport } from "./delivery.ts";

type Child = Subprocess<"pipe", "ignore", "inherit">;

export class ProgramTransport implements Transport {
  readonly name: string;
  private child: Child | undefined;
  /** Times the kept-alive program had exited and was started again. */
  restarts = 0;
  /** Runs (keep_alive off) that ended with a non-zero status. */
  failedRuns = 0;

  constructor(
    private readonly program: string,
    private readonly keepAlive: boolean,
  ) {
    if (program.trim() === "") throw new DeliveryError("program_output.program is empty");
    this.name = `program:${program}`;
  }

  private spawn(): Child {
    return Bun.spawn(["sh", "-c", this.program], { stdin: "pipe", stdout: "ignore", stderr: "inherit" });
  }

  async writeBatch(lines: string[], signal: AbortSignal): Promise<number> {
    const text = `${lines.join("\n")}\n`;
    if (!this.keepAlive) {
      const child = this.spawn();
      await this.feed(child, text, signal);
      await child.stdin.end();
      const aborted = new Promise<null>((resolve) =>
        signal.addEventListener("abort", () => resolve(null), { once: true }),
      );
      const status = await Promise.race([child.exited, aborted]);
      if (status === null) {
        child.kill("SIGTERM");
        throw new DeliveryError(`${this.name}: still running at shutdown`);
      }
      if (status !== 0) this.failedRuns++;
      return 0;
    }
    if (this.child !== undefined && hasEnded(this.child)) {
      this.child = undefined;
      this.restarts++;
    }
    this.child ??= this.spawn();
    try {
      await this.feed(this.child, text, signal);
    } catch (err) {
      this.child = undefined;
      throw err;
    }
    return 0;
  }

  private async feed(child: Child, text: string, signal: AbortSignal): Promise<void> {
    try {
      child.stdin.write(text);
      const flushed = child.stdin.flush();
      if (flushed instanceof Promise)
        await Promise.race([
          flushed,
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
          ),
        ]);
    } catch (err) {
      throw new DeliveryError(`${this.name}: cannot write to the program: ${(err as Error).message}`);
    }
  }

  metrics(): MetricSample[] {
    return [
      {
        name: "output_program_restarts_total",
        type: "counter",
        help: "Kept-alive program restarts",
        value: this.restarts,
      },
      {
        name: "output_program_failed_runs_total",
        type: "counter",
        help: "Program runs with a non-zero exit",
        value: this.failedRuns,
      },
    ];
  }

  async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c === undefined || hasEnded(c)) return;
    try {
      await c.stdin.end();
    } catch {}
    const done = await Promise.race([c.exited, Bun.sleep(2000).then(() => undefined)]);
    if (done === undefined) c.kill("SIGTERM");
  }
}

/** Exited, or killed by a signal (exitCode stays null then). */
function hasEnded(c: Child): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}
