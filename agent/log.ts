// The agent's own log: JSON lines on stderr (one object per line: time, level, msg and fields),
// or readable text when stderr is a terminal. Levels follow Falco's log_level names.

import { fstatSync, writeSync } from "node:fs";

export const LOG_LEVELS = [
  "emergency",
  "alert",
  "critical",
  "error",
  "warning",
  "notice",
  "info",
  "debug",
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

let stderrTerminal: boolean | undefined;
/**
 * Whether fd 2 is a terminal. A terminal is a character device: anything else (a file, a pipe, a
 * socket) is answered by one fstat, without process.stderr, whose stream took 15-35 ms of every
 * start; a character device (a terminal, /dev/null) is asked through it.
 */
export function stderrIsTerminal(): boolean {
  if (stderrTerminal === undefined) {
    let charDevice = true;
    try {
      charDevice = fstatSync(2).isCharacterDevice();
    } catch {
      // fd 2 is closed: process.stderr answers for it as before.
    }
    stderrTerminal = charDevice && process.stderr.isTTY === true;
  }
  return stderrTerminal;
}

export class Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel = "info",
    private readonly json: boolean = !stderrIsTerminal(),
    private readonly fd = 2,
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
  warning(msg: string, fields?: LogFields): void {
    this.log("warning", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (LOG_LEVELS.indexOf(level) > this.threshold) return;
    const time = new Date().toISOString();
    let line: string;
    if (this.json) {
      line = JSON.stringify({ time, level, msg, ...fields });
    } else {
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : v}`)
        .join(" ");
      line = `${time} ${level.toUpperCase()} ${msg}${extra === "" ? "" : ` ${extra}`}`;
    }
    try {
      writeSync(this.fd, `${line}\n`);
    } catch {
      // stderr is gone; there is nowhere left to report to.
    }
  }
}
