// The open prefilter derived from rules (agent/rules/prefilter.ts): what it is for the default
// rules and Falco's, that conditions it cannot bound keep every open, and, property-style, that
// no open (or later event on its fd) the real rule engine matches would have been dropped by the
// kernel's test (openFilterPasses, the TypeScript twin of the probe's).

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeOpenEntry, type OpenFilter, openFilterPasses } from "../../agent/capture/open-filter.ts";
import { DEFAULT_RULES } from "../../agent/config/embedded.ts";
import type { Event, OpenEvent } from "../../agent/events/types.ts";
import { OPEN_FILTER } from "../../agent/events/schema.ts";
import { RuleEngine } from "../../agent/rules/engine.ts";
import { liveBinder, liveEventKey, liveText } from "../../agent/rules/live.ts";
import type { CompiledRuleset } from "../../agent/rules/load/compile.ts";
import { loadRuleSources, type RuleSource } from "../../agent/rules/load/load.ts";
import { deriveOpenFilter, prefilterFor } from "../../agent/rules/prefilter.ts";
import type { EventContext } from "../../agent/state/context.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { execEvent, openEvent } from "../state/events.ts";

const FALCO_DIR = join(import.meta.dir, "../../../shared/falco-rules");
const falco = (name: string): RuleSource => ({
  name,
  text: readFileSync(join(FALCO_DIR, name), "utf8"),
});
const FALCO_STABLE = [falco("falco_rules.yaml")];
const FALCO_ALL = [
  falco("falco_rules.yaml"),
  falco("falco-incubating_rules.yaml"),
  falco("falco-sandbox_rules.yaml"),
];

function compile(sources: RuleSource[]): CompiledRuleset {
  const loaded = loadRuleSources(sources);
  expect(loaded.diagnostics.errorCount).toBe(0);
  return loaded.ruleset;
}

/** A rule file of one rule per condition, each on the given event types' conditions as written. */
function rules(...conditions: string[]): RuleSource {
  const text = conditions
    .map((c, i) =>
      [
        `- rule: r${i}`,
        "  desc: d",
        `  condition: ${JSON.stringify(c)}`,
        '  output: "%fd.name"',
        "  priority: WARNING",
      ].join("\n"),
    )
    .join("\n");
  return { name: "test.yaml", text };
}

const enabled = (rs: CompiledRuleset) => rs.rules.filter((r) => r.enabled).map((rule) => ({ rule }));
const derive = (...conditions: string[]) => deriveOpenFilter(enabled(compile([rules(...conditions)])));
const text = (f: OpenFilter) => (f === "all" ? "all" : f.map(describeOpenEntry));

const { read, write, success, failed, unclean, create } = OPEN_FILTER;

