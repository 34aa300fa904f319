// The decoded form of one kernel record: what the state tracker and the rule engine see.
// Each kind's fields are generated from the event table (agent/events/table.ts) into
// kinds.gen.ts; this file holds what every kind shares. Wire layouts: docs/EVENTS.md.

export type {
  EventKind,
  Event,
  ExecEvent,
  OpenEvent,
  ExitEvent,
  ForkEvent,
  EvtParam,
} from "./kinds.gen.ts";
export type * from "./kinds.gen.ts";

export interface EventBase {
  kind: string;
  /** Monotonic sequence number assigned by the agent on decode (`evt.num`), starting at 1. */
  num: number;
  /** Kernel time, CLOCK_BOOTTIME: whole seconds and the nanoseconds within that second. */
  bootSec: number;
  bootNsec: number;
  /** Thread id and thread-group id (process id) of the thread the event happened in, as the host sees them. */
  tid: number;
  pid: number;
  /** Bit i set: parameter i of the record (0 = first after the header) was cut to its bound. */
  cut: number;
}

/** Both ends of a socket as the kernel holds them. Source is the initiator: this end for
 * connect/send, the peer for accept/receive (as Falco's fd.cip/fd.sip expect). */
export interface SocketTuple {
  /** AF_UNIX 1, AF_INET 2, AF_INET6 10; other families carry empty addresses. */
  family: number;
  /** Dotted IPv4 or RFC 5952 IPv6; "" for unix sockets. */
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** Unix sockets: the server side's bound path (the peer's for connect/send, this end's for
   * accept/receive), else the other end's; "" when unnamed or abstract, and for IP sockets. */
  path: string;
}

/** A struct sockaddr the caller passed (connect, bind). */
export interface SockAddr {
  family: number;
  addr: string;
  port: number;
}
