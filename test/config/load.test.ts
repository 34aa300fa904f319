// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests are about literal ${VAR} text in YAML
// Loading the configuration (agent/config/load.ts): defaults, every kind of error with its
// file:line:col and key path, ${ENV} expansion and -o overrides.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../agent/config/embedded.ts";
import { ConfigError, loadConfig } from "../../agent/config/load.ts";
import type { LannerConfig } from "../../agent/config/schema.ts";
import { defaultOutputSettings } from "../../agent/outputs/settings.ts";

const NO_ENV: Record<string, string | undefined> = {};

/** The schema's defaults, as docs/CONFIG.md lists them. */
const SCHEMA_DEFAULTS: LannerConfig = {
  rules_files: [],
  priority: "debug",
  rule_matching: "first",
  rules: [],
  // The output keys' defaults are checked in test/outputs/settings.test.ts.
  ...defaultOutputSettings(),
  log_level: "info",
  engine: {
    kind: "modern_ebpf",
    modern_ebpf: { buf_size_preset: 4, cpus_for_each_buffer: 0, drain_interval_ms: 100 },
    prefilter: true,
  },
  state: {
    max_processes: 65_536,
    host_root: "/",
    max_fds_per_process: 1024,
    max_fds_total: 262_144,
    max_containers: 4096,
    max_users: 65_536,
    repair_rate: 200,
    repair_burst: 1000,
  },
  container_engines: {
    containerd: { enabled: true, state_dir: "/run/containerd/io.containerd.runtime.v2.task" },
    "cri-o": { enabled: true, state_dir: "/var/lib/containers/storage/overlay-containers" },
    docker: { enabled: true, state_dir: "/var/lib/docker" },
  },
  append_output: [{ suggested_output: true }],
  syscall_event_drops: { threshold: 0.1, actions: ["log", "alert"], rate: 0.03333, max_burst: 1 },
  config_files: [],
  watch_config_files: true,
  webserver: {
    enabled: false,
    listen_port: 8765,
    listen_address: "0.0.0.0",
    k8s_healthz_endpoint: "/healthz",
    prometheus_metrics_enabled: false,
    ssl_enabled: false,
    ssl_certificate: "/etc/lanner/lanner.pem",
  },
  metrics: {
    enabled: false,
    interval: "1h",
    output_rule: true,
    output_file: "",
    include_empty_values: false,
  },
  capture: {
    enabled: false,
    path_prefix: "/tmp/lanner",
    mode: "rules",
    default_duration: 5000,
    max_file_size_mb: 100,
    ring_size_mb: 4,
    compression: "zstd",
  },
};

function load(text: string, overrides: string[] = [], env = NO_ENV): LannerConfig {
  return loadConfig({ name: "lanner.yaml", text }, overrides, env);
}

