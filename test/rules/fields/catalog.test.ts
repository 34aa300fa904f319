// The field catalog and the event-name tables against Falco's own rule files: every field a rule or
// macro uses must resolve (with an argument written the way Falco accepts it), and every event type a
// condition names must be known. The rule files live outside the repo, in ../shared/falco-rules; when
// they are missing this suite fails loudly instead of skipping.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FAILSAFE_SCHEMA, load } from "js-yaml";
import {
  DOT_SUFFIX_FIELDS,
  FIELD_BY_NAME,
  FIELD_CATALOG,
  FIELD_CLASSES,
  type FalcoParamType,
  type FieldArgForm,
} from "../../../agent/rules/fields/catalog.ts";
import { resolveField } from "../../../agent/rules/fields/registry.ts";
import { EVENT_ARGS, EVENT_NAMES, SYSCALL_NAMES } from "../../../agent/rules/fields/event-names.ts";

const RULES_DIR = resolve(import.meta.dir, "../../../../shared/falco-rules");
const HAVE_RULES = existsSync(RULES_DIR);
if (!HAVE_RULES) {
  console.error(
    `\n!!! ${RULES_DIR} is missing: the Falco rule files (../shared/falco-rules from the repo root) ` +
      "are needed to check the field catalog. The rule-file tests below FAIL until it is there. !!!\n",
  );
}

