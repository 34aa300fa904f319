// Rule output formats (agent/rules/output/format.ts): %field tokens compiled once, rendered as
// text (<NA> for missing values, widths, transformers) and as typed output_fields (null for
// missing, no transformed fields). Most cases read values from a Map; the live cases run real
// events through the state tracker and the registry's extractors.

import { describe, expect, test } from "bun:test";
import type { Event, ExecEvent, OpenEvent } from "../../../agent/events/types.ts";
import type { CheckScope } from "../../../agent/rules/condition/check.ts";
import type { FieldBinder } from "../../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";
import { loadRuleSources } from "../../../agent/rules/load/load.ts";
import { liveBinder, liveText } from "../../../agent/rules/live.ts";
import {
  bindOutput,
  compileOutput,
  type OutputProblem,
  type OutputToken,
} from "../../../agent/rules/output/format.ts";
import type { EventContext } from "../../../agent/state/context.ts";
import { StateTracker } from "../../../agent/state/tracker.ts";
import { UserTable } from "../../../agent/state/users.ts";

const scope: CheckScope = {
  registry: FieldRegistry.default(),
  list: () => undefined,
  macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
};

type Ctx = Map<string, FieldValue>;
const mapBinder: FieldBinder<Ctx> = (field) => (ctx) => ctx.get(field.display);

function tokens(text: string): OutputToken[] {
  const out = compileOutput(text, scope);
  if ("problem" in out) throw new Error(`unexpected problem: ${out.problem.message}`);
  return out.tokens;
}

function problem(text: string): OutputProblem {
  const out = compileOutput(text, scope);
  if (!("problem" in out)) throw new Error(`'${text}' compiled`);
  return out.problem;
}

function render(output: string, values: Record<string, FieldValue>) {
  const bound = bindOutput(tokens(output), mapBinder);
  const ctx: Ctx = new Map(Object.entries(values));
  const text = bound.text(ctx);
  const fields = bound.fields(ctx);
  // render() (what an alert uses) gives exactly what text() and fields() give apart.
  expect(bound.render(ctx)).toEqual({ text, fields });
  return { text, fields, names: bound.fieldNames };
}

describe("rendering an alert", () => {
  test("render() reads each field once, however often the output shows it", () => {
    const reads = new Map<string, number>();
    const counting: FieldBinder<Ctx> = (field) => (ctx) => {
      reads.set(field.display, (reads.get(field.display) ?? 0) + 1);
      return ctx.get(field.display);
    };
    const bound = bindOutput(tokens("a=%proc.name b=%proc.name c=%fd.name d=%8proc.name"), counting);
    const ctx: Ctx = new Map<string, FieldValue>([
      ["proc.name", "cat"],
      ["fd.name", "/etc/shadow"],
    ]);
    const out = bound.render(ctx);
    expect(out).toEqual({
      text: "a=cat b=cat c=/etc/shadow d=cat     ",
      fields: { "proc.name": "cat", "fd.name": "/etc/shadow" },
    });
    expect(Object.fromEntries(reads)).toEqual({ "proc.name": 1, "fd.name": 1 });
    // A second alert reads afresh: nothing of the first is kept.
    ctx.delete("fd.name");
    expect(bound.render(ctx).fields).toEqual({ "proc.name": "cat", "fd.name": null });
    expect(Object.fromEntries(reads)).toEqual({ "proc.name": 2, "fd.name": 2 });
  });
});

