// A size-capped directory of alert batches, kept while a collector is unreachable and sent in order
// when it returns. Each batch is one file written to a temporary name, fsynced and renamed, then
// the directory fsynced, so a crash leaves either the whole batch or none of it; a header with the
// line count, body length and CRC-32 catches a file damaged later (moved aside, counted, skipped).
// Files are named by a sequence number: the head is the oldest batch. The spool survives restarts.

import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

const NAME = /^(\d{16})\.batch$/;
const MAGIC = "lanner-spool 1";
/** First sequence number of an empty spool: room below it for batches put back at the head. */
const FIRST_SEQ = 500_000_000_000_000;

interface Entry {
  seq: number;
  bytes: number;
}

export class SpoolError extends Error {}

export class Spool {
  private entries: Entry[] = [];
  private bytesHeld = 0;
  /** Batch files found damaged and moved aside. */
  corrupt = 0;
  /** Alerts in the damaged files, as far as their header says. */
  corruptAlerts = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new SpoolError(`cannot create spool directory '${dir}': ${(err as Error).message}`);
    }
    const st = lstatSync(dir);
    if (!st.isDirectory())
      throw new SpoolError(`spool directory '${dir}' is not a directory (or is a symlink)`);
    const uid = process.getuid?.() ?? st.uid;
    if (st.uid !== uid)
      throw new SpoolError(
        `spool directory '${dir}' belongs to uid ${st.uid}, not to the agent's uid ${uid}`,
      );
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (m === null) {
        // A temporary file from a crash mid-write: never renamed, so never part of the spool.
        if (name.endsWith(".tmp")) unlinkSync(join(dir, name));
        continue;
      }
      const bytes = statSync(join(dir, name)).size;
      this.entries.push({ seq: Number(m[1]), bytes });
      this.bytesHeld += bytes;
    }
    this.entries.sort((a, b) => a.seq - b.seq);
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  get batches(): number {
    return this.entries.length;
  }

  /** Adds a batch after the newest; false (nothing written) when it would pass the cap. */
  append(lines: readonly string[]): boolean {
    const last = this.entries[this.entries.length - 1];
    return this.write(last === undefined ? FIRST_SEQ : last.seq + 1, lines, false, false);
  }

  /** Puts a batch back before the oldest (one that failed to send); may pass the cap when forced. */
  prepend(lines: readonly string[], force = false): boolean {
    const first = this.entries[0];
    return this.write(first === undefined ? FIRST_SEQ : first.seq - 1, lines, true, force);
  }

  /** The oldest batch's lines; damaged files are moved aside and skipped. */
  head(): string[] | undefined {
    for (;;) {
      const e = this.entries[0];
      if (e === undefined) return undefined;
      const path = this.pathOf(e.seq);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        throw new SpoolError(`cannot read spool batch '${path}': ${(err as Error).message}`);
      }
      const lines = decodeBatch(text);
      if (lines !== undefined) return lines;
      this.corrupt++;
      this.corruptAlerts += headerCount(text);
      renameSync(path, `${path}.corrupt`);
      this.entries.shift();
      this.bytesHeld -= e.bytes;
    }
  }

  /** Deletes the oldest batch (it was delivered). */
  removeHead(): void {
    const e = this.entries.shift();
    if (e === undefined) return;
    unlinkSync(this.pathOf(e.seq));
    this.bytesHeld -= e.bytes;
  }

  /** Replaces the oldest batch by its undelivered rest (same place in the order). */
  replaceHead(rest: readonly string[]): void {
    const e = this.entries[0];
    if (e === undefined) return;
    if (rest.length === 0) {
      this.removeHead();
      return;
    }
    this.entries.shift();
    this.bytesHeld -= e.bytes;
    this.write(e.seq, rest, true, true);
  }

  private pathOf(seq: number): string {
    return join(this.dir, `${String(seq).padStart(16, "0")}.batch`);
  }

  private write(seq: number, lines: readonly string[], atHead: boolean, force: boolean): boolean {
    const data = Buffer.from(encodeBatch(lines), "utf8");
    if (!force && this.bytesHeld + data.length > this.maxBytes) return false;
    const path = this.pathOf(seq);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {}
      throw new SpoolError(`cannot write spool batch '${path}': ${(err as Error).message}`);
    }
    closeSync(fd);
    renameSync(tmp, path);
    syncDir(this.dir);
    const entry = { seq, bytes: data.length };
    if (atHead) this.entries.unshift(entry);
    else this.entries.push(entry);
    this.bytesHeld += data.length;
    return true;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    if (fstatSync(fd).isDirectory()) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function encodeBatch(lines: readonly string[]): string {
  const body = lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  const len = Buffer.byteLength(body, "utf8");
  const crc = Bun.hash.crc32(body).toString(16);
  return `${MAGIC} ${lines.length} ${len} ${crc}\n${body}`;
}

/** The lines of a batch file, or undefined when it is damaged. */
export function decodeBatch(text: string): string[] | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const h = text.slice(0, nl).split(" ");
  if (h.length !== 5 || `${h[0]} ${h[1]}` !== MAGIC) return undefined;
  const count = Number(h[2]);
  const len = Number(h[3]);
  const body = text.slice(nl + 1);
  if (Buffer.byteLength(body, "utf8") !== len) return undefined;
  if (Bun.hash.crc32(body).toString(16) !== h[4]) return undefined;
  const lines = body === "" ? [] : body.slice(0, -1).split("\n");
  return lines.length === count ? lines : undefined;
}

function headerCount(text: string): number {
  const n = Number(text.slice(0, text.indexOf("\n")).split(" ")[2]);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
