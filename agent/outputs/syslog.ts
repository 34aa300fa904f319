// syslog_output: one datagram per alert to the local syslog socket (/dev/log), RFC 3164 or RFC 5424,
// severity from the alert's priority, facility user. Neither Bun nor Node opens Unix datagram
// sockets, so this calls libc's socket/connect/send through bun:ffi; sends use MSG_DONTWAIT, so a
// stuck syslog daemon makes this sink retry (EAGAIN), never blocks the event loop.

import { dlopen, FFIType, ptr, read } from "bun:ffi";
import type { Priority } from "../common/index.ts";
import { DeliveryError, type Transport } from "./delivery.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

/** Falco priority -> syslog severity (RFC 5424 table 2). */
export const SYSLOG_SEVERITY: Record<Priority, number> = {
  Emergency: 0,
  Alert: 1,
  Critical: 2,
  Error: 3,
  Warning: 4,
  Notice: 5,
  Informational: 6,
  Debug: 7,
};
const FACILITY_USER = 1;

let libc:
  | ReturnType<
      typeof dlopen<{
        socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32]; returns: FFIType.i32 };
        connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32]; returns: FFIType.i32 };
        send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32]; returns: FFIType.i64 };
        close: { args: [FFIType.i32]; returns: FFIType.i32 };
        __errno_location: { args: []; returns: FFIType.ptr };
      }>
    >
  | undefined;

function c() {
  libc ??= dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  return libc.symbols;
}

function errno(): number {
  const p = c().__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

const ERRNO_NAMES: Record<number, string> = {
  2: "ENOENT",
  11: "EAGAIN",
  13: "EACCES",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  111: "ECONNREFUSED",
};

/** The syslog line for one alert; `text` is the alert as the other sinks write it. */
export function syslogLine(
  format: "rfc3164" | "rfc5424",
  priority: Priority,
  text: string,
  host: string,
  now: Date,
): string {
  const pri = FACILITY_USER * 8 + SYSLOG_SEVERITY[priority];
  if (format === "rfc5424") return `<${pri}>1 ${now.toISOString()} ${host} lanner ${process.pid} - - ${text}`;
  const mon = now.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const day = String(now.getUTCDate()).padStart(2, " ");
  const time = now.toISOString().slice(11, 19);
  return `<${pri}>${mon} ${day} ${time} lanner[${process.pid}]: ${text}`;
}

export class SyslogTransport implements Transport {
  readonly name: string;
  private fd = -1;
  private readonly addr: Uint8Array;

  constructor(private readonly socketPath: string) {
    this.name = `syslog:${socketPath}`;
    const path = Buffer.from(socketPath, "utf8");
    if (path.length >= SUN_PATH_MAX)
      throw new DeliveryError(`syslog socket path '${socketPath}' is too long`);
    this.addr = new Uint8Array(2 + SUN_PATH_MAX);
    new DataView(this.addr.buffer).setUint16(0, AF_UNIX, true);
    this.addr.set(path, 2);
  }

  private connect(): void {
    const lib = c();
    const fd = lib.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new DeliveryError(`syslog: socket() failed (errno ${errno()})`);
    if (lib.connect(fd, ptr(this.addr), this.addr.length) !== 0) {
      const e = errno();
      lib.close(fd);
      throw new DeliveryError(
        `syslog: cannot connect to '${this.socketPath}': ${ERRNO_NAMES[e] ?? `errno ${e}`}`,
      );
    }
    this.fd = fd;
  }

  async writeBatch(lines: string[]): Promise<number> {
    let rejected = 0;
    for (let i = 0; i < lines.length; i++) {
      if (this.fd < 0) {
        try {
          this.connect();
        } catch (err) {
          throw new DeliveryError((err as Error).message, i);
        }
      }
      const data = Buffer.from(lines[i] as string, "utf8");
      const n = c().send(this.fd, ptr(data), data.length, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (Number(n) >= 0) continue;
      const e = errno();
      // EMSGSIZE: this alert can never fit one datagram; it is refused (counted), the rest go on.
      if (e === 90) {
        rejected++;
        continue;
      }
      if (e !== 11) this.reopen();
      throw new DeliveryError(
        `syslog: send to '${this.socketPath}' failed: ${ERRNO_NAMES[e] ?? `errno ${e}`}`,
        i,
      );
    }
    return rejected;
  }

  reopen(): void {
    if (this.fd >= 0) c().close(this.fd);
    this.fd = -1;
  }

  async close(): Promise<void> {
    this.reopen();
  }
}