describe("compiling", () => {
  test("literal text and fields alternate; adjacent text is one token", () => {
    expect(
      tokens("file=%fd.name (by %proc.name)").map((t) => (t.kind === "text" ? t.text : `<${t.display}>`)),
    ).toEqual(["file=", "<fd.name>", " (by ", "<proc.name>", ")"]);
  });

  test("a width is part of the field token", () => {
    const [t] = tokens("%12proc.name");
    expect(t).toMatchObject({ kind: "field", width: 12, display: "proc.name" });
  });

  test("arguments are kept in the display name", () => {
    expect(
      tokens("%proc.aname[2] %evt.arg.flags %evt.arg[1]").flatMap((t) =>
        t.kind === "field" ? [t.display] : [],
      ),
    ).toEqual(["proc.aname[2]", "evt.arg.flags", "evt.arg[1]"]);
  });

  test.each([
    ["%proc.namex", ["proc.name", "x"]],
    ["%fd.names", ["fd.name", "s"]],
    ["%proc.name.x", ["proc.name", ".x"]],
    ["%proc.aname[2]x", ["proc.aname[2]", "x"]],
    ["%fd.name%proc.name", ["fd.name", "proc.name"]],
    ["%proc.name,%fd.name", ["proc.name", ",", "fd.name"]],
    ["%fd.nameraw", ["fd.nameraw"]],
  ])("longest prefix that resolves: %p", (text, expected) => {
    expect(tokens(text).map((t) => (t.kind === "text" ? t.text : t.display))).toEqual(expected);
  });

  test.each<[string, Partial<OutputProblem>]>([
    [
      "%proc.nme",
      { pos: 0, code: "unknown_field", message: "unknown field 'proc.nme'; did you mean 'proc.name'?" },
    ],
    ["file=%fd.name user=%usr.name", { pos: 19, code: "unknown_field" }],
    ["x %", { pos: 2, code: "compile_output", message: "an output cannot end with '%'" }],
    ["100%", { pos: 3, code: "compile_output", message: "an output cannot end with '%'" }],
    ["x %5", { pos: 2, code: "compile_output", message: "an output cannot end with a width" }],
    ["a % b", { pos: 2, code: "compile_output", message: "'%' is not a field" }],
    ["%proc.name[1]", { pos: 0, code: "bad_argument" }],
    ["%proc.aname[x]", { pos: 0, code: "bad_argument" }],
    ["%evt.arg", { pos: 0, code: "bad_argument" }],
  ])("%p is refused", (text, expected) => {
    expect(problem(text)).toMatchObject(expected);
  });

  test("a rule with a bad output is an error at its line and column in the file", () => {
    const { diagnostics, ruleset } = loadRuleSources([
      {
        name: "bad-output.yaml",
        text: "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: file=%fd.name user=%usr.name\n  priority: INFO\n",
      },
    ]);
    expect(ruleset.rules).toEqual([]);
    const errors = diagnostics.items.filter((d) => d.severity === "error");
    expect(errors.length).toBe(1);
    expect(errors[0].code).toBe("unknown_field");
    const pos = errors[0].location;
    expect(pos === undefined ? undefined : pos.file.text.slice(pos.offset, pos.offset + 9)).toBe("%usr.name");
  });
});