describe("derivation", () => {
  test("the default rules: writes anywhere (a rule ends with a name), reads of credential files", () => {
    const f = deriveOpenFilter(enabled(compile([DEFAULT_RULES]))).filter;
    expect(f).not.toBe("all");
    expect(text(f)).toContain("write+success (any path)");
    expect(text(f)).toContain("read+success /etc/shadow");
    expect(text(f)).toContain("read+success /etc/ssh/ssh_host_");
    // A read of anything else is not needed by any default rule.
    expect(openFilterPasses(f, { flags: 0, res: 3, path: "/tmp/x", isDirectory: false })).toBe(false);
    expect(openFilterPasses(f, { flags: 0, res: 3, path: "/etc/shadow", isDirectory: false })).toBe(true);
  });

  test("Falco's stable rules: writes, failed unclean opens, reads of the sensitive files", () => {
    const f = deriveOpenFilter(enabled(compile(FALCO_STABLE))).filter;
    expect(text(f)).toEqual([
      "write+success (any path)",
      "failed+unclean-path",
      "read+success /etc/pam.conf",
      "read+success /etc/pam.d",
      "read+success /etc/security/pwquality.conf",
      "read+success /etc/shadow",
      "read+success /etc/sudoers",
    ]);
  });

  test("Falco's stable, incubating and sandbox rules together keep every open, and say which rules", () => {
    const d = deriveOpenFilter(enabled(compile(FALCO_ALL)));
    expect(d.filter).toBe("all");
    expect(d.keptAllBy.length).toBeGreaterThan(0);
    expect(d.keptAllBy.length).toBeLessThanOrEqual(3);
  });

  test("flags, results and prefixes are read from the condition", () => {
    expect(
      derive("evt.type = openat and evt.is_open_write = true and fd.name startswith /etc/").filter,
    ).toEqual([{ need: write, prefix: "/etc/" }]);
    expect(
      derive("evt.type in (open, openat) and evt.is_open_read = true and fd.num >= 0 and fd.name in (/a, /b)")
        .filter,
    ).toEqual([
      { need: read | success, prefix: "/a" },
      { need: read | success, prefix: "/b" },
    ]);
    expect(derive("evt.type = openat and evt.rawres < 0 and fd.directory = /var").filter).toEqual([
      { need: failed, prefix: "/var" },
    ]);
    expect(
      derive("evt.type = openat and evt.arg.flags contains O_CREAT and fd.name glob '/x/*/y'").filter,
    ).toEqual([{ need: create, prefix: "/x/" }]);
    expect(derive("evt.type = openat and fd.name pmatch (/srv)").filter).toEqual([
      { need: 0, prefix: "/srv" },
    ]);
    // and: the narrower prefix; prefixes that exclude each other match nothing.
    expect(
      derive("evt.type = openat and fd.name startswith /etc and fd.name startswith /etc/ssh").filter,
    ).toEqual([{ need: 0, prefix: "/etc/ssh" }]);
    expect(
      derive("evt.type = openat and fd.name startswith /etc and fd.name startswith /usr").filter,
    ).toEqual([]);
    // A name that holds "/." can only be an unclean raw path.
    expect(derive("evt.type = openat and fd.name endswith /.bashrc").filter).toEqual([
      { need: unclean, prefix: "" },
    ]);
    // Socket-only fields and event types that never see an open's fd match no open.
    expect(derive("evt.type = openat and fd.l4proto = tcp").filter).toEqual([]);
    expect(derive("evt.type = connect and fd.l4proto = tcp").filter).toEqual([]);
    expect(derive("evt.type = execve and fd.name startswith /x").filter).toEqual([]);
    // A connect on an fd from an open (it fails, but a rule may match it) needs that open.
    expect(derive("evt.type = connect and fd.name startswith /x").filter).toEqual([
      { need: 0, prefix: "/x" },
    ]);
  });

  test("conditions it cannot narrow keep every open", () => {
    for (const c of [
      "evt.type = openat and not fd.name startswith /etc",
      "evt.type = openat and fd.name contains shadow",
      "evt.type = openat and fd.name endswith shadow",
      "evt.type = openat and proc.name = cat",
      "evt.type = openat and (fd.name startswith /etc or proc.name = cat)",
      "evt.type = openat and tolower(fd.name) startswith /etc",
      "evt.type = openat and fd.name icontains /etc",
      "evt.type = openat and evt.is_open_write = false",
      // Rules on every event type.
      "proc.name = cat",
      // A rule on another event that reads the fd table (fd.name in its output).
      "evt.type = close and proc.name = cat",
      "evt.type = dup and evt.arg.oldfd contains shadow",
      // Fields reading every fd of the process.
      "evt.type = execve and fd.types intersects (file)",
    ]) {
      expect({ c, f: derive(c).filter }).toEqual({ c, f: "all" });
    }
  });

  test("a rule on another event bounds the opens whose fds it reads by its fd conditions", () => {
    expect(derive("evt.type = close and fd.name startswith /data/").filter).toEqual([
      { need: 0, prefix: "/data/" },
    ]);
    // execve's fd fields are never an open's: an exec rule with fd.name in its output needs none.
    expect(derive("evt.type = execve and proc.name = cat").filter).toEqual([]);
    // socket's fd is the new socket.
    expect(derive("evt.type = socket and proc.name = cat").filter).toEqual([]);
  });

  test("prefilterFor: the switch off drops nothing; on, the close prefilter follows rules on close", () => {
    const rs = enabled(compile([rules("evt.type = openat and fd.name startswith /etc/")]));
    expect(prefilterFor(rs, false)).toEqual({ close: false, open: "all", keptAllBy: [] });
    expect(prefilterFor(rs, true)).toEqual({
      close: true,
      open: [{ need: 0, prefix: "/etc/" }],
      keptAllBy: [],
    });
    const withClose = enabled(compile([rules("evt.type = close and fd.name startswith /x")]));
    expect(prefilterFor(withClose, true).close).toBe(false);
  });
});

// ---- property: the engine never matches an event the filter would drop ----

const PROCESSES = [
  "cat",
  "bash",
  "python3",
  "nginx",
  "sshd",
  "vi",
  "touch",
  "node",
  "sudo",
  "apt",
  "crontab",
];
const FLAGS = [0, 1, 2, 0o1101, 0o102, 0o200000, 0o2000000, 0o1000 | 1, 0o100 | 2];
const RESULTS = [3, -2, -13];
const EXTRA_PATHS = [
  "/tmp/x",
  "shadow",
  "./passwd",
  "../etc/shadow",
  "/etc//shadow",
  "/tmp/../etc/shadow",
  "/etc/./sudoers",
  "/root/.ssh/id_rsa",
  "/root/.ssh/authorized_keys",
  "/home/u/.aws/credentials",
  "/home/u/.bashrc",
  "/var/log/syslog",
  "/proc/1/environ",
  "/proc/self/status",
  "/dev/sda",
  "/dev/null",
  "/host/etc/shadow",
  "/usr/bin/ls",
  "/bin/sh",
  "/etc/ld.so.preload",
  "/etc/cron.d/x",
  `/etc/${"a".repeat(300)}`,
  "/sys/fs/cgroup/x/release_agent",
  "/",
];

