// /proc/net parsing (agent/state/sockets.ts) and capability names (agent/common/capabilities.ts):
// address encodings as the kernel prints them, and tables read from the real /proc of this process.

import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { capabilityBit, parseCapabilityMask, renderCapabilities } from "../../agent/common/capabilities.ts";
import {
  formatIpv6,
  ipv4FromProcHex,
  ipv6FromProcHex,
  readSocketTables,
  SocketIndex,
} from "../../agent/state/sockets.ts";

describe("addresses as /proc/net prints them", () => {
  test("IPv4 words are little-endian", () => {
    expect(ipv4FromProcHex("0100007F")).toBe("127.0.0.1");
    expect(ipv4FromProcHex("00000000")).toBe("0.0.0.0");
    expect(ipv4FromProcHex("0202000A")).toBe("10.0.2.2");
  });

  test("IPv6: four little-endian words, printed as inet_ntop does", () => {
    expect(ipv6FromProcHex("00000000000000000000000001000000")).toBe("::1");
    expect(ipv6FromProcHex("00000000000000000000000000000000")).toBe("::");
    expect(ipv6FromProcHex("0000000000000000FFFF00000100007F")).toBe("::ffff:127.0.0.1");
    expect(ipv6FromProcHex("B80D0120000000000000000001000000")).toBe("2001:db8::1");
  });

  test("the longest zero run is compressed, a single zero group is not", () => {
    expect(formatIpv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])).toBe("2001:db8:0:1::1");
    expect(formatIpv6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4])).toBe("fe80::1:2:3:4");
  });
});

describe("the real /proc/net of this process", () => {
  test("a TCP listener on 127.0.0.1 appears as a listening server socket", async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    try {
      if (address === null || typeof address === "string") throw new Error("no port");
      const tables = readSocketTables(`/proc/${process.pid}`);
      const listener = [...tables.values()].find(
        (e) => e.kind === "inet" && e.ends.localPort === address.port && e.ends.l4proto === "tcp",
      );
      expect(listener).toMatchObject({
        kind: "inet",
        ends: { localIp: "127.0.0.1", isServer: true, connected: false },
      });
    } finally {
      server.close();
    }
  });

  test("the index reads one namespace's tables once within its time to live", () => {
    let now = 0;
    const index = new SocketIndex("/proc", 1000, 4, () => now);
    index.lookup(process.pid, 1);
    index.lookup(process.pid, 2);
    expect(index.reads).toBe(1);
    now = 2000;
    index.lookup(process.pid, 3);
    expect(index.reads).toBe(2);
    // A process that does not exist has no namespace: nothing read.
    expect(index.lookup(1 << 23, 1)).toBeUndefined();
  });
});

describe("capabilities", () => {
  test("masks from /proc status render as Falco's names, lowest bit first", () => {
    expect(renderCapabilities(parseCapabilityMask("0000000000200000") ?? 0n)).toBe("CAP_SYS_ADMIN");
    expect(renderCapabilities(0b11n)).toBe("CAP_CHOWN CAP_DAC_OVERRIDE");
    expect(renderCapabilities(1n << 45n)).toBe("CAP_45");
    expect(renderCapabilities(0n)).toBe("");
    expect(parseCapabilityMask("xyz")).toBeUndefined();
    expect(capabilityBit("SYS_ADMIN")).toBe(21);
    expect(capabilityBit("CAP_NOPE")).toBeUndefined();
  });
});
