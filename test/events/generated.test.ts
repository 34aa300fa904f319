// The files generated from the event table are the ones the table gives today.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EVENT_TABLE, type KindSpec } from "../../agent/events/table.ts";
import { generatedFiles, validate } from "../../scripts/gen-events.ts";

test("generated files are up to date (run bun scripts/gen-events.ts)", () => {
  const files = generatedFiles();
  expect(files.map((f) => f.path).sort()).toEqual([
    "agent/events/kinds.gen.ts",
    "docs/EVENTS.md",
    "native/events.gen.h",
  ]);
  for (const f of files) {
    const current = readFileSync(join(import.meta.dir, "../..", f.path), "utf8");
    expect({ path: f.path, upToDate: current === f.content }).toEqual({ path: f.path, upToDate: true });
  }
});

const row = (over: Partial<KindSpec>): KindSpec[] => [...EVENT_TABLE, { ...EVENT_TABLE[8], ...over }];

test("the table check refuses duplicate ids, names and syscall numbers", () => {
  expect(() => validate(EVENT_TABLE)).not.toThrow();
  expect(() => validate(row({ name: "zz" }))).toThrow(/duplicate id 9/);
  expect(() => validate(row({ id: 120 }))).toThrow(/close: duplicate name/);
  expect(() => validate(row({ id: 120, name: "zz" }))).toThrow(/syscall 3 already belongs to close/);
  expect(() => validate(row({ id: 500, name: "zz", nr: { x86_64: null, arm64: null } }))).toThrow(
    /bad or duplicate id/,
  );
});

test("the table check refuses params the generic encoder cannot write", () => {
  const base = { id: 120, name: "zz", nr: { x86_64: null, arm64: null } };
  const execParams = EVENT_TABLE[0].params;
  expect(() => validate(row({ ...base, params: execParams }))).toThrow(/zz: (16 params|param)/);
  const tuple = EVENT_TABLE.find((k) => k.name === "connect")!.params;
  expect(() => validate(row({ ...base, encoder: "generic", params: tuple }))).toThrow(/socket readers need/);
  const pid = { ...EVENT_TABLE[8].params[0], name: "pid" };
  expect(() => validate(row({ ...base, params: [pid] }))).toThrow(/pid repeats a field name/);
});
