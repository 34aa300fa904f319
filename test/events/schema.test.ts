import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KIND_BY_ID, KIND_ID, NATIVE_SCHEMA, PARAM_COUNT } from "../../agent/events/schema.ts";
import { EVENT_TABLE, GENERIC_MAX_PARAMS, HEADER_FIELDS } from "../../agent/events/table.ts";

function parseDefines(header: string, file: string): Map<string, number> {
  const defines = new Map<string, number>();
  for (const line of header.split("\n")) {
    const match = /^#define\s+(LANNER_\w+)\s+(\S+)\s*$/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isInteger(value)) throw new Error(`${file}: ${match[1]} is not a plain integer: ${match[2]}`);
    defines.set(match[1], value);
  }
  return defines;
}

const nativeFile = (name: string) => readFileSync(join(import.meta.dir, "../../native", name), "utf8");

test("native/schema.h and agent/events/schema.ts agree, define for define", () => {
  const native = parseDefines(nativeFile("schema.h"), "schema.h");
  expect(native.size).toBeGreaterThan(15);
  expect(Object.fromEntries(native)).toEqual({ ...NATIVE_SCHEMA });
});

test("native/events.gen.h carries every kind id and parameter count of the table", () => {
  const gen = parseDefines(nativeFile("events.gen.h"), "events.gen.h");
  expect(gen.get("LANNER_HEADER_FIELDS")).toBe(HEADER_FIELDS);
  expect(gen.get("LANNER_GENERIC_MAX_PARAMS")).toBe(GENERIC_MAX_PARAMS);
  for (const k of EVENT_TABLE) {
    const name = `LANNER_KIND_${k.name.toUpperCase()}`;
    expect(gen.get(name)).toBe(k.id);
    expect(gen.get(`${name}_PARAMS`)).toBe(k.params.length);
  }
});

test("kind ids are unique and map both ways", () => {
  expect(KIND_BY_ID.size).toBe(Object.keys(KIND_ID).length);
  expect(KIND_BY_ID.size).toBe(EVENT_TABLE.length);
  for (const [id, kind] of KIND_BY_ID) {
    expect(KIND_ID[kind]).toBe(id);
    // The cut bitmask is a uint32 with one bit per parameter.
    expect(PARAM_COUNT[kind]).toBeLessThanOrEqual(31);
  }
});
