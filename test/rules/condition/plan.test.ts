// Evaluating a checked condition (condition/plan.ts) with Falco's semantics, and the fixes after
// the first review.

import { describe, expect, test } from "bun:test";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import { parseCondition, unescapeQuoted } from "../../../agent/rules/condition/parser.ts";
import { type FieldBinder, planCondition } from "../../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";
import { check } from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// Evaluation

type Values = Readonly<Record<string, FieldValue>>;

/** Field values by the field as written, as a rule test case gives them. */
const binder: FieldBinder<Values> = (field) => (ctx) => ctx[field.display];

function holds(condition: string, values: Values): boolean {
  const result = check(condition);
  if ("issue" in result) throw new Error(`${condition}: ${result.issue.message}`);
  return planCondition(result.checked, binder)(values);
}

const bytes = (...b: number[]) => new Uint8Array(b);

/** [condition, field values, whether it holds]. */
const EVAL: readonly [string, Values, boolean][] = [
  // A missing field makes its comparison false, whatever the operator; `not` of it is true.
  ["proc.name = bash", {}, false],
  ["not proc.name = bash", {}, true],
  ["proc.name != bash", {}, false],
  ["not proc.name != bash", {}, true],
  ["proc.name in (a, b)", {}, false],
  ["not proc.name in (a, b)", {}, true],
  ["proc.name contains a", {}, false],
  ["proc.pid > 0", {}, false],
  ["proc.pid < 0", {}, false],
  ["tolower(proc.name) = bash", {}, false],
  ["not tolower(proc.name) = bash", {}, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a" }, false],
  ["proc.name != val(proc.pname)", { "proc.name": "a" }, false],
  ["proc.name exists", {}, false],
  ["proc.name exists", { "proc.name": "" }, true],
  ["not proc.name exists", {}, true],
  ["proc.name != bash", { "proc.name": "sh" }, true],
  ["proc.name != bash", { "proc.name": "bash" }, false],
  ["proc.name = bash and proc.pid = 1", { "proc.name": "bash" }, false],
  ["proc.name = bash or proc.pid = 1", { "proc.name": "bash" }, true],
  ["is_shell and not proc.name = zsh", { "proc.name": "sh" }, true],
  ["is_shell and not proc.name = zsh", { "proc.name": "zsh" }, false],
  ["never_true", { "evt.num": 0 }, true],
  // Unindexed ancestor fields hold if any ancestor holds; an indexed one reads one ancestor.
  ["proc.aname = bash", { "proc.aname": ["sshd", "bash", "systemd"] }, true],
  ["proc.aname = bash", { "proc.aname": ["sshd", "systemd"] }, false],
  ["proc.aname = bash", { "proc.aname": [] }, false],
  ["not proc.aname = bash", { "proc.aname": [] }, true],
  ["proc.aname != bash", { "proc.aname": ["bash", "sh"] }, true],
  ["proc.aname != bash", { "proc.aname": ["bash"] }, false],
  ["proc.aname in (sshd, cron)", { "proc.aname": ["bash", "cron"] }, true],
  ["proc.aname startswith ss", { "proc.aname": ["bash", "sshd"] }, true],
  ["proc.aname exists", { "proc.aname": ["init"] }, true],
  ["proc.aname[2] = bash", { "proc.aname": ["bash"], "proc.aname[2]": "sshd" }, false],
  ["proc.aname[2] = bash", { "proc.aname": ["sshd"], "proc.aname[2]": "bash" }, true],
  ["proc.aname[2] = bash", { "proc.aname": ["bash"] }, false],
  ["proc.apid > 100", { "proc.apid": [1, 50, 200] }, true],
  ["proc.apid > 100", { "proc.apid": [1, 50] }, false],
  // List fields: `in` needs every element in the set, `intersects` one.
  ["fd.types in (file, ipv4)", { "fd.types": ["file", "ipv4"] }, true],
  ["fd.types in (file, ipv4)", { "fd.types": ["file"] }, true],
  ["fd.types in (file, ipv4)", { "fd.types": ["file", "unix"] }, false],
  ["fd.types intersects (unix, pipe)", { "fd.types": ["file", "unix"] }, true],
  ["fd.types intersects (unix, pipe)", { "fd.types": ["file", "ipv4"] }, false],
  ["fd.types intersects (unix)", { "fd.types": [] }, false],
  ["not fd.types intersects (unix)", { "fd.types": ["file"] }, true],
  ["fd.types exists", { "fd.types": ["file"] }, true],
  ["fd.types exists", {}, false],
  ["len(fd.types) = 3", { "fd.types": ["a", "b", "c"] }, true],
  ['join(",", fd.types) = "a,b"', { "fd.types": ["a", "b"] }, true],
  // String operators.
  ["proc.cmdline contains curl", { "proc.cmdline": "sh -c curl x" }, true],
  ["proc.cmdline contains CURL", { "proc.cmdline": "sh -c curl x" }, false],
  ["proc.cmdline icontains CURL", { "proc.cmdline": "sh -c curl x" }, true],
  ["proc.cmdline icontains curl", { "proc.cmdline": "SH -C CURL X" }, true],
  ["proc.name startswith ba", { "proc.name": "bash" }, true],
  ["proc.name startswith sh", { "proc.name": "bash" }, false],
  ["proc.name endswith sh", { "proc.name": "bash" }, true],
  ['proc.name contains ""', { "proc.name": "bash" }, true],
  // glob: '*' and '?' also match '/', classes and escapes work, iglob ignores case.
  ["fd.name glob /tmp/*", { "fd.name": "/tmp/a/b/c" }, true],
  ["fd.name glob /tmp/*", { "fd.name": "/tmpx" }, false],
  ["fd.name glob /tmp/*", { "fd.name": "/tmp/" }, true],
  ["fd.name glob /tmp/?.sh", { "fd.name": "/tmp/a.sh" }, true],
  ["fd.name glob /tmp/?.sh", { "fd.name": "/tmp/ab.sh" }, false],
  ["fd.name glob /a?b", { "fd.name": "/a/b" }, true],
  ['fd.name glob "/home/*/.ssh/*"', { "fd.name": "/home/u/.ssh/id_rsa" }, true],
  ['fd.name glob "/home/*/.ssh/*"', { "fd.name": "/home/u/ssh/id_rsa" }, false],
  ['proc.name glob "[bc]ash"', { "proc.name": "bash" }, true],
  ['proc.name glob "[bc]ash"', { "proc.name": "dash" }, false],
  ['proc.name glob "[!b]ash"', { "proc.name": "dash" }, true],
  ['proc.name glob "[a-c]ash"', { "proc.name": "cash" }, true],
  ['proc.name glob "a\\\\*b"', { "proc.name": "a*b" }, true],
  ['proc.name glob "a\\\\*b"', { "proc.name": "axb" }, false],
  ["proc.name glob a.c", { "proc.name": "abc" }, false],
  ["proc.name glob BASH", { "proc.name": "bash" }, false],
  ["proc.name iglob BA*", { "proc.name": "bash" }, true],
  ["proc.name iglob ba?h", { "proc.name": "BASH" }, true],
  // regex is a full match.
  ['proc.name regex "ba"', { "proc.name": "bash" }, false],
  ['proc.name regex "ba.*"', { "proc.name": "bash" }, true],
  ['proc.name regex "b|bash"', { "proc.name": "bash" }, true],
  ['proc.name regex "a"', { "proc.name": "bab" }, false],
  ['proc.name regex ".*a.*"', { "proc.name": "bab" }, true],
  ['proc.cmdline regex "[0-9]+"', { "proc.cmdline": "123" }, true],
  ['proc.cmdline regex "[0-9]+"', { "proc.cmdline": "123x" }, false],
  // pmatch: a listed path is a prefix of whole components; a component may be a glob.
  ["fd.name pmatch (/usr)", { "fd.name": "/usr/bin/ls" }, true],
  ["fd.name pmatch (/usr)", { "fd.name": "/usr" }, true],
  ["fd.name pmatch (/usr)", { "fd.name": "/usrx/bin" }, false],
  ["fd.name pmatch (/usr)", { "fd.name": "/us" }, false],
  ["fd.name pmatch (/usr/)", { "fd.name": "/usr/lib" }, true],
  ["fd.name pmatch (/etc, /usr)", { "fd.name": "/etc/passwd" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/.ssh/id_rsa" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/.ssh" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/x/.ssh" }, false],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/.ssh" }, false],
  ["fd.name pmatch ssh_dirs", { "fd.name": "/root/.ssh/authorized_keys" }, true],
  ["fd.name pmatch ()", { "fd.name": "/etc" }, false],
  // Modifiers: oneof is exactly one match, anyof at least one, allof every one.
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "a" }, true],
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "ab" }, false],
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "c" }, false],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "ab" }, true],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "b" }, true],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "c" }, false],
  ["proc.cmdline contains allof (a, b)", { "proc.cmdline": "ba" }, true],
  ["proc.cmdline contains allof (a, b)", { "proc.cmdline": "a" }, false],
  ["proc.name != allof (a, b)", { "proc.name": "c" }, true],
  ["proc.name != allof (a, b)", { "proc.name": "a" }, false],
  ["proc.name = oneof (a, b)", { "proc.name": "b" }, true],
  ["proc.name = oneof ()", { "proc.name": "b" }, false],
  ["proc.name = anyof ()", { "proc.name": "b" }, false],
  ["proc.name startswith oneof (/usr, /usr/bin)", { "proc.name": "/usr/bin/x" }, false],
  ["proc.name startswith oneof (/usr, /opt)", { "proc.name": "/usr/bin/x" }, true],
  ["proc.name glob anyof (*.sh, *.py)", { "proc.name": "x.py" }, true],
  ["proc.name regex allof (a.*, .*b)", { "proc.name": "axb" }, true],
  ["proc.name regex allof (a.*, .*b)", { "proc.name": "axc" }, false],
  ["proc.name = oneof (a) and proc.name = anyof", { "proc.name": "a" }, false],
  ["proc.name = anyof", { "proc.name": "anyof" }, true],
  ["not proc.name contains anyof (a)", {}, true],
  // Numbers: exact against number and bigint values; in, ranges, signs.
  ["proc.pid = 1", { "proc.pid": 1 }, true],
  ["proc.pid = 1", { "proc.pid": 1n }, true],
  ["proc.pid != 1", { "proc.pid": 1n }, false],
  ["proc.pid != 1", { "proc.pid": 2n }, true],
  ["proc.pid > -1", { "proc.pid": 0 }, true],
  ["proc.pid >= 5", { "proc.pid": 5n }, true],
  ["proc.pid < 5", { "proc.pid": 5n }, false],
  ["proc.pid <= 5", { "proc.pid": 4 }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 2 }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 2n }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 3 }, false],
  ["evt.rawtime > 5", { "evt.rawtime": 1_700_000_000_000_000_000n }, true],
  ["evt.rawtime < 100", { "evt.rawtime": 99n }, true],
  ["evt.rawtime = 9007199254740991", { "evt.rawtime": 9_007_199_254_740_991n }, true],
  ["evt.rawtime = 9007199254740991", { "evt.rawtime": 9_007_199_254_740_990n }, false],
  ["proc.pid < val(proc.ppid)", { "proc.pid": 5, "proc.ppid": 7n }, true],
  ["proc.pid = val(proc.ppid)", { "proc.pid": 7n, "proc.ppid": 7 }, true],
  ["proc.pid != val(proc.ppid)", { "proc.pid": 7n, "proc.ppid": 7 }, false],
  ["user.uid = 0", { "user.uid": 0 }, true],
  ["fd.sport = http", { "fd.sport": 80 }, true],
  ["fd.sport in web_ports", { "fd.sport": 443 }, true],
  ["fd.sport in web_ports", { "fd.sport": 8080 }, false],
  // Booleans and buffers.
  ["evt.is_open_read = true", { "evt.is_open_read": true }, true],
  ["evt.is_open_read = true", { "evt.is_open_read": false }, false],
  ["evt.is_open_read != true", { "evt.is_open_read": false }, true],
  ["evt.buffer bcontains 4243", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer bcontains 4341", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, false],
  ["evt.buffer bstartswith 4142", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer bstartswith 4243", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, false],
  ["evt.buffer contains BC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer = ABC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer endswith BC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  // Addresses and networks.
  ["fd.ip = 10.0.0.1", { "fd.ip": "10.0.0.1" }, true],
  ["fd.ip = 10.0.0.1", { "fd.ip": "10.0.0.2" }, false],
  ["fd.ip != 10.0.0.1", { "fd.ip": "10.0.0.2" }, true],
  ["fd.ip in (1.2.3.4, 10.9.9.9)", { "fd.ip": "10.9.9.9" }, true],
  ["fd.ip in (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.5" }, false],
  ["fd.ip in (1.2.3.4, ::1)", { "fd.ip": "0::1" }, true],
  ["fd.ip = anyof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.4" }, true],
  ["fd.ip != allof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.4" }, false],
  ["fd.ip != allof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.5" }, true],
  ["fd.ip = ::1", { "fd.ip": "::1" }, true],
  ["fd.ip = ::1", { "fd.ip": "0:0:0:0:0:0:0:1" }, true],
  ["fd.ip = 127.0.0.1", { "fd.ip": "::1" }, false],
  ["fd.net = 10.0.0.0/8", { "fd.net": "10.3.3.3" }, true],
  ["fd.net = 10.0.0.0/8", { "fd.net": "172.16.0.1" }, false],
  ["fd.net != 10.0.0.0/8", { "fd.net": "172.16.0.1" }, true],
  ["fd.net != 10.0.0.0/8", { "fd.net": "10.0.0.1" }, false],
  ["fd.net = 2001:db8::/32", { "fd.net": "2001:db8:1::5" }, true],
  ["fd.net = 2001:db8::/32", { "fd.net": "2001:db9::5" }, false],
  ["fd.net = 10.0.0.0/8", { "fd.net": "::1" }, false],
  ["fd.net in private_nets", { "fd.net": "192.168.1.1" }, true],
  ["fd.net in private_nets", { "fd.net": "172.16.0.1" }, false],
  ["fd.net = 0.0.0.0/0", { "fd.net": "172.16.0.1" }, true],
  // Transformers and field-to-field comparisons.
  ["tolower(proc.name) = bash", { "proc.name": "BaSh" }, true],
  ["toupper(proc.name) = BASH", { "proc.name": "bash" }, true],
  ["len(proc.name) > 3", { "proc.name": "bash" }, true],
  ["len(proc.name) > 3", { "proc.name": "sh" }, false],
  ["len(proc.name) = 2", { "proc.name": "é" }, true],
  ["basename(proc.exe) = ls", { "proc.exe": "/bin/ls" }, true],
  ["basename(proc.exe) = ls", { "proc.exe": "ls" }, true],
  ['concat(proc.name, "-", proc.exe) = a-b', { "proc.name": "a", "proc.exe": "b" }, true],
  ['concat(proc.name, "-", proc.exe) exists', { "proc.name": "a" }, false],
  ['join(",", (proc.name, proc.exe)) = "a,b"', { "proc.name": "a", "proc.exe": "b" }, true],
  ["b64(proc.cmdline) = hello", { "proc.cmdline": "aGVsbG8=" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "a" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "b" }, false],
  ["proc.name != val(proc.pname)", { "proc.name": "a", "proc.pname": "b" }, true],
  ["proc.name contains val(proc.pname)", { "proc.name": "bash-x", "proc.pname": "bash" }, true],
  ["proc.name startswith val(proc.pname)", { "proc.name": "bash-x", "proc.pname": "x" }, false],
  ["proc.name = tolower(proc.pname)", { "proc.name": "bash", "proc.pname": "BASH" }, true],
  ["evt.buflen > len(proc.name)", { "evt.buflen": 5, "proc.name": "bash" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "a" }, true],
  // evt.type under a transformer is refused only where it names event types (=, !=, in).
  ["tolower(evt.type) contains OPEN", { "evt.type": "open" }, false],
  ["evt.type in (open, openat)", { "evt.type": "openat" }, true],
];

