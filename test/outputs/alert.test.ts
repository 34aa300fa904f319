// Falco's alert shape (agent/outputs/alert.ts): JSON with sorted keys, typed output_fields with
// an exact 64-bit evt.time, ISO-8601 time with nanoseconds, the "HH:MM:SS.nnnnnnnnn: Priority
// message" output, and the options that change it.

import { describe, expect, test } from "bun:test";
import {
  type Alert,
  type AlertFormat,
  alertJson,
  alertText,
  DEFAULT_ALERT_FORMAT,
  formatAlert,
} from "../../agent/outputs/alert.ts";

// 2023-11-14T22:13:20Z plus 123456789 ns.
const SEC = 1_700_000_000;

function alert(over: Partial<Alert> = {}): Alert {
  return {
    time: { sec: SEC, nsec: 123_456_789 },
    rule: "Credential file opened for reading",
    priority: "Warning",
    message: "Credential file opened (file=/etc/shadow process=cat uid=0 container=<NA>)",
    outputFields: { "fd.name": "/etc/shadow", "proc.name": "cat", "user.uid": 0, "container.id": null },
    source: "syscall",
    tags: ["filesystem", "T1003.008", "host"],
    hostname: "node-1",
    ...over,
  };
}

const fmt = (over: Partial<AlertFormat> = {}): AlertFormat => ({ ...DEFAULT_ALERT_FORMAT, ...over });

/** Every object's keys in the order the text has them, at every level (keys here are not numeric). */
function keyOrders(value: unknown, out: string[][] = []): string[][] {
  if (Array.isArray(value)) for (const v of value) keyOrders(v, out);
  else if (value !== null && typeof value === "object") {
    out.push(Object.keys(value));
    for (const v of Object.values(value)) keyOrders(v, out);
  }
  return out;
}

