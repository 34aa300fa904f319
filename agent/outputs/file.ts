// The alert file: lines appended to a file created 0600 with O_NOFOLLOW. An existing path is refused
// when it is a symlink, not a regular file, not owned by the agent's uid, or has other hard links
// (each would let someone with write access to the directory redirect root's writes). The file is
// reopened on SIGUSR1 and whenever the path no longer names the open file (logrotate's rename or
// delete; checked before every batch, one stat). Rotation by size keeps N files. A failed write
// (ENOSPC, EIO) is cut back to the last whole line, so the file never holds a partial line.

import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  openSync,
} from "node:fs";
import type { MetricSample } from "../common/index.ts";
import { DeliveryError, type Transport } from "./delivery.ts";

export class FileSinkError extends Error {}

export interface FileSinkOptions {
  path: string;
  /** Rotate before the file would pass this many bytes; 0 = never. */
  maxBytes: number;
  /** Rotated files kept: path.1 (newest) ... path.N. */
  keep: number;
  fsync: boolean;
}

/** Opens `path` for appending, refusing anything an attacker could have planted. */
export function openAlertFile(path: string): { fd: number; dev: number; ino: number; size: number } {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ELOOP")
      throw new FileSinkError(
        `refusing alert file '${path}': it is a symbolic link (remove it or fix the path)`,
      );
    throw new FileSinkError(`cannot open alert file '${path}': ${e.message}`);
  }
  const st = fstatSync(fd);
  const uid = process.getuid?.() ?? st.uid;
  let problem = "";
  if (!st.isFile()) problem = "it is not a regular file";
  else if (st.uid !== uid) problem = `it belongs to uid ${st.uid}, not to the agent's uid ${uid}`;
  else if (st.nlink > 1) problem = `it has ${st.nlink} hard links`;
  if (problem !== "") {
    closeSync(fd);
    throw new FileSinkError(`refusing alert file '${path}': ${problem}`);
  }
  return { fd, dev: st.dev, ino: st.ino, size: st.size };
}

export class FileTransport implements Transport {
  readonly name: string;
  private fd = -1;
  private dev = 0;
  private ino = 0;
  private size = 0;
  /** Reused to encode batches (encode()). */
  private scratch = Buffer.alloc(0);
  private reopenRequested = false;
  /** Times the file was reopened because it was renamed or deleted under the agent. */
  reopenedMoved = 0;
  /** Failed writes cut back to the last whole line. */
  truncatedWrites = 0;
  rotations = 0;
  /** SIGUSR1 reopen requests. */
  reopenedSignal = 0;
  fsyncErrors = 0;

  constructor(private readonly opts: FileSinkOptions) {
    this.name = `file:${opts.path}`;
    this.open();
  }

  private open(): void {
    const f = openAlertFile(this.opts.path);
    this.fd = f.fd;
    this.dev = f.dev;
    this.ino = f.ino;
    this.size = f.size;
  }

  private closeFd(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  reopen(): void {
    this.reopenRequested = true;
    this.reopenedSignal++;
  }

  metrics(): MetricSample[] {
    const c = (name: string, help: string, value: number): MetricSample => ({
      name,
      type: "counter",
      help,
      value,
    });
    return [
      c(
        "output_file_reopened_moved_total",
        "Alert file reopened because it was renamed or deleted",
        this.reopenedMoved,
      ),
      c("output_file_reopen_requests_total", "Reopens requested by SIGUSR1", this.reopenedSignal),
      c("output_file_rotations_total", "Alert file rotations by size", this.rotations),
      c(
        "output_file_truncated_writes_total",
        "Failed writes cut back to the last whole line",
        this.truncatedWrites,
      ),
      c("output_file_fsync_errors_total", "fsync failures after a written batch", this.fsyncErrors),
    ];
  }

  /** Whether the path still names the open file. */
  private pathIsOurs(): boolean {
    try {
      const st = statSync(this.opts.path);
      return st.ino === this.ino && st.dev === this.dev;
    } catch {
      return false;
    }
  }

  private ensureOpen(): void {
    if (this.fd >= 0 && !this.reopenRequested && this.pathIsOurs()) return;
    if (this.fd >= 0 && !this.reopenRequested) this.reopenedMoved++;
    this.reopenRequested = false;
    this.closeFd();
    try {
      this.open();
    } catch (err) {
      throw new DeliveryError((err as Error).message);
    }
  }

  private rotate(): void {
    this.closeFd();
    const p = this.opts.path;
    rmSync(`${p}.${this.opts.keep}`, { force: true });
    for (let i = this.opts.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${p}.${i}`, `${p}.${i + 1}`);
      } catch {}
    }
    renameSync(p, `${p}.1`);
    this.rotations++;
    this.open();
  }

  async writeBatch(lines: string[]): Promise<number> {
    this.ensureOpen();
    const data = this.encode(lines);
    if (this.opts.maxBytes > 0 && this.size > 0 && this.size + data.length > this.opts.maxBytes) {
      try {
        this.rotate();
      } catch (err) {
        throw new DeliveryError(`cannot rotate alert file '${this.opts.path}': ${(err as Error).message}`);
      }
    }
    const start = this.size;
    let off = 0;
    try {
      while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    } catch (err) {
      // Whole lines that made it stay; the partial tail is cut so the next write starts a new line.
      const keep = off === 0 ? 0 : data.lastIndexOf(10, off - 1) + 1;
      if (keep < off) {
        this.truncatedWrites++;
        try {
          ftruncateSync(this.fd, start + keep);
        } catch {}
      }
      this.size = start + keep;
      const delivered = keep === 0 ? 0 : countNewlines(data, keep);
      throw new DeliveryError(
        `cannot write alert file '${this.opts.path}': ${(err as Error).message}`,
        delivered,
      );
    }
    this.size += data.length;
    if (this.opts.fsync) {
      try {
        fsyncSync(this.fd);
      } catch {
        // The lines are written; a failed fsync is counted, not retried (retrying would duplicate).
        this.fsyncErrors++;
      }
    }
    return 0;
  }

  async close(): Promise<void> {
    this.closeFd();
  }

  /**
   * The batch's bytes: its lines, each ending in "\n", UTF-8 (a lone surrogate as U+FFFD, as
   * Buffer.from writes it). Encoded line by line into a buffer kept between batches: the joined
   * string and a new buffer per batch cost more than the encoding. A batch whose bound (3 bytes
   * per UTF-16 unit) passes SCRATCH_MAX_BYTES gets a buffer of its own.
   */
  private encode(lines: string[]): Buffer {
    let bound = 0;
    for (let i = 0; i < lines.length; i++) bound += lines[i].length * 3 + 1;
    // (An empty batch is the one newline Buffer.from gives, as it always was.)
    if (bound > SCRATCH_MAX_BYTES || lines.length === 0) return Buffer.from(`${lines.join("\n")}\n`, "utf8");
    if (this.scratch.length < bound)
      this.scratch = Buffer.allocUnsafe(
        Math.min(SCRATCH_MAX_BYTES, Math.max(bound, this.scratch.length * 2)),
      );
    const out = this.scratch;
    let off = 0;
    for (let i = 0; i < lines.length; i++) {
      off += out.write(lines[i], off, "utf8");
      out[off++] = 10;
    }
    return out.subarray(0, off);
  }
}

/** The most the file sink keeps allocated between batches for encoding them. */
const SCRATCH_MAX_BYTES = 4 << 20;

function countNewlines(data: Buffer, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (data[i] === 10) n++;
  return n;
}