function requireRules(): void {
  if (!HAVE_RULES) {
    throw new Error(
      `Falco rule files not found at ${RULES_DIR} (expected ../shared/falco-rules from the repo root)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the rule files

interface Usage {
  file: string;
  /** Rule or macro name. */
  where: string;
  name: string;
  arg?: string;
  inOutput: boolean;
}

interface RuleFiles {
  files: string[];
  lists: Map<string, string[]>;
  /** [file, rule-or-macro name, condition] */
  conditions: [string, string, string][];
  /** [file, rule name, output] */
  outputs: [string, string, string][];
  /** Field names listed in rule exceptions (`exceptions: - fields: [...]`). */
  exceptionFields: [string, string, string][];
}

function readRuleFiles(): RuleFiles {
  const files = readdirSync(RULES_DIR)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort();
  const out: RuleFiles = { files, lists: new Map(), conditions: [], outputs: [], exceptionFields: [] };
  for (const file of files) {
    const doc = load(readFileSync(join(RULES_DIR, file), "utf8"), { schema: FAILSAFE_SCHEMA });
    if (!Array.isArray(doc)) continue;
    for (const item of doc as Record<string, unknown>[]) {
      if (item === null || typeof item !== "object") continue;
      if (typeof item["list"] === "string") {
        const items = Array.isArray(item["items"]) ? (item["items"] as unknown[]).map(String) : [];
        const prev = out.lists.get(item["list"]) ?? [];
        out.lists.set(item["list"], [...prev, ...items]);
      } else if (typeof item["macro"] === "string") {
        if (typeof item["condition"] === "string")
          out.conditions.push([file, item["macro"], item["condition"]]);
      } else if (typeof item["rule"] === "string") {
        const rule = item["rule"];
        if (typeof item["condition"] === "string") out.conditions.push([file, rule, item["condition"]]);
        if (typeof item["output"] === "string") out.outputs.push([file, rule, item["output"]]);
        if (Array.isArray(item["exceptions"])) {
          for (const ex of item["exceptions"] as Record<string, unknown>[]) {
            const fields = ex?.["fields"];
            for (const f of Array.isArray(fields) ? fields : typeof fields === "string" ? [fields] : []) {
              out.exceptionFields.push([file, rule, String(f)]);
            }
          }
        }
      }
    }
  }
  return out;
}

// A quoted string (skipped), or a dotted name in the shape Falco's lexer gives a field, optionally
// followed by a bracket argument. Names glued to a preceding word, dot, slash or dash are parts of
// bare values (registry.k8s.io/..., /etc/foo.d), not fields.
const CONDITION_TOKEN =
  /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?<![\w./-])([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+)(?:\[("[^"]*"|'[^']*'|[^\]]*)\])?/g;
const OUTPUT_TOKEN = /%([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+)(?:\[("[^"]*"|'[^']*'|[^\]]*)\])?/g;

function unquote(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return (t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))
    ? t.slice(1, -1)
    : t;
}

function isFieldClass(name: string): boolean {
  return FIELD_CLASSES.has(name.split(".")[0]!);
}

function fieldUsages(rf: RuleFiles): Usage[] {
  const usages: Usage[] = [];
  for (const [file, where, cond] of rf.conditions) {
    for (const m of cond.matchAll(CONDITION_TOKEN)) {
      if (m[1] === undefined || !isFieldClass(m[1])) continue;
      usages.push({ file, where, name: m[1], arg: unquote(m[2]), inOutput: false });
    }
  }
  for (const [file, where, output] of rf.outputs) {
    for (const m of output.matchAll(OUTPUT_TOKEN)) {
      if (!isFieldClass(m[1]!)) continue;
      usages.push({ file, where, name: m[1]!, arg: unquote(m[2]), inOutput: true });
    }
  }
  for (const [file, where, f] of rf.exceptionFields) {
    const m = /^([^[]+)(?:\[(.*)\])?$/.exec(f.trim());
    if (m) usages.push({ file, where, name: m[1]!, arg: unquote(m[2]), inOutput: false });
  }
  return usages;
}

function show(u: Usage): string {
  return `${u.file} / ${u.where}: ${u.name}${u.arg === undefined ? "" : `[${u.arg}]`}${u.inOutput ? " (output)" : ""}`;
}

/** Event type names a condition compares evt.type with, list names expanded. */
function evtTypeValues(rf: RuleFiles): [string, string, string][] {
  const expand = (v: string, seen: Set<string>): string[] => {
    const items = rf.lists.get(v);
    if (items === undefined || seen.has(v)) return [v];
    seen.add(v);
    return items.flatMap((i) => expand(i.trim(), seen));
  };
  const found: [string, string, string][] = [];
  for (const [file, where, cond] of rf.conditions) {
    for (const m of cond.matchAll(/(?<![\w.])evt\.type\s*(?:==|=|!=)\s*("[^"]*"|'[^']*'|[^\s()]+)/g)) {
      for (const v of expand(unquote(m[1])!, new Set())) found.push([file, where, v]);
    }
    for (const m of cond.matchAll(/(?<![\w.])evt\.type\s+(?:in|intersects)\s*\(([^)]*)\)/g)) {
      for (const item of m[1]!.split(",")) {
        const v = unquote(item);
        if (v) for (const x of expand(v, new Set())) found.push([file, where, x]);
      }
    }
  }
  return found;
}

const RULES: RuleFiles | undefined = HAVE_RULES ? readRuleFiles() : undefined;

// ---------------------------------------------------------------------------------------------

describe("field catalog", () => {
  test("has no duplicate names", () => {
    const seen = new Set<string>();
    const dups: string[] = [];
    for (const f of FIELD_CATALOG) {
      if (seen.has(f.name)) dups.push(f.name);
      seen.add(f.name);
    }
    expect(dups).toEqual([]);
    expect(FIELD_BY_NAME.size).toBe(FIELD_CATALOG.length);
  });

  test("every entry is well formed", () => {
    const types = new Set<FalcoParamType>([
      "CHARBUF",
      "INT16",
      "INT32",
      "INT64",
      "UINT32",
      "UINT64",
      "DOUBLE",
      "BOOL",
      "IPADDR",
      "IPNET",
      "PORT",
      "RELTIME",
      "ABSTIME",
      "BYTEBUF",
      "DYN",
    ]);
    const forms = new Set<FieldArgForm>([
      "none",
      "index_optional",
      "index_required",
      "key_optional",
      "key_required",
      "index_or_key_optional",
      "index_or_key_required",
    ]);
    const bad: string[] = [];
    for (const f of FIELD_CATALOG) {
      if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(f.name)) bad.push(`${f.name}: name`);
      if (!types.has(f.type)) bad.push(`${f.name}: type ${f.type}`);
      if (!forms.has(f.arg)) bad.push(`${f.name}: arg ${f.arg}`);
      if (f.desc.trim() === "" || !/[.)]$/.test(f.desc.trim())) bad.push(`${f.name}: desc`);
      if (f.desc.trim() === f.display.trim()) bad.push(`${f.name}: desc is only the display name`);
      if (new Set(f.flags).size !== f.flags.length) bad.push(`${f.name}: repeated flag`);
      if (f.flags.includes("EPF_FILTER_ONLY") && f.flags.includes("EPF_PRINT_ONLY"))
        bad.push(`${f.name}: flags`);
      if (f.provider !== "libsinsp" && !f.flags.includes("EPF_NO_PTR_STABILITY"))
        bad.push(`${f.name}: plugin flags`);
    }
    expect(bad).toEqual([]);
  });

  test("covers every field class of the syscall source and both plugins", () => {
    for (const cls of ["evt", "syscall", "proc", "thread", "user", "group", "fd", "fs", "fdlist", "util"]) {
      expect(FIELD_CATALOG.some((f) => f.provider === "libsinsp" && f.name.startsWith(`${cls}.`))).toBe(true);
    }
    expect(FIELD_CATALOG.some((f) => f.provider === "container" && f.name.startsWith("container."))).toBe(
      true,
    );
    expect(FIELD_CATALOG.some((f) => f.provider === "container" && f.name.startsWith("k8s."))).toBe(true);
    expect(FIELD_CATALOG.some((f) => f.provider === "k8smeta" && f.name.startsWith("k8smeta."))).toBe(true);
  });

  test("spot checks against libsinsp", () => {
    expect(FIELD_BY_NAME.get("proc.aname")).toMatchObject({
      type: "CHARBUF",
      arg: "index_optional",
      isList: false,
    });
    expect(FIELD_BY_NAME.get("fd.types")).toMatchObject({ arg: "index_optional", isList: true });
    expect(FIELD_BY_NAME.get("fd.net")).toMatchObject({ type: "IPNET" });
    expect(FIELD_BY_NAME.get("fd.net")!.flags).toContain("EPF_FILTER_ONLY");
    expect(FIELD_BY_NAME.get("evt.rawarg")).toMatchObject({ type: "DYN", arg: "key_required" });
    expect(FIELD_BY_NAME.get("user.loginuid")).toMatchObject({ type: "INT64" });
    expect(FIELD_BY_NAME.get("container.mount.dest")).toMatchObject({
      arg: "index_or_key_required",
      provider: "container",
    });
    expect(FIELD_BY_NAME.get("k8smeta.svc.name")).toMatchObject({ isList: true, provider: "k8smeta" });
  });

  test("dotted-suffix fields exist and take an argument", () => {
    for (const d of DOT_SUFFIX_FIELDS) {
      const f = FIELD_BY_NAME.get(d);
      expect(f).toBeDefined();
      expect(f!.arg).not.toBe("none");
      expect(f!.provider).toBe("libsinsp");
    }
  });
});

describe("resolveField", () => {
  const ok = (name: string, arg?: string) => resolveField(name, arg);
  test("exact names, with and without arguments", () => {
    expect(ok("proc.name")).toMatchObject({ field: { name: "proc.name" }, via: "none" });
    expect(ok("proc.name", "1")).toBeUndefined();
    expect(ok("proc.aname")).toMatchObject({ field: { name: "proc.aname" }, via: "none" });
    expect(ok("proc.aname", "2")).toMatchObject({ field: { name: "proc.aname" }, arg: "2", via: "bracket" });
    expect(ok("proc.aname", "x")).toBeUndefined();
    expect(ok("proc.env", "HOME")).toMatchObject({ arg: "HOME" });
    expect(ok("proc.aenv", "3")).toMatchObject({ arg: "3" });
    expect(ok("proc.aenv", "PATH")).toMatchObject({ arg: "PATH" });
    expect(ok("evt.around")).toBeUndefined();
    expect(ok("evt.args")).toMatchObject({ field: { name: "evt.args" }, via: "none" });
    expect(ok("fs.path.name")).toMatchObject({ field: { name: "fs.path.name" } });
    expect(ok("fd.sip.name")).toMatchObject({ field: { name: "fd.sip.name" } });
    expect(ok("proc.nosuch")).toBeUndefined();
  });
  test("evt.arg: dotted parameter name or bracketed position", () => {
    expect(ok("evt.arg.flags")).toMatchObject({ field: { name: "evt.arg" }, arg: "flags", via: "dot" });
    expect(ok("evt.arg", "0")).toMatchObject({ field: { name: "evt.arg" }, arg: "0", via: "bracket" });
    expect(ok("evt.arg", "flags")).toBeUndefined();
    expect(ok("evt.arg")).toBeUndefined();
    expect(ok("evt.arg.nosuchparam")).toBeUndefined();
    expect(ok("evt.rawarg.res")).toMatchObject({ field: { name: "evt.rawarg" }, arg: "res" });
    expect(ok("evt.rawarg", "0")).toBeUndefined();
  });
  test("other dotted forms", () => {
    expect(ok("evt.type.is.open")).toMatchObject({ field: { name: "evt.type.is" }, arg: "open" });
    expect(ok("evt.abspath")).toMatchObject({ field: { name: "evt.abspath" }, via: "none" });
    expect(ok("evt.abspath.dst")).toMatchObject({ field: { name: "evt.abspath" }, arg: "dst" });
    expect(ok("evt.abspath.foo")).toBeUndefined();
    expect(ok("thread.cgroup.cpuacct")).toMatchObject({ field: { name: "thread.cgroup" }, arg: "cpuacct" });
    expect(ok("thread.cgroup")).toBeUndefined();
    expect(ok("thread.cgroups")).toMatchObject({ field: { name: "thread.cgroups" } });
  });
  test("plugin fields take bracket arguments only", () => {
    expect(ok("container.mount.dest", "/etc")).toMatchObject({ arg: "/etc", via: "bracket" });
    expect(ok("container.mount.dest", "0")).toMatchObject({ arg: "0" });
    expect(ok("container.mount.dest")).toBeUndefined();
    expect(ok("container.label", "app")).toMatchObject({ arg: "app" });
    expect(ok("container.label.app")).toBeUndefined();
    expect(ok("k8s.pod.label", "app.kubernetes.io/name")).toMatchObject({ arg: "app.kubernetes.io/name" });
  });
});

describe("event names", () => {
  test("no duplicates, and the two lists are disjoint", () => {
    expect(new Set(SYSCALL_NAMES).size).toBe(SYSCALL_NAMES.length);
    expect(new Set(EVENT_NAMES).size).toBe(EVENT_NAMES.length);
    const sys = new Set(SYSCALL_NAMES);
    expect(EVENT_NAMES.filter((n) => sys.has(n))).toEqual([]);
  });

  test("common names are present", () => {
    for (const n of [
      "open",
      "openat",
      "openat2",
      "execve",
      "execveat",
      "connect",
      "clone3",
      "ptrace",
      "bpf",
    ]) {
      expect(SYSCALL_NAMES).toContain(n);
    }
    for (const n of ["procexit", "switch", "container", "signaldeliver", "page_fault", "procinfo", "drop"]) {
      expect(EVENT_NAMES).toContain(n);
    }
  });

  test("EVENT_ARGS keys are event type names, each with its parameters", () => {
    const known = new Set([...SYSCALL_NAMES, ...EVENT_NAMES]);
    expect(Object.keys(EVENT_ARGS).filter((k) => !known.has(k))).toEqual([]);
    expect(EVENT_ARGS["openat"]).toEqual(["fd", "dirfd", "name", "flags", "mode", "dev", "ino"]);
    expect(EVENT_ARGS["execve"]).toContain("exe");
    expect(EVENT_ARGS["procexit"]).toContain("status");
  });
});

describe("Falco rule files", () => {
  test("are present in ../shared/falco-rules", () => {
    requireRules();
    expect(RULES!.files.length).toBeGreaterThan(0);
    expect(RULES!.conditions.length).toBeGreaterThan(0);
  });

  test("every field they use resolves in the catalog", () => {
    requireRules();
    const usages = fieldUsages(RULES!);
    expect(usages.length).toBeGreaterThan(100);
    const bad = usages.filter((u) => resolveField(u.name, u.arg) === undefined).map(show);
    expect(bad).toEqual([]);
  });

  test("filter-only fields are not printed and print-only fields are not filtered on", () => {
    requireRules();
    const bad: string[] = [];
    for (const u of fieldUsages(RULES!)) {
      const r = resolveField(u.name, u.arg);
      if (r === undefined) continue;
      if (u.inOutput && r.field.flags.includes("EPF_FILTER_ONLY")) bad.push(show(u));
      if (!u.inOutput && r.field.flags.includes("EPF_PRINT_ONLY")) bad.push(show(u));
    }
    expect(bad).toEqual([]);
  });

  test("every evt.type value in their conditions is a known event type", () => {
    requireRules();
    const values = evtTypeValues(RULES!);
    expect(values.length).toBeGreaterThan(20);
    const known = new Set([...SYSCALL_NAMES, ...EVENT_NAMES]);
    const bad = values.filter(([, , v]) => !known.has(v)).map(([f, w, v]) => `${f} / ${w}: evt.type ${v}`);
    expect(bad).toEqual([]);
  });
});
