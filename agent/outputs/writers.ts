// Where alerts are written: standard output, and a local file (appended, created 0600).

import { closeSync, openSync, writeSync } from "node:fs";
import type { SinkWriter } from "./sink.ts";

export class StdoutWriter implements SinkWriter {
  readonly name = "stdout";
  write(line: string): void {
    writeAll(1, `${line}\n`);
  }
  close(): void {}
}

export class FileWriter implements SinkWriter {
  readonly name: string;
  private readonly fd: number;

  /** Opens (creating with mode 0600) the file for appending; throws with the path on failure. */
  constructor(readonly path: string) {
    this.name = `file:${path}`;
    this.fd = openSync(path, "a", 0o600);
  }

  write(line: string): void {
    writeAll(this.fd, `${line}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
