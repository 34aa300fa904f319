// fd.*, from the fd the event refers to (the process's fd table, seeded from /proc).

import {
  type EventContext,
  fdDirectory,
  fdFilename,
  type FdInfo,
  type SocketEnds,
} from "../../../state/index.ts";
import type { FieldValue } from "../values.ts";
import { type Binder, indexArg, plain } from "./types.ts";

function sock(read: (s: SocketEnds) => FieldValue | undefined): Binder {
  return plain((ctx) => (ctx.fd?.socket === undefined ? undefined : read(ctx.fd.socket)));
}

const serverIp = (s: SocketEnds) => (s.isServer ? s.localIp : s.remoteIp);
const clientIp = (s: SocketEnds) => (s.isServer ? s.remoteIp : s.localIp);
const serverPort = (s: SocketEnds) => (s.isServer ? s.localPort : s.remotePort);
const clientPort = (s: SocketEnds) => (s.isServer ? s.remotePort : s.localPort);

/** fd.ip / fd.port / fd.net: either end matches (the values of both ends). */
function eitherEnd(read: (s: SocketEnds, client: boolean) => string | number | undefined): Binder {
  return plain((ctx) => {
    const s = ctx.fd?.socket;
    if (s === undefined) return undefined;
    const out: (string | number)[] = [];
    for (const client of [true, false]) {
      const v = read(s, client);
      if (v !== undefined) out.push(v);
    }
    return out.length === 0 ? undefined : out;
  });
}

const isInet = (fd: FdInfo | undefined) => fd !== undefined && (fd.type === "ipv4" || fd.type === "ipv6");

export const FD_FIELDS: Readonly<Record<string, Binder>> = {
  "fd.num": plain((ctx) => ctx.fd?.num),
  "fd.name": plain((ctx) => ctx.fd?.name),
  "fd.nameraw": plain((ctx) => ctx.fd?.nameRaw),
  "fd.directory": plain((ctx) => (ctx.fd === undefined ? undefined : fdDirectory(ctx.fd))),
  "fd.filename": plain((ctx) => (ctx.fd === undefined ? undefined : fdFilename(ctx.fd))),
  "fd.type": plain((ctx) => ctx.fd?.type),
  "fd.typechar": plain((ctx) => ctx.fd?.typechar),
  "fd.ino": plain((ctx) => ctx.fd?.ino),
  // fd.types: the types of the process's fds (each once); fd.types[N]: of fd N.
  "fd.types": (arg) => {
    const only = arg === undefined ? undefined : indexArg(arg);
    return (ctx: EventContext) => {
      const p = ctx.process;
      if (p === undefined) return undefined;
      if (only !== undefined) {
        const fd = p.fds.get(only);
        return fd === undefined ? undefined : [fd.type];
      }
      const types = new Set<string>();
      for (const fd of p.fds.values()) types.add(fd.type);
      return [...types];
    };
  },
  "fd.sockfamily": plain((ctx) => {
    const fd = ctx.fd;
    if (fd === undefined) return undefined;
    if (isInet(fd)) return "ip";
    return fd.type === "unix" ? "unix" : undefined;
  }),
  "fd.l4proto": sock((s) => s.l4proto),
  "fd.is_server": sock((s) => s.isServer),
  "fd.connected": sock((s) => s.connected),
  "fd.name_changed": plain((ctx) => (ctx.fd === undefined ? undefined : false)),
  "fd.sip": sock(serverIp),
  "fd.cip": sock(clientIp),
  "fd.lip": sock((s) => s.localIp),
  "fd.rip": sock((s) => s.remoteIp),
  "fd.sport": sock(serverPort),
  "fd.cport": sock(clientPort),
  "fd.lport": sock((s) => s.localPort),
  "fd.rport": sock((s) => s.remotePort),
  "fd.snet": sock(serverIp),
  "fd.cnet": sock(clientIp),
  "fd.lnet": sock((s) => s.localIp),
  "fd.rnet": sock((s) => s.remoteIp),
  "fd.ip": eitherEnd((s, client) => (client ? clientIp(s) : serverIp(s))),
  "fd.port": eitherEnd((s, client) => (client ? clientPort(s) : serverPort(s))),
  "fd.net": eitherEnd((s, client) => (client ? clientIp(s) : serverIp(s))),
};

/** Fields whose several values match when any of them matches. */
export const ANY_END_FIELDS: ReadonlySet<string> = new Set(["fd.ip", "fd.port", "fd.net"]);