describe("alertJson: Falco's shape", () => {
  test("the whole line, byte for byte", () => {
    expect(alertJson(alert(), fmt())).toBe(
      "{" +
        '"hostname":"node-1",' +
        '"output":"22:13:20.123456789: Warning Credential file opened (file=/etc/shadow process=cat uid=0 container=<NA>)",' +
        '"output_fields":{"container.id":null,"evt.time":1700000000123456789,"fd.name":"/etc/shadow","proc.name":"cat","user.uid":0},' +
        '"priority":"Warning",' +
        '"rule":"Credential file opened for reading",' +
        '"source":"syscall",' +
        '"tags":["filesystem","T1003.008","host"],' +
        '"time":"2023-11-14T22:13:20.123456789Z"' +
        "}",
    );
  });

  test("keys are sorted at every level", () => {
    const orders = keyOrders(JSON.parse(alertJson(alert({ outputFields: { z: 1, a: 2, m: [3] } }), fmt())));
    expect(orders.length).toBe(2);
    for (const keys of orders) expect(keys).toEqual([...keys].sort());
  });

  test("evt.time is an exact 64-bit integer, not a rounded double", () => {
    const line = alertJson(alert({ time: { sec: SEC, nsec: 999_999_999 } }), fmt());
    expect(line).toContain('"evt.time":1700000000999999999,');
    // A double cannot hold it: the nearest one prints as 1700000001000000000.
    expect(String(Number(1700000000999999999n))).not.toBe("1700000000999999999");
  });

  test.each([
    [0, "22:13:20.000000000", "2023-11-14T22:13:20.000000000Z", "1700000000000000000"],
    [5, "22:13:20.000000005", "2023-11-14T22:13:20.000000005Z", "1700000000000000005"],
    [100_000_000, "22:13:20.100000000", "2023-11-14T22:13:20.100000000Z", "1700000000100000000"],
  ])("nsec %p: nine fractional digits everywhere", (nsec, clock, iso, ns) => {
    const parsed = JSON.parse(alertJson(alert({ time: { sec: SEC, nsec } }), fmt()));
    expect(parsed.time).toBe(iso);
    expect(parsed.output.startsWith(`${clock}: Warning `)).toBe(true);
    expect(alertJson(alert({ time: { sec: SEC, nsec } }), fmt())).toContain(`"evt.time":${ns},`);
  });

  test("time is UTC whatever the process's time zone", () => {
    const saved = process.env.TZ;
    process.env.TZ = "Asia/Kolkata";
    try {
      const parsed = JSON.parse(alertJson(alert(), fmt()));
      expect(parsed.time).toBe("2023-11-14T22:13:20.123456789Z");
      expect(parsed.output.startsWith("22:13:20.123456789: ")).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test("output_fields keep their types: strings, numbers, booleans, null, lists, bigints", () => {
    const line = alertJson(
      alert({
        outputFields: {
          "proc.name": "cat",
          "proc.pid": 4242,
          "evt.failed": false,
          "user.name": null,
          "fd.types": ["file", "ipv4"],
          "evt.rawtime": 18446744073709551615n,
        },
      }),
      fmt(),
    );
    expect(line).toContain(
      '"output_fields":{"evt.failed":false,"evt.rawtime":18446744073709551615,"evt.time":1700000000123456789,' +
        '"fd.types":["file","ipv4"],"proc.name":"cat","proc.pid":4242,"user.name":null}',
    );
  });

  test("the alert's own output_fields object is not modified", () => {
    const a = alert();
    const before = { ...a.outputFields };
    alertJson(a, fmt());
    alertJson(a, fmt({ isoTime: true }));
    expect(a.outputFields).toEqual(before);
  });

  test("a rule name and message with quotes and newlines are escaped", () => {
    const line = alertJson(alert({ rule: 'Read "secret"', message: "a\nb" }), fmt());
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line);
    expect(parsed.rule).toBe('Read "secret"');
    expect(parsed.output).toBe("22:13:20.123456789: Warning a\nb");
  });
});

describe("alertJson: options", () => {
  test("time_format_iso_8601 switches the output prefix and the prefix's field", () => {
    const line = alertJson(alert(), fmt({ isoTime: true }));
    const parsed = JSON.parse(line);
    expect(parsed.output).toBe(
      "2023-11-14T22:13:20.123456789Z: Warning Credential file opened (file=/etc/shadow process=cat uid=0 container=<NA>)",
    );
    expect(parsed.output_fields["evt.time.iso8601"]).toBe("2023-11-14T22:13:20.123456789Z");
    expect("evt.time" in parsed.output_fields).toBe(false);
    // The alert's own time field stays ISO either way.
    expect(parsed.time).toBe("2023-11-14T22:13:20.123456789Z");
  });

  test.each([
    [true, true, ["hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"]],
    [false, true, ["hostname", "output_fields", "priority", "rule", "source", "tags", "time"]],
    [true, false, ["hostname", "output", "output_fields", "priority", "rule", "source", "time"]],
    [false, false, ["hostname", "output_fields", "priority", "rule", "source", "time"]],
  ])("includeOutput %p, includeTags %p: keys %p", (includeOutput, includeTags, keys) => {
    expect(Object.keys(JSON.parse(alertJson(alert(), fmt({ includeOutput, includeTags }))))).toEqual(keys);
  });

  test("empty tags are written as an empty list", () => {
    expect(alertJson(alert({ tags: [] }), fmt())).toContain('"tags":[]');
  });
});

describe("text alerts", () => {
  test("alertText is the clock time, the priority and the message", () => {
    expect(alertText(alert({ priority: "Critical", message: "m" }), fmt())).toBe(
      "22:13:20.123456789: Critical m",
    );
  });

  test("alertText with isoTime uses the ISO time", () => {
    expect(alertText(alert({ message: "m" }), fmt({ isoTime: true }))).toBe(
      "2023-11-14T22:13:20.123456789Z: Warning m",
    );
  });

  test("formatAlert picks JSON or text by the json flag", () => {
    const a = alert({ priority: "Notice", message: "hello" });
    expect(formatAlert(a, fmt({ json: false }))).toBe("22:13:20.123456789: Notice hello");
    expect(formatAlert(a, fmt({ json: true }))).toBe(alertJson(a, fmt()));
  });

  test("text alerts ignore the JSON-only flags", () => {
    const a = alert({ message: "x" });
    expect(formatAlert(a, fmt({ json: false, includeOutput: false, includeTags: false }))).toBe(
      formatAlert(a, fmt({ json: false })),
    );
  });
});
