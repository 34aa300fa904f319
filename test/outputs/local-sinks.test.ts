// syslog_output and program_output for real: a Unix datagram socket bound by a python receiver (the
// shape of /dev/log), and programs run with sh -c, kept alive (restarted when killed) or run per batch.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOutputs, defaultOutputSettings, type Outputs } from "../../agent/outputs/index.ts";
import { syslogLine } from "../../agent/outputs/syslog.ts";
import { fileLogger, makeAlert, range, until } from "./fixtures/alerts.ts";
import { metricValue } from "./fixtures/child.ts";

setDefaultTimeout(30_000);
const dir = mkdtempSync(join(tmpdir(), "lanner-local-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs = fileLogger(dir);
const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").slice(0, -1) : []);

function outputs(over: Record<string, unknown>): Outputs {
  return createOutputs(defaultOutputSettings({ stdout_output: { enabled: false }, ...over }), {
    log: logs.log,
    hostname: "node-1",
  });
}

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    print(s.recv(65536).decode(), flush=True)
`;

describe("syslog_output", () => {
  test("one datagram per alert with priority and tag; retried until the socket exists", async () => {
    const sock = join(dir, "log.sock");
    const out = outputs({ syslog_output: { enabled: true, socket: sock } });
    out.publish(makeAlert(0, { priority: "Critical" }));
    await until(() => (out.stats()[0]?.failures ?? 0) >= 1, 10_000, "a refused send");
    expect(out.health()[0]?.detail).toContain("ENOENT");
    const py = Bun.spawn(["python3", "-c", RECEIVER, sock], { stdout: "pipe" });
    try {
      let text = "";
      const reader = (async () => {
        for await (const chunk of py.stdout) text += new TextDecoder().decode(chunk);
      })();
      await until(() => text.includes("ready"));
      out.publish(makeAlert(1, { priority: "Debug" }));
      await until(
        () => text.split("\n").filter((l) => l.startsWith("<")).length === 2,
        15_000,
        "2 datagrams",
      );
      const got = text.split("\n").filter((l) => l.startsWith("<"));
      // facility user (1): 8 + severity; Critical = 2, Debug = 7
      expect(got[0]).toMatch(/^<10>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d lanner\[\d+\]: \{/);
      expect(got[1]?.startsWith("<15>")).toBe(true);
      expect(JSON.parse(got[1]?.slice(got[1].indexOf("{")) ?? "").output_fields.seq).toBe(1);
      await out.shutdown(200);
      void reader;
    } finally {
      py.kill();
    }
  });

  test("RFC 5424 lines", () => {
    const line = syslogLine("rfc5424", "Warning", "hello", "node-1", new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect(line).toBe(`<12>1 2026-01-02T03:04:05.000Z node-1 lanner ${process.pid} - - hello`);
  });
});

describe("program_output", () => {
  test("kept alive: one program for all alerts, started again when it is killed", async () => {
    const outPath = join(dir, "prog-keep.txt");
    const pidPath = join(dir, "prog.pid");
    const out = outputs({
      program_output: {
        enabled: true,
        keep_alive: true,
        program: `echo $$ > ${pidPath}; exec cat >> ${outPath}`,
      },
    });
    for (const i of range(0, 10)) out.publish(makeAlert(i));
    await until(() => lines(outPath).length === 10);
    const pid = Number(readFileSync(pidPath, "utf8"));
    process.kill(pid, "SIGKILL");
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await Bun.sleep(50);
    for (const i of range(10, 20)) out.publish(makeAlert(i));
    await until(() => lines(outPath).length === 20, 15_000, "20 lines");
    expect(lines(outPath).map((l) => JSON.parse(l).output_fields.seq)).toEqual(range(0, 20));
    expect(metricValue(out.metrics(), "output_program_restarts_total")).toBe(1);
    await out.shutdown(1000);
  });

  test("not kept alive: one run per batch, every alert delivered", async () => {
    const outPath = join(dir, "prog-each.txt");
    const out = outputs({ program_output: { enabled: true, program: `cat >> ${outPath}` } });
    for (const i of range(0, 30)) {
      out.publish(makeAlert(i));
      if (i % 10 === 9) await Bun.sleep(20);
    }
    await until(() => out.stats()[0]?.delivered === 30);
    expect(lines(outPath).map((l) => JSON.parse(l).output_fields.seq)).toEqual(range(0, 30));
    await out.shutdown(1000);
  });

  test("an empty program is a configuration error", () => {
    expect(() => outputs({ program_output: { enabled: true } })).toThrow("program_output.program is empty");
  });
});
