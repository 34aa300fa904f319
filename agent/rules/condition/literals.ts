// Literal values of a condition, converted once at load time to the type of the field they are
// compared with, as Falco's value parser does: a literal that does not fit the field's type is a
// load error, not a comparison that silently never matches.

import type { ValueKind } from "../fields/values.ts";

export class LiteralError extends Error {
  /** Where in the literal the problem is, when known (a regex syntax error). */
  readonly index: number | undefined;
  constructor(message: string, index?: number) {
    super(message);
    this.name = "LiteralError";
    this.index = index;
  }
}

/** An IPv4 or IPv6 address as a bigint (v4 mapped into the low 32 bits), with its family. */
export interface IpAddress {
  v6: boolean;
  value: bigint;
}

export interface IpNetwork {
  v6: boolean;
  prefix: bigint;
  mask: bigint;
}

export type Converted = string | number | bigint | boolean | Uint8Array | IpAddress | IpNetwork;

const INTEGER = /^[+-]?[0-9]+$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;

/** Well-known service names Falco resolves with getservbyname for port fields. */
const SERVICES: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  pop3: 110,
  imap: 143,
  https: 443,
  imaps: 993,
  pop3s: 995,
};

export function convertLiteral(text: string, kind: ValueKind, falcoType: string): Converted {
  // Buffers may hold any byte; every other value is a C string in Falco.
  if (kind !== "bytes" && text.includes("\0"))
    throw new LiteralError("a value cannot contain a NUL byte (\\x00)");
  switch (kind) {
    case "string":
      return text;
    case "bool":
      if (text === "true") return true;
      if (text === "false") return false;
      throw new LiteralError(`'${text}' is not a boolean: expected true or false`);
    case "number":
      return convertNumber(text, falcoType);
    case "ipaddr":
      return parseIpAddress(text);
    case "ipnet":
      return parseIpNetwork(text);
    case "bytes":
      return new TextEncoder().encode(text);
  }
}

/** 64-bit fields: values beyond 2^53 stay exact as bigint. */
const WIDE_TYPES: Readonly<Record<string, [bigint, bigint]>> = {
  UINT64: [0n, (1n << 64n) - 1n],
  RELTIME: [0n, (1n << 64n) - 1n],
  ABSTIME: [0n, (1n << 64n) - 1n],
  INT64: [-(1n << 63n), (1n << 63n) - 1n],
};

function convertNumber(text: string, falcoType: string): number | bigint {
  if (falcoType === "PORT" && !/^[0-9]*$/.test(text)) {
    const port = Object.hasOwn(SERVICES, text) ? SERVICES[text] : undefined;
    if (port === undefined) throw new LiteralError(`'${text}' is not a port number or a known service name`);
    return port;
  }
  if (falcoType === "PORT" && text === "") return 0;
  let value: number;
  if (INTEGER.test(text)) value = Number.parseInt(text, 10);
  else if (HEX.test(text)) value = Number.parseInt(text.slice(2), 16);
  else
    throw new LiteralError(`'${text}' is not a number, as ${falcoType.toLowerCase()} field values must be`);
  const wide = WIDE_TYPES[falcoType];
  if (wide !== undefined && !Number.isSafeInteger(value)) {
    const big = BigInt(text.replace(/^\+/, ""));
    if (big < wide[0] || big > wide[1])
      throw new LiteralError(`${text} is out of range for a ${falcoType.toLowerCase()} field`);
    return big;
  }
  const bounds = INTEGER_BOUNDS[falcoType];
  if (bounds !== undefined && (value < bounds[0] || value > bounds[1])) {
    throw new LiteralError(
      `${text} is out of range for a ${falcoType.toLowerCase()} field (${bounds[0]}..${bounds[1]})`,
    );
  }
  return value;
}

const INTEGER_BOUNDS: Readonly<Record<string, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  PORT: [0, 65535],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  RELTIME: [0, Number.MAX_SAFE_INTEGER],
  ABSTIME: [0, Number.MAX_SAFE_INTEGER],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export function parseIpAddress(text: string): IpAddress {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { v6: false, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { v6: true, value: v6 };
  throw new LiteralError(`'${text}' is not an IP address`);
}

export function parseIpNetwork(text: string): IpNetwork {
  const slash = text.indexOf("/");
  if (slash < 0)
    throw new LiteralError(`'${text}' is not an IP network: expected ADDRESS/PREFIX, e.g. 10.0.0.0/8`);
  const addr = parseIpAddress(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  const width = addr.v6 ? 128 : 32;
  if (!/^[0-9]+$/.test(bitsText) || Number(bitsText) > width) {
    throw new LiteralError(`'${text}' has an invalid prefix length (0..${width})`);
  }
  const bits = BigInt(bitsText);
  const all = (1n << BigInt(width)) - 1n;
  const mask = bits === 0n ? 0n : (all << (BigInt(width) - bits)) & all;
  return { v6: addr.v6, prefix: addr.value & mask, mask };
}

export function ipInNetwork(addr: IpAddress, net: IpNetwork): boolean {
  return addr.v6 === net.v6 && (addr.value & net.mask) === net.prefix;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => {
    if (s === "") return [];
    const out: string[] = [];
    for (const g of s.split(":")) {
      if (g.includes(".")) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        out.push(((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(g);
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array(missing).fill("0"), ...tail]) value = (value << 16n) | BigInt(`0x${g}`);
  return value;
}

/** Hex text to bytes, for bcontains/bstartswith: "cafebabe" -> [0xca, 0xfe, 0xba, 0xbe]. */
export function hexBytes(text: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) {
    throw new LiteralError(`'${text}' is not a hex byte string: expected pairs of hex digits, e.g. cafebabe`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
