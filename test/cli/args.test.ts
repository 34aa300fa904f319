// The command-line parser, in process: flags with values (separate or =), repeats, switches,
// positional arguments, `--`, and every usage error.

import { describe, expect, test } from "bun:test";
import { type FlagSpec, many, parseArgs, single, UsageError } from "../../agent/cli/args.ts";

const SPECS: FlagSpec[] = [
  { name: "config", short: "c", value: true },
  { name: "rules", short: "r", value: true, repeat: true },
  { name: "json" },
];

describe("parseArgs", () => {
  test("values, repeats, switches and positionals in any order", () => {
    const a = parseArgs(
      ["x.yaml", "-c", "cfg.yaml", "--rules=a.yaml", "-r", "b.yaml", "--json", "y.yaml"],
      SPECS,
    );
    expect(single(a, "config")).toBe("cfg.yaml");
    expect(many(a, "rules")).toEqual(["a.yaml", "b.yaml"]);
    expect(a.switches.has("json")).toBe(true);
    expect(a.positional).toEqual(["x.yaml", "y.yaml"]);
  });

  test("-- ends the options; a lone - is positional", () => {
    const a = parseArgs(["-", "--", "-c", "--json"], SPECS);
    expect(a.positional).toEqual(["-", "-c", "--json"]);
    expect(single(a, "config")).toBeUndefined();
    expect(many(a, "rules")).toEqual([]);
  });

  test("a value may itself start with a dash when given after the flag", () => {
    expect(single(parseArgs(["-c", "-weird.yaml"], SPECS), "config")).toBe("-weird.yaml");
  });

  test.each([
    [["--nope"], "unknown option '--nope'"],
    [["-x"], "unknown option '-x'"],
    [["-c"], "option '-c' needs a value"],
    [["--json=yes"], "option '--json' takes no value"],
    [["-c", "a", "--config", "b"], "option '--config' may be given only once"],
  ])("%p is a usage error", (argv, message) => {
    expect(() => parseArgs(argv, SPECS)).toThrow(UsageError);
    expect(() => parseArgs(argv, SPECS)).toThrow(message);
  });
});
