// Standard output without blocking: Bun's FileSink writes fd 1 with non-blocking I/O and tells when
// the data is out. One batch is handed over at a time, so when the reader stalls (a container-log
// pipe nobody drains) the batch waits here, the sink's queue fills and its policy applies, while
// the event loop, the other sinks and SIGTERM keep working.

import { DeliveryError, type Transport } from "./delivery.ts";

export type StreamWriter = ReturnType<typeof Bun.stdout.writer>;
let shared: StreamWriter | undefined;

export class StdoutTransport implements Transport {
  readonly name = "stdout";
  private readonly writer: StreamWriter;

  /** `writer`: fd 1's (shared by every stdout transport, so lines never interleave) unless given. */
  constructor(writer?: StreamWriter) {
    if (writer === undefined) shared ??= Bun.stdout.writer();
    this.writer = writer ?? (shared as StreamWriter);
  }

  async writeBatch(lines: string[], signal: AbortSignal): Promise<number> {
    this.writer.write(`${lines.join("\n")}\n`);
    const flushed = this.writer.flush();
    if (flushed instanceof Promise) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new DeliveryError("standard output is not being read"));
        signal.addEventListener("abort", onAbort, { once: true });
        flushed.then(
          () => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          },
          (err: unknown) => {
            signal.removeEventListener("abort", onAbort);
            reject(new DeliveryError(`cannot write standard output: ${String(err)}`));
          },
        );
      });
    }
    return 0;
  }

  async close(): Promise<void> {}
}