/** Paths from the rules' own literals (lists and prefixes) plus a few tricky ones. */
function pathsFor(rs: CompiledRuleset): string[] {
  const out = new Set(EXTRA_PATHS);
  for (const l of rs.lists.values())
    for (const v of l.values) if (v.startsWith("/")) out.add(v.replace(/\*.*$/, "x"));
  for (const p of [...out]) {
    out.add(`${p}/x`);
    out.add(`${p}.bak`);
  }
  return [...out];
}

function harness(sources: RuleSource[]) {
  const ruleset = compile(sources);
  const engine = new RuleEngine<EventContext>(
    ruleset,
    { minPriority: "Debug", matching: "all", selection: [] },
    liveBinder,
    liveText,
    liveEventKey,
  );
  const users = new UserTable();
  users.parsePasswd("root:x:0:0:root:/root:/bin/bash\nu:x:1000:1000::/home/u:/bin/sh\n");
  const state = new StateTracker({
    processCapacity: 4096,
    users,
    host: { hostname: "n", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => "/etc", fdPath: () => undefined },
  });
  const filter = prefilterFor(engine.active, true).open;
  const matches = (e: Event) => {
    let n = 0;
    engine.evaluate(e.kind, state.apply(e), () => n++);
    return n;
  };
  return { ruleset, filter, matches, state };
}

function checkProperty(sources: RuleSource[], followUps: (open: OpenEvent) => Event[] = () => []) {
  const h = harness(sources);
  let pid = 1000;
  let matched = 0;
  let checked = 0;
  const hidden: string[] = [];
  for (const comm of PROCESSES) {
    pid++;
    h.matches(
      execEvent(pid, {
        comm,
        filename: `/usr/bin/${comm}`,
        args: [comm, "-x"],
        ppid: 1,
        uid: comm === "node" ? 1000 : 0,
      }),
    );
    for (const path of pathsFor(h.ruleset)) {
      for (const flags of FLAGS) {
        for (const res of RESULTS) {
          const open = openEvent(pid, path, { flags, res });
          let hits = h.matches(open);
          for (const next of followUps(open)) hits += h.matches(next);
          checked++;
          if (hits === 0) continue;
          matched++;
          // The strictest reading: the kernel's directory exemption not counted.
          if (!openFilterPasses(h.filter, { flags, res, path, isDirectory: false }))
            hidden.push(`${comm} ${path} flags=${flags.toString(8)} res=${res}`);
        }
      }
    }
  }
  return { matched, checked, hidden, filter: h.filter };
}

/** Later events on the open's fd: a dup of it, then closes of both. */
const fdFollowUps = (open: OpenEvent): Event[] =>
  open.res < 0
    ? []
    : [
        { ...open, kind: "dup", res: 9, oldfd: open.res } as unknown as Event,
        { ...open, kind: "close", res: 0, fd: 9 } as unknown as Event,
        { ...open, kind: "close", res: 0, fd: open.res } as unknown as Event,
      ];

describe("property: an event a rule matches is never dropped by the derived filter", () => {
  test("default rules", () => {
    const r = checkProperty([DEFAULT_RULES], fdFollowUps);
    expect(r.filter).not.toBe("all");
    expect(r.matched).toBeGreaterThan(50);
    expect(r.hidden).toEqual([]);
  });

  test("Falco's stable rules", () => {
    const r = checkProperty(FALCO_STABLE, fdFollowUps);
    expect(r.filter).not.toBe("all");
    expect(r.matched).toBeGreaterThan(50);
    expect(r.hidden).toEqual([]);
  });

  test("rules on later events of the fd (dup, close) bound the opens they need", () => {
    const src = rules(
      "evt.type = close and fd.name startswith /var/lib/",
      "evt.type = dup and fd.directory in (/etc/ssh, /root)",
      "evt.type = openat and evt.is_open_write = true and fd.name glob '/etc/cron*'",
    );
    const r = checkProperty([src], fdFollowUps);
    expect(r.filter).not.toBe("all");
    expect(r.matched).toBeGreaterThan(10);
    expect(r.hidden).toEqual([]);
  });
});