describe("rendering with a Map of values", () => {
  test("fields are substituted, output_fields typed", () => {
    const out = render("%proc.name (pid %proc.pid) failed=%evt.failed", {
      "proc.name": "cat",
      "proc.pid": 4242,
      "evt.failed": false,
    });
    expect(out.text).toBe("cat (pid 4242) failed=false");
    expect(out.fields).toEqual({ "proc.name": "cat", "proc.pid": 4242, "evt.failed": false });
  });

  test("a missing value is <NA> in the text and null in output_fields", () => {
    const out = render("user=%user.name container=%container.id", { "user.name": "root" });
    expect(out.text).toBe("user=root container=<NA>");
    expect(out.fields).toEqual({ "user.name": "root", "container.id": null });
  });

  test("a field Lanner does not fill yet renders as missing", () => {
    const out = render("image=%container.image.repository", { "container.image.repository": "ignored" });
    // The Map binder reads whatever it is given; with the live binder this field has no extractor.
    expect(out.text).toBe("image=ignored");
    const live = bindOutput(tokens("image=%container.image.repository"), liveBinder);
    expect(live.text(liveContext().ctx)).toBe("image=<NA>");
  });

  test.each([
    ["%10proc.name|", "cat", "cat       |"],
    ["%3proc.name|", "cat", "cat|"],
    ["%2proc.name|", "cat", "ca|"],
    ["%1proc.name|", "cat", "c|"],
    ["%0proc.name|", "cat", "cat|"],
    ["%6proc.name|", undefined, "<NA>  |"],
    ["%2proc.name|", undefined, "<N|"],
  ])("width: %p with %p -> %p", (text, value, expected) => {
    const out = render(text, value === undefined ? {} : { "proc.name": value });
    expect(out.text).toBe(expected);
    // The width never changes output_fields.
    expect(out.fields).toEqual({ "proc.name": value ?? null });
  });

  test("longest prefix renders the field and then the rest as text", () => {
    expect(render("%proc.namex", { "proc.name": "bash" }).text).toBe("bashx");
  });

  test("transformers appear in the text but not in output_fields", () => {
    const out = render("%toupper(proc.name) %proc.name %basename(fd.name)", {
      "proc.name": "Bash",
      "fd.name": "/etc/shadow",
    });
    expect(out.text).toBe("BASH Bash shadow");
    expect(out.fields).toEqual({ "proc.name": "Bash" });
    expect(out.names).toEqual(["proc.name"]);
  });

  test("a field used twice appears once in output_fields, in order of first appearance", () => {
    const out = render("%fd.name %proc.name %fd.name %5proc.name", { "proc.name": "cat", "fd.name": "/x" });
    expect(out.text).toBe("/x cat /x cat  ");
    expect(out.names).toEqual(["fd.name", "proc.name"]);
    expect(Object.keys(out.fields)).toEqual(["fd.name", "proc.name"]);
  });

  test("a list field renders as (a,b) and stays a list in output_fields", () => {
    const out = render("types=%fd.types", { "fd.types": ["file", "ipv4"] });
    expect(out.text).toBe("types=(file,ipv4)");
    expect(out.fields).toEqual({ "fd.types": ["file", "ipv4"] });
  });

  test("an unindexed ancestor field renders its values separated by spaces", () => {
    const out = render("%proc.aname", { "proc.aname": ["bash", "sshd", "systemd"] });
    expect(out.text).toBe("bash sshd systemd");
    expect(out.fields).toEqual({ "proc.aname": ["bash", "sshd", "systemd"] });
  });

  test("a bigint is exact in the text and stays a bigint in output_fields", () => {
    const out = render("t=%evt.rawtime", { "evt.rawtime": 1_700_000_000_999_999_999n });
    expect(out.text).toBe("t=1700000000999999999");
    expect(out.fields["evt.rawtime"]).toBe(1_700_000_000_999_999_999n);
  });

  test("bytes render as text", () => {
    const out = render("%evt.buffer", { "evt.buffer": new TextEncoder().encode("héllo") });
    expect(out.text).toBe("héllo");
    expect(out.fields).toEqual({ "evt.buffer": "héllo" });
  });
});

// -----------------------------------------------------------------------------------------------
// Live rendering: real events applied to the state tracker, read by the registry's extractors.

const CLOCK = { offsetSec: 1_700_000_000, offsetNsec: 0 };

function liveContext(events: Event[] = []): { ctx: EventContext; tracker: StateTracker } {
  const tracker = new StateTracker({
    processCapacity: 64,
    users: new UserTable(),
    host: { hostname: "node-1", clock: CLOCK },
    pathBases: { cwd: () => "/root", fdPath: () => undefined },
  });
  let ctx = tracker.apply(exec(1, 0, "systemd"));
  for (const e of events) ctx = tracker.apply(e);
  return { ctx, tracker };
}

let num = 0;
function exec(pid: number, ppid: number, comm: string, args: string[] = [comm]): ExecEvent {
  return {
    kind: "execve",
    num: ++num,
    bootSec: 10,
    bootNsec: 0,
    tid: pid,
    pid,
    cut: 0,
    res: 0,
    ppid,
    uid: 0,
    gid: 0,
    comm,
    filename: `/usr/bin/${comm}`,
    args,
    cgroup: "/",
  };
}

