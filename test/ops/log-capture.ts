// A real Logger writing JSON lines to a temp file, and the lines it wrote.

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../../agent/log.ts";

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class LogCapture {
  readonly log: Logger;
  private readonly dir = mkdtempSync(join(tmpdir(), "lanner-log-"));
  private readonly path = join(this.dir, "log.jsonl");
  private readonly fd = openSync(this.path, "a");

  constructor() {
    this.log = new Logger("debug", true, this.fd);
  }

  lines(): LogLine[] {
    return readFileSync(this.path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as LogLine);
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
