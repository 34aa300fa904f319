// The field table (agent/rules/fields/fields.tsv) as data: the file itself parses row by row, every
// value comes from the catalog's vocabularies, names are unique, and a malformed table is refused
// with the file, line and what was expected.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  FALCO_FIELD_FLAGS,
  FALCO_PARAM_TYPES,
  FIELD_ARG_FORMS,
  FIELD_CATALOG,
  FIELD_PROVIDERS,
  FIELD_TABLE_COLUMNS,
  parseFieldTable,
} from "../../../agent/rules/fields/catalog.ts";

const TABLE_PATH = join(import.meta.dir, "../../../agent/rules/fields/fields.tsv");
const TABLE_TEXT = readFileSync(TABLE_PATH, "utf8");
const HEADER = FIELD_TABLE_COLUMNS.join("\t");
const GOOD_ROW = "proc.name\tCHARBUF\tnone\t-\t-\tlibsinsp\tName\tThe process name.";

describe("fields.tsv", () => {
  test("every non-comment line is the header or an 8-column row, and the catalog is exactly its rows", () => {
    const rows = TABLE_TEXT.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(rows[0]).toBe(HEADER);
    const bad = rows.filter((r) => r.split("\t").length !== FIELD_TABLE_COLUMNS.length);
    expect(bad).toEqual([]);
    expect(FIELD_CATALOG.map((f) => f.name)).toEqual(rows.slice(1).map((r) => r.split("\t")[0]!));
  });

  test("names are unique and every value is from the vocabulary", () => {
    const names = FIELD_CATALOG.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(319);
    for (const f of FIELD_CATALOG) {
      expect(FALCO_PARAM_TYPES).toContain(f.type);
      expect(FIELD_ARG_FORMS).toContain(f.arg);
      expect(FIELD_PROVIDERS).toContain(f.provider);
      for (const flag of f.flags) expect(FALCO_FIELD_FLAGS).toContain(flag);
    }
  });

  test("a row reads into the catalog's shape, facts as libsinsp has them", () => {
    const [f] = parseFieldTable(
      `# comment\n${HEADER}\nproc.aname\tCHARBUF\tindex_optional\t-\tEPF_NO_RHS,EPF_DEPRECATED\tlibsinsp\tParent Name\tAn ancestor's name.\r\n`,
      "t.tsv",
    );
    expect(f).toEqual({
      name: "proc.aname",
      type: "CHARBUF",
      arg: "index_optional",
      isList: false,
      flags: ["EPF_NO_RHS", "EPF_DEPRECATED"],
      provider: "libsinsp",
      display: "Parent Name",
      desc: "An ancestor's name.",
    });
    const listed = FIELD_CATALOG.find((f) => f.name === "proc.cmdnargs");
    expect(listed).toMatchObject({ type: "UINT64", arg: "none", isList: false });
    expect(FIELD_CATALOG.find((f) => f.name === "fd.types")).toMatchObject({
      isList: true,
      arg: "index_optional",
    });
    expect(FIELD_CATALOG.find((f) => f.name === "container.label")).toMatchObject({
      provider: "container",
      arg: "key_required",
    });
  });
});

describe("parseFieldTable refuses a malformed table, naming the line", () => {
  const cases: [string, string, RegExp][] = [
    [
      "no header",
      "# only a comment\n",
      /^t\.tsv: no header row 'name type arg list flags provider display desc'$/,
    ],
    [
      "wrong header",
      "name\ttype\targ\tlist\tflags\tprovider\tdesc\tdisplay\n",
      /^t\.tsv:1: expected the header row/,
    ],
    [
      "too few columns",
      `${HEADER}\nproc.name\tCHARBUF\n`,
      /^t\.tsv:2: expected 8 TAB-separated columns, found 2$/,
    ],
    [
      "bad name",
      `${HEADER}\n${GOOD_ROW.replace("proc.name", "Proc")}\n`,
      /^t\.tsv:2: field 'Proc': name 'Proc' is not a dotted/,
    ],
    [
      "duplicate name",
      `${HEADER}\n${GOOD_ROW}\n#\n${GOOD_ROW}\n`,
      /^t\.tsv:4: field 'proc\.name' is already defined on line 2$/,
    ],
    [
      "unknown type",
      `${HEADER}\n${GOOD_ROW.replace("CHARBUF", "STRING")}\n`,
      /^t\.tsv:2: field 'proc\.name': type 'STRING' is not one of CHARBUF/,
    ],
    [
      "unknown arg form",
      `${HEADER}\n${GOOD_ROW.replace("none", "index")}\n`,
      /^t\.tsv:2: field 'proc\.name': arg 'index' is not one of none/,
    ],
    [
      "bad list mark",
      `${HEADER}\n${GOOD_ROW.replace("none\t-", "none\tyes")}\n`,
      /: list 'yes' is not 'list' or '-'$/,
    ],
    [
      "unknown flag",
      `${HEADER}\n${GOOD_ROW.replace("-\t-", "-\tEPF_NOPE")}\n`,
      /: flags 'EPF_NOPE' is not '-' or distinct flags/,
    ],
    [
      "repeated flag",
      `${HEADER}\n${GOOD_ROW.replace("-\t-", "-\tEPF_NO_RHS,EPF_NO_RHS")}\n`,
      /: flags 'EPF_NO_RHS,EPF_NO_RHS' is not '-' or distinct/,
    ],
    [
      "unknown provider",
      `${HEADER}\n${GOOD_ROW.replace("libsinsp", "k8s")}\n`,
      /: provider 'k8s' is not one of libsinsp, container, k8smeta$/,
    ],
    [
      "empty display",
      `${HEADER}\n${GOOD_ROW.replace("Name", " ")}\n`,
      /: display ' ' is not a display name$/,
    ],
    [
      "empty desc",
      `${HEADER}\n${GOOD_ROW.replace("The process name.", "")}\n`,
      /: desc '' is not a description$/,
    ],
  ];
  for (const [what, text, message] of cases) {
    test(what, () => {
      expect(() => parseFieldTable(text, "t.tsv")).toThrow(message);
    });
  }
});