describe("evaluation", () => {
  test.each(EVAL)("%p with %p is %p", (condition, values, expected) => {
    expect(holds(condition, values)).toBe(expected);
  });
});

describe("fixes after the first review", () => {
  const scope: CheckScope = {
    registry: FieldRegistry.default(),
    list: () => undefined,
    macro: () => ({ problem: "undefined_macro", message: "no" }),
  };
  const holds = (condition: string, values: Record<string, FieldValue>): boolean => {
    const result = checkCondition(parseCondition(condition), scope);
    if (!("checked" in result)) throw new Error(result.issue.message);
    const map = new Map(Object.entries(values));
    return planCondition(result.checked, (f) => () => map.get(f.display))(undefined);
  };
  const issue = (condition: string): string | undefined => {
    const result = checkCondition(parseCondition(condition), scope);
    return "issue" in result ? result.issue.message : undefined;
  };

  test.each([
    ['fd.name glob "[z-a]"', "/a", false],
    ['fd.name glob "[!z-a]"', "b", true],
    ["fd.name pmatch (/home/[z-a])", "/home/x/y", false],
    ['fd.name glob "[[:alpha:]]"', "a", true],
    ['fd.name glob "[[:digit:]]x"', "7x", true],
    ['fd.name glob "[\\\\]]"', "]", true],
  ])("glob never throws and reads fnmatch's bracket expressions: %s on %s", (c, v, want) => {
    expect(holds(c, { "fd.name": v })).toBe(want);
  });

  test.each([
    ['proc.name regex "[[:digit:]]+"', "123", true],
    ['proc.name regex "a]"', "a]", true],
    ['proc.name regex "ab|cd"', "cd", true],
    ['proc.name regex "b"', "abc", false],
    // RE2's POSIX mode has no lazy quantifiers: x*? is (x*)?, as in egrep.
    ['proc.name regex "x*?"', "xxx", true],
    // Leftmost-longest and whole-value: the alternation must cover the value.
    ['proc.name regex "a|ab"', "ab", true],
    ['proc.name regex "[^a]"', "\n", false],
  ])("regex reads RE2's POSIX syntax and matches the whole value: %s on %s", (c, v, want) => {
    expect(holds(c, { "proc.name": v })).toBe(want);
  });

  test.each([
    ['proc.name regex "\\\\d+"'],
    ['proc.name regex "(?:a)"'],
    ['proc.name regex "(a)\\\\1"'],
    ['proc.name regex "\\\\pL"'],
    ['proc.name regex "\\\\bfoo"'],
    ['proc.name regex "(?i)abc"'],
    ['proc.name regex "(?=a)a"'],
  ])("regex refuses what RE2's POSIX mode refuses: %s", (c) => {
    expect(issue(c)).toContain("invalid regular expression");
  });

  test("a NUL byte is refused in string values, allowed in buffers", () => {
    expect(issue('proc.name = "\\x00"')).toContain("NUL");
    expect(issue('proc.name contains "a\\x00"')).toContain("NUL");
    expect(issue('evt.buffer = "\\x00"')).toBeUndefined();
  });

  test("64-bit literals beyond 2^53 stay exact", () => {
    expect(issue("evt.rawtime > 1700000000000000000")).toBeUndefined();
    expect(holds("evt.rawtime > 1700000000000000000", { "evt.rawtime": 1700000000000000001n })).toBe(true);
    expect(holds("evt.rawtime = 9007199254740993", { "evt.rawtime": 9007199254740993n })).toBe(true);
    expect(holds("evt.rawtime = 9007199254740993", { "evt.rawtime": 9007199254740992n })).toBe(false);
    expect(holds("evt.rawtime in (9007199254740993, 1)", { "evt.rawtime": 9007199254740993n })).toBe(true);
  });

  test("an empty oneof/anyof/allof list matches nothing", () => {
    for (const m of ["oneof", "anyof", "allof"])
      expect(holds(`proc.name = ${m} ()`, { "proc.name": "a" })).toBe(false);
  });

  test("join: a field may be the separator; a missing element leaves no value", () => {
    expect(
      holds("join(fd.name, (proc.name, proc.exe)) = a/b", {
        "fd.name": "/",
        "proc.name": "a",
        "proc.exe": "b",
      }),
    ).toBe(true);
    expect(holds('join(",", (proc.name, proc.exe)) = a', { "proc.name": "a" })).toBe(false);
  });

  test("\\x escapes are bytes, read as UTF-8", () => {
    expect(unescapeQuoted('"\\xc3\\xa9"')).toBe("é");
    expect(holds('proc.name = "\\xc3\\xa9t\\xc3\\xa9"', { "proc.name": "été" })).toBe(true);
  });

  test("a swap of two letters is one edit for suggestions", () => {
    expect(issue("evt.tpye = open")).toContain("did you mean 'evt.type'");
  });
});