function open(pid: number, path: string, flags: number): OpenEvent {
  return {
    kind: "openat",
    num: ++num,
    bootSec: 42,
    bootNsec: 123_456_789,
    tid: pid,
    pid,
    cut: 0,
    res: 3,
    dirfd: -100,
    path,
    flags,
    mode: 0,
    resolve: 0,
  };
}

describe("rendering live events", () => {
  const O_CLOEXEC = 0o2000000;
  const chain = [exec(100, 1, "sshd"), exec(200, 100, "bash"), exec(300, 200, "cat", ["cat", "/etc/shadow"])];

  function live(text: string, events: Event[]) {
    const bound = bindOutput(tokens(text), liveBinder, liveText);
    const { ctx } = liveContext(events);
    return { text: bound.text(ctx), fields: bound.fields(ctx) };
  }

  test("%proc.aname[N] walks the real process table", () => {
    const out = live("%proc.aname[0] %proc.aname[1] %proc.aname[2] %proc.aname[3] %proc.aname[4]", [
      ...chain,
      open(300, "/etc/shadow", 0),
    ]);
    expect(out.text).toBe("cat bash sshd systemd <NA>");
    expect(out.fields).toEqual({
      "proc.aname[0]": "cat",
      "proc.aname[1]": "bash",
      "proc.aname[2]": "sshd",
      "proc.aname[3]": "systemd",
      "proc.aname[4]": null,
    });
  });

  test("%proc.aname without an index lists every ancestor", () => {
    const out = live("%proc.aname", [...chain, open(300, "/etc/shadow", 0)]);
    expect(out.text).toBe("bash sshd systemd");
    expect(out.fields).toEqual({ "proc.aname": ["bash", "sshd", "systemd"] });
  });

  test("%evt.arg.flags renders Falco's flag names", () => {
    const out = live("flags=%evt.arg.flags raw=%evt.rawarg.flags", [
      ...chain,
      open(300, "/etc/shadow", O_CLOEXEC),
    ]);
    expect(out.text).toBe(`flags=O_RDONLY|O_CLOEXEC raw=${O_CLOEXEC}`);
    expect(out.fields).toEqual({ "evt.arg.flags": "O_RDONLY|O_CLOEXEC", "evt.rawarg.flags": O_CLOEXEC });
  });

  test("%evt.time prints as a clock time in the text and an exact bigint in output_fields", () => {
    const out = live("at %evt.time", [...chain, open(300, "/etc/shadow", 0)]);
    // 1700000000 + 42 s = 22:14:02 UTC.
    expect(out.text).toBe("at 22:14:02.123456789");
    expect(out.fields).toEqual({ "evt.time": 1_700_000_042_123_456_789n });
  });

  test("a process the table does not know renders <NA> for its fields", () => {
    const out = live("%proc.name %proc.cmdline %fd.name", [open(999, "/etc/hosts", 0)]);
    expect(out.text).toBe("<NA> <NA> /etc/hosts");
    expect(out.fields).toEqual({ "proc.name": null, "proc.cmdline": null, "fd.name": "/etc/hosts" });
  });

  test("the default rules' output renders on a real open of /etc/shadow", () => {
    const { ruleset } = loadRuleSources([
      {
        name: "r.yaml",
        text:
          "- rule: R\n  desc: d\n  condition: evt.type = openat\n" +
          "  output: file=%fd.name process=%proc.name command=%proc.cmdline parent=%proc.pname uid=%user.uid container=%container.id\n" +
          "  priority: WARNING\n",
      },
    ]);
    const bound = bindOutput(ruleset.rules[0].output, liveBinder, liveText);
    const { ctx } = liveContext([...chain, open(300, "/etc/../etc/shadow", 0)]);
    expect(bound.text(ctx)).toBe(
      "file=/etc/shadow process=cat command=cat /etc/shadow parent=bash uid=0 container=host",
    );
    expect(bound.fields(ctx)).toEqual({
      "fd.name": "/etc/shadow",
      "proc.name": "cat",
      "proc.cmdline": "cat /etc/shadow",
      "proc.pname": "bash",
      "user.uid": 0,
      "container.id": "host",
    });
  });
});