/** The problems of a load that must fail. */
function problems(text: string, overrides: string[] = [], env = NO_ENV): readonly string[] {
  try {
    load(text, overrides, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toBe(e.problems.join("\n"));
    return e.problems;
  }
  throw new Error("the configuration was accepted");
}

describe("defaults", () => {
  test.each([
    ["an empty file", ""],
    ["a file with only comments", "# nothing here\n\n# at all\n"],
    ["a null document", "~\n"],
    ["an empty mapping", "{}\n"],
  ])("%s gives the schema's defaults", (_, text) => {
    expect(load(text)).toEqual(SCHEMA_DEFAULTS);
  });

  test("the embedded default config loads, and differs from the schema (Falco's defaults) only in JSON alerts and the file output", () => {
    const config = loadConfig(DEFAULT_CONFIG, [], NO_ENV);
    expect(config).toEqual({
      ...SCHEMA_DEFAULTS,
      json_output: true,
      file_output: { ...SCHEMA_DEFAULTS.file_output, enabled: true },
    });
  });

  test("the embedded default is the text of agent/config/default.yaml", () => {
    expect(DEFAULT_CONFIG.text).toBe(
      readFileSync(join(import.meta.dir, "../../agent/config/default.yaml"), "utf8"),
    );
  });

  test("a partial mapping keeps the defaults of its siblings", () => {
    const config = load("file_output:\n  enabled: true\nengine:\n  modern_ebpf:\n    buf_size_preset: 6\n");
    expect(config.file_output).toMatchObject({
      enabled: true,
      keep_alive: true,
      filename: "./lanner_alerts.jsonl",
    });
    expect(config.engine).toEqual({
      kind: "modern_ebpf",
      modern_ebpf: { buf_size_preset: 6, cpus_for_each_buffer: 0, drain_interval_ms: 100 },
      prefilter: true,
    });
  });

  test("values are typed, and priority is accepted in any case", () => {
    const config = load(
      "priority: WARNING\nrule_matching: all\njson_output: false\noutputs_queue: {capacity: 3}\n" +
        "rules:\n  - disable: {rule: '*'}\n  - enable: {tag: network}\nrules_files: [/etc/lanner/rules.d]\n",
    );
    expect(config.priority).toBe("warning");
    expect(config.rule_matching).toBe("all");
    expect(config.json_output).toBe(false);
    expect(config.outputs_queue.capacity).toBe(3);
    expect(config.rules).toEqual([{ disable: { rule: "*" } }, { enable: { tag: "network" } }]);
    expect(config.rules_files).toEqual(["/etc/lanner/rules.d"]);
  });

  test("a real file read from disk loads the same as its text", () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-config-"));
    try {
      const path = join(dir, "lanner.yaml");
      writeFileSync(path, "log_level: debug\nstate:\n  host_root: /host\n");
      const config = loadConfig({ name: path, text: readFileSync(path, "utf8") }, [], NO_ENV);
      expect(config.log_level).toBe("debug");
      expect(config.state).toMatchObject({ max_processes: 65_536, host_root: "/host" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("errors name file:line:col and the key path", () => {
  test.each([
    [
      "a misspelt top-level key",
      "prioirty: debug\n",
      "lanner.yaml:1:1: unknown key 'prioirty'; did you mean 'priority'?",
    ],
    [
      "a misspelt nested key",
      "file_output:\n  enabled: true\n  filenme: /tmp/a\n",
      "lanner.yaml:3:3: unknown key 'file_output.filenme'; did you mean 'file_output.filename'?",
    ],
    [
      "a misspelt key three levels down",
      "engine:\n  modern_ebpf:\n    buf_size_prest: 2\n",
      "lanner.yaml:3:5: unknown key 'engine.modern_ebpf.buf_size_prest'; did you mean 'engine.modern_ebpf.buf_size_preset'?",
    ],
    [
      "an unknown key with nothing near it",
      "completely_unrelated: 1\n",
      "lanner.yaml:1:1: unknown key 'completely_unrelated'",
    ],
    [
      "a key in flow style",
      "file_output: {enabled: true, filenmae: x}\n",
      "lanner.yaml:1:30: unknown key 'file_output.filenmae'; did you mean 'file_output.filename'?",
    ],
  ])("%s", (_, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });

  test.each([
    ["a wrong type", "json_output: 5\n", "lanner.yaml:1:1: key 'json_output': ", "expected boolean"],
    [
      "a string for a boolean",
      "json_output: 'true'\n",
      "lanner.yaml:1:1: key 'json_output': ",
      "expected boolean",
    ],
    [
      "a scalar for a mapping",
      "outputs_queue: 5\n",
      "lanner.yaml:1:1: key 'outputs_queue': ",
      "expected object",
    ],
    [
      "a fraction for an integer",
      "state:\n  max_processes: 1.5\n",
      "lanner.yaml:2:3: key 'state.max_processes': ",
      "int",
    ],
    [
      "above the maximum",
      "engine:\n  modern_ebpf:\n    buf_size_preset: 11\n",
      "lanner.yaml:3:5: key 'engine.modern_ebpf.buf_size_preset': ",
      "<=10",
    ],
    [
      "a negative number of CPUs per ring",
      "engine:\n  modern_ebpf:\n    cpus_for_each_buffer: -1\n",
      "lanner.yaml:3:5: key 'engine.modern_ebpf.cpus_for_each_buffer': ",
      ">=0",
    ],
    [
      "a fraction of CPUs per ring",
      "engine:\n  modern_ebpf:\n    cpus_for_each_buffer: 1.5\n",
      "lanner.yaml:3:5: key 'engine.modern_ebpf.cpus_for_each_buffer': ",
      "int",
    ],
    [
      "a word for the CPUs per ring",
      "engine:\n  modern_ebpf:\n    cpus_for_each_buffer: all\n",
      "lanner.yaml:3:5: key 'engine.modern_ebpf.cpus_for_each_buffer': ",
      "number",
    ],
    [
      "below the minimum",
      "state:\n  max_processes: 15\n",
      "lanner.yaml:2:3: key 'state.max_processes': ",
      ">=16",
    ],
    [
      "an out-of-range capacity",
      "outputs_queue:\n  capacity: 10000001\n",
      "lanner.yaml:2:3: key 'outputs_queue.capacity': ",
      "<=10000000",
    ],
    ["a bad enum", "rule_matching: any\n", "lanner.yaml:1:1: key 'rule_matching': ", '"first"|"all"'],
    ["a bad priority", "priority: verbose\n", "lanner.yaml:1:1: key 'priority': ", '"warning"'],
    ["a bad log level", "log_level: verbose\n", "lanner.yaml:1:1: key 'log_level': ", '"debug"'],
    ["a bad engine kind", "engine:\n  kind: kmod\n", "lanner.yaml:2:3: key 'engine.kind': ", '"modern_ebpf"'],
    ["an empty list item", "rules_files: [a, '']\n", "lanner.yaml:1:18: key 'rules_files.1': ", ">=1"],
    [
      "a bad selection step",
      "rules:\n  - enable: {rule: x}\n  - frobnicate: {rule: z}\n",
      "lanner.yaml:3:5: key 'rules.1': ",
      "each step is 'enable: {rule: NAME}' or 'disable: {tag: TAG}'",
    ],
  ])("%s", (_, text, prefix, detail) => {
    const found = problems(text);
    expect(found.length).toBe(1);
    expect(found[0].startsWith(prefix)).toBe(true);
    expect(found[0]).toContain(detail);
  });

  test.each([["-1", "outputs_queue:\n  capacity: -1\n", "lanner.yaml:2:3"]])(
    "outputs_queue.capacity: %s is refused with its explanation",
    (_, text, where) => {
      expect(problems(text)).toEqual([
        `${where}: key 'outputs_queue.capacity': must be at least 0 (0, Falco's unbounded, is read as Lanner's bounded default)`,
      ]);
    },
  );

  test("every problem is reported, not only the first", () => {
    const found = problems("prioirty: debug\njson_output: 3\nstate:\n  max_processes: 1\n");
    const text = found.join("\n");
    expect(text).toContain("lanner.yaml:1:1: unknown key 'prioirty'; did you mean 'priority'?");
    expect(text).toContain("lanner.yaml:2:1: key 'json_output': ");
    expect(text).toContain("lanner.yaml:4:3: key 'state.max_processes': ");
  });

  test.each([
    ["an unclosed flow sequence", "a:\n  b: [\n", "lanner.yaml:3:1: invalid YAML: "],
    ["bad indentation", "a: b: c\n", "lanner.yaml:1:5: invalid YAML: bad indentation of a mapping entry"],
    [
      "a duplicated key",
      "json_output: true\njson_output: false\n",
      "lanner.yaml:2:1: invalid YAML: duplicated mapping key",
    ],
    ["a tab for indentation", "file_output:\n\tenabled: true\n", "lanner.yaml:2:"],
  ])("a YAML syntax error is placed: %s", (_, text, prefix) => {
    const found = problems(text);
    expect(found.length).toBe(1);
    expect(found[0].startsWith(prefix)).toBe(true);
  });

  test.each([
    ["two documents", "a: 1\n---\nb: 2\n", "lanner.yaml:3:1"],
    ["three documents", "x: 1\n---\ny: 2\n---\nz: 3\n", "lanner.yaml:3:1"],
  ])("%s are refused at the start of the second", (_, text, where) => {
    expect(problems(text)).toEqual([
      `${where}: a configuration file holds one YAML document; a second one starts here`,
    ]);
  });

  test.each([
    ["a sequence", "- a\n- b\n", "lanner.yaml:1:1"],
    ["a scalar", "5\n", "lanner.yaml:1:1"],
    ["a string after a comment", "# config\nhello\n", "lanner.yaml:2:1"],
  ])("a root that is %s is refused", (_, text, where) => {
    expect(problems(text)).toEqual([`${where}: the configuration must be a mapping of keys`]);
  });
});

describe("${ENV} expansion", () => {
  test("a variable is replaced by its value, inside a longer string and in list items", () => {
    const config = load(
      "file_output:\n  filename: ${DIR}/alerts-${NODE}.jsonl\nrules_files:\n  - ${DIR}/rules.yaml\n",
      [],
      { DIR: "/var/log/lanner", NODE: "node-7" },
    );
    expect(config.file_output.filename).toBe("/var/log/lanner/alerts-node-7.jsonl");
    expect(config.rules_files).toEqual(["/var/log/lanner/rules.yaml"]);
  });

  test("a quoted scalar is expanded too", () => {
    expect(load("state:\n  host_root: '${ROOT}'\n", [], { ROOT: "/host" }).state.host_root).toBe("/host");
  });

  test("the value comes from the env argument, not from the process", () => {
    process.env.LANNER_TEST_ONLY_IN_PROCESS = "/from-process";
    try {
      expect(problems("state:\n  host_root: ${LANNER_TEST_ONLY_IN_PROCESS}\n", [], {})[0]).toContain(
        "LANNER_TEST_ONLY_IN_PROCESS is not set",
      );
      expect(
        load("state:\n  host_root: ${LANNER_TEST_ONLY_IN_PROCESS}\n", [], process.env).state.host_root,
      ).toBe("/from-process");
    } finally {
      delete process.env.LANNER_TEST_ONLY_IN_PROCESS;
    }
  });

  test.each([
    ["$VAR without braces", "$ROOT/x", "$ROOT/x"],
    ["a name starting with a digit", "${1ROOT}", "${1ROOT}"],
    ["an unclosed brace", "${ROOT", "${ROOT"],
  ])("%s is left as written", (_, written, expected) => {
    const text = `state:\n  host_root: "${written}"\n`;
    expect(load(text, [], { ROOT: "/r", "1ROOT": "/r1" }).state.host_root).toBe(expected);
  });

  test("a missing variable names the file, line, column, key and variable", () => {
    expect(problems("file_output:\n  filename: ${NOPE}/x\n")).toEqual([
      "lanner.yaml:2:13: key 'file_output.filename' uses ${NOPE}, but the environment variable NOPE is not set",
    ]);
  });

  test("every missing variable is reported, in list items with their index", () => {
    expect(problems("rules_files:\n  - ${A}\n  - ${B}/${C}\n", [], { B: "b" })).toEqual([
      "lanner.yaml:2:5: key 'rules_files.0' uses ${A}, but the environment variable A is not set",
      "lanner.yaml:3:5: key 'rules_files.1' uses ${C}, but the environment variable C is not set",
    ]);
  });

  test("a variable set to the empty string is expanded, then validated", () => {
    expect(problems("file_output:\n  filename: ${EMPTY}\n", [], { EMPTY: "" })).toEqual([
      expect.stringContaining("lanner.yaml:2:3: key 'file_output.filename': "),
    ]);
  });
});

describe("-o key.path=value overrides", () => {
  test("values are read as YAML: booleans, integers, lists, quoted strings", () => {
    const config = load("", [
      "file_output.enabled=true",
      "outputs_queue.capacity=42",
      "rules_files=[/a.yaml, /b.yaml]",
      'file_output.filename="5"',
      "priority=ERROR",
      "rules=[{disable: {rule: '*'}}, {enable: {tag: network}}]",
    ]);
    expect(config.file_output).toMatchObject({ enabled: true, keep_alive: true, filename: "5" });
    expect(config.outputs_queue.capacity).toBe(42);
    expect(config.rules_files).toEqual(["/a.yaml", "/b.yaml"]);
    expect(config.priority).toBe("error");
    expect(config.rules).toEqual([{ disable: { rule: "*" } }, { enable: { tag: "network" } }]);
  });

  test("an override creates the mappings it needs", () => {
    const config = load("", ["engine.modern_ebpf.drain_interval_ms=25", "state.host_root=/host"]);
    expect(config.engine.modern_ebpf).toEqual({
      buf_size_preset: 4,
      cpus_for_each_buffer: 0,
      drain_interval_ms: 25,
    });
    expect(config.state).toMatchObject({ max_processes: 65_536, host_root: "/host" });
  });

  test("an override replaces the file's value and keeps its siblings", () => {
    const config = load("file_output:\n  enabled: true\n  filename: /from/file\n", [
      "file_output.filename=/from/o",
    ]);
    expect(config.file_output).toMatchObject({ enabled: true, keep_alive: true, filename: "/from/o" });
  });

  test("an override fixes a bad value in the file", () => {
    expect(load("json_output: 5\n", ["json_output=false"]).json_output).toBe(false);
  });

  test("a later override wins over an earlier one", () => {
    expect(load("", ["outputs_queue.capacity=5", "outputs_queue.capacity=7"]).outputs_queue.capacity).toBe(7);
  });

  test("a scalar in the way is replaced by a mapping", () => {
    expect(load("", ["file_output=5", "file_output.enabled=true"]).file_output.enabled).toBe(true);
  });

  test("only the first '=' separates key and value; spaces around the value are trimmed", () => {
    expect(load("", ["file_output.filename=a=b"]).file_output.filename).toBe("a=b");
    expect(load("", ["file_output.filename= /x y "]).file_output.filename).toBe("/x y");
  });

  test.each([
    ["novalue", "-o novalue: expected KEY.PATH=VALUE, e.g. -o file_output.enabled=false"],
    ["=5", "-o =5: expected KEY.PATH=VALUE, e.g. -o file_output.enabled=false"],
    ["a..b=1", "-o a..b=1: the key path has an empty component"],
    [".a=1", "-o .a=1: the key path has an empty component"],
    ["a.=1", "-o a.=1: the key path has an empty component"],
  ])("the invalid form %p is refused", (override, expected) => {
    expect(problems("", [override])).toEqual([expected]);
  });

  test("a value that is not valid YAML is refused, naming the override", () => {
    const found = problems("", ["rules_files=[a"]);
    expect(found.length).toBe(1);
    expect(found[0].startsWith("-o rules_files=[a: the value is not valid YAML: ")).toBe(true);
  });

  test.each([
    [
      "outputs_queue.capacity=-1",
      "-o outputs_queue.capacity=-1: key 'outputs_queue.capacity': must be at least 0 (0, Falco's unbounded, is read as Lanner's bounded default)",
    ],
    [
      "outputs_queue.capcity=3",
      "-o outputs_queue.capcity=3: unknown key 'outputs_queue.capcity'; did you mean 'outputs_queue.capacity'?",
    ],
    ["prioirty=debug", "-o prioirty=debug: unknown key 'prioirty'; did you mean 'priority'?"],
  ])("a schema error in %p names the override", (override, expected) => {
    expect(problems("", [override])).toEqual([expected]);
  });

  test.each([
    [
      "file_output.enabled=yes",
      "-o file_output.enabled=yes: key 'file_output.enabled': ",
      "expected boolean",
    ],
    ["state.max_processes=15", "-o state.max_processes=15: key 'state.max_processes': ", ">=16"],
    ["file_output.filename=", "-o file_output.filename=: key 'file_output.filename': ", "null"],
    [
      "file_output.filename=123",
      "-o file_output.filename=123: key 'file_output.filename': ",
      "expected string",
    ],
  ])("a bad value in %p names the override", (override, prefix, detail) => {
    const found = problems("", [override]);
    expect(found.length).toBe(1);
    expect(found[0].startsWith(prefix)).toBe(true);
    expect(found[0]).toContain(detail);
  });

  test("syntax problems in the file are reported before the overrides are looked at", () => {
    expect(problems("a: [\n", ["novalue"])).toEqual([
      expect.stringMatching(/^lanner\.yaml:2:1: invalid YAML: /),
    ]);
  });
});

describe("review fixes", () => {
  test("an unquoted ${VAR} is typed after expansion; a quoted one stays text", () => {
    const c = load(
      "outputs_queue:\n  capacity: ${CAP}\njson_output: ${B}\nfile_output:\n  filename: '${CAP}'\n",
      [],
      { CAP: "5", B: "false" },
    );
    expect(c.outputs_queue.capacity).toBe(5);
    expect(c.json_output).toBe(false);
    expect(c.file_output.filename).toBe("5");
  });

  test("an unknown key that -o creates is blamed on the -o", () => {
    expect(problems("", ["newroot.x=1"])).toEqual(["-o newroot.x=1: unknown key 'newroot'"]);
  });

  test("inside a rules: step the nearest key is suggested", () => {
    expect(problems("rules:\n  - enable:\n      rul: x\n")).toEqual([
      "lanner.yaml:3:7: unknown key 'rules.0.enable.rul'; did you mean 'rules.0.enable.rule'?",
    ]);
  });
});
