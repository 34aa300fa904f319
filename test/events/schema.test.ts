import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KIND_BY_ID, KIND_ID, NATIVE_SCHEMA, PARAM_COUNT } from "../../agent/events/schema.ts";

function parseDefines(header: string): Map<string, number> {
  const defines = new Map<string, number>();
  for (const line of header.split("\n")) {
    const match = /^#define\s+(LANNER_\w+)\s+(\S+)\s*$/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isInteger(value))
      throw new Error(`schema.h: ${match[1]} is not a plain integer: ${match[2]}`);
    defines.set(match[1], value);
  }
  return defines;
}

test("native/schema.h and agent/events/schema.ts agree, define for define", () => {
  const header = readFileSync(join(import.meta.dir, "../../native/schema.h"), "utf8");
  const native = parseDefines(header);
  expect(native.size).toBeGreaterThan(20);
  expect(Object.fromEntries(native)).toEqual({ ...NATIVE_SCHEMA });
});

test("kind ids are unique and map both ways", () => {
  expect(KIND_BY_ID.size).toBe(Object.keys(KIND_ID).length);
  for (const [id, kind] of KIND_BY_ID) expect(KIND_ID[kind]).toBe(id);
  for (const kind of KIND_BY_ID.values()) {
    // A record must fit a MessagePack fixarray: header + params + cut <= 15.
    expect(NATIVE_SCHEMA.LANNER_HEADER_FIELDS + PARAM_COUNT[kind] + 1).toBeLessThanOrEqual(15);
  }
});
