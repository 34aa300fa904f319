// YAML parsed into a tree that remembers where every node came from, so rule-file and config
// errors can name the file, line and column. js-yaml builds plain values; its parse listener tells
// us where each node opens and closes, and we mirror that into our own nodes.
//
// Scalars are kept as the text YAML gives (the failsafe schema), as yaml-cpp does for Falco:
// `items: [0755, 1.0]` stays "0755" and "1.0". Callers that want YAML's core types (config files)
// ask for them explicitly with coreScalarValue().
//
// Bounds (docs/RULES.md, "Limits"): a file larger than MAX_YAML_BYTES is refused before parsing;
// js-yaml refuses nesting deeper than MAX_YAML_DEPTH; an alias to a collection is copied into the
// tree (so every node keeps a position), and those copies are capped in number (MAX_ALIAS_USES) and
// in nodes (MAX_ALIAS_NODES), so nine levels of aliases doubling each other ("billion laughs")
// stop with an error at the alias instead of filling memory.

import { FAILSAFE_SCHEMA, type LoadOptions, loadAll, type State, YAMLException } from "js-yaml";
import { type SourceFile, sourceFile } from "./source.ts";

interface NodeBase {
  readonly file: SourceFile;
  /** Offset of the node's first character (after leading blanks) and just past its end. */
  readonly start: number;
  readonly end: number;
}

export interface YamlScalar extends NodeBase {
  readonly kind: "scalar";
  /** The scalar's text; "" for an empty (null) value. */
  readonly value: string;
  /** How it was written: plain, quoted, block (| or >), or absent (an empty value). */
  readonly style: "plain" | "quoted" | "block" | "empty";
}

export interface YamlSequence extends NodeBase {
  readonly kind: "sequence";
  readonly items: readonly YamlNode[];
}

export interface YamlMapping extends NodeBase {
  readonly kind: "mapping";
  readonly entries: readonly { key: YamlScalar; value: YamlNode }[];
}

export type YamlNode = YamlScalar | YamlSequence | YamlMapping;

export class YamlSyntaxError extends Error {
  readonly file: SourceFile;
  readonly offset: number;
  constructor(message: string, file: SourceFile, offset: number) {
    super(message);
    this.name = "YamlSyntaxError";
    this.file = file;
    this.offset = offset;
  }
}

/** Largest YAML file read (rule or config file). */
export const MAX_YAML_BYTES = 16 * 1024 * 1024;
/** Deepest nesting of sequences and mappings. */
export const MAX_YAML_DEPTH = 100;
/** Alias uses expanded per file. */
export const MAX_ALIAS_USES = 10_000;
/** Nodes created by expanding aliases, per file. */
export const MAX_ALIAS_NODES = 100_000;

/** What alias expansion has used so far in one file. */
interface AliasBudget {
  uses: number;
  nodes: number;
}

interface Frame {
  start: number;
  end: number;
  kind: string | null;
  value: unknown;
  children: Frame[];
}

/** Parses every document of a YAML file. Throws YamlSyntaxError with the offset of the problem. */
export function parseYamlDocuments(file: SourceFile): YamlNode[] {
  if (file.text.length > MAX_YAML_BYTES) {
    throw new YamlSyntaxError(
      `the file is too large (${file.text.length} characters; the limit is ${MAX_YAML_BYTES})`,
      file,
      0,
    );
  }
  const root: Frame = { start: 0, end: 0, kind: null, value: undefined, children: [] };
  const stack: Frame[] = [root];
  let docs: unknown[];
  try {
    // maxDepth is js-yaml 4.3's own bound (its typings predate it).
    const options: LoadOptions & { maxDepth: number } = {
      filename: file.name,
      schema: FAILSAFE_SCHEMA,
      maxDepth: MAX_YAML_DEPTH,
      listener(event: "open" | "close", state: State) {
        if (event === "open") {
          stack.push({
            start: state.position,
            end: state.position,
            kind: null,
            value: undefined,
            children: [],
          });
          return;
        }
        const frame = stack.pop();
        if (frame === undefined) return;
        frame.end = state.position;
        frame.kind = state.kind;
        frame.value = state.result;
        stack[stack.length - 1].children.push(frame);
      },
    };
    docs = loadAll(file.text, null, options);
  } catch (err) {
    if (err instanceof YAMLException) {
      const offset = err.mark?.position ?? 0;
      throw new YamlSyntaxError(err.reason ?? err.message, file, offset);
    }
    // A structure js-yaml's own bounds missed (a string too long, a stack too deep) is still the
    // file's problem, not the agent's.
    if (err instanceof RangeError)
      throw new YamlSyntaxError(`the file cannot be read: ${err.message}`, file, 0);
    throw err;
  }
  const nodes: YamlNode[] = [];
  const budget: AliasBudget = { uses: 0, nodes: 0 };
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    const frame = root.children.find((f) => f.value === doc);
    nodes.push(frame === undefined ? fromAlias(doc, file, 0, budget) : toNode(frame, file, budget));
  }
  return nodes;
}

/** Parses a YAML file given as a name and its text. */
export function parseYamlText(name: string, text: string): { file: SourceFile; documents: YamlNode[] } {
  const file = sourceFile(name, text);
  return { file, documents: parseYamlDocuments(file) };
}

function toNode(frame: Frame, file: SourceFile, budget: AliasBudget): YamlNode {
  // js-yaml opens some nodes twice at the same place (an entry of a block sequence); the outer
  // frame then wraps exactly one child with the same span and the same value: keep the inner one.
  if (frame.children.length === 1) {
    const only = frame.children[0];
    if (only.start === frame.start && only.end === frame.end && only.value === frame.value)
      return toNode(only, file, budget);
  }
  if (frame.value === null || frame.value === undefined) {
    // An empty value: point where it would be written (right after its key), not at the next line.
    return { kind: "scalar", file, start: frame.start, end: frame.start, value: "", style: "empty" };
  }
  const start = skipBlanks(file.text, frame.start, frame.end);
  if (frame.kind === "sequence" && Array.isArray(frame.value)) {
    return {
      kind: "sequence",
      file,
      start,
      end: frame.end,
      items: frame.children.map((c) => toNode(c, file, budget)),
    };
  }
  if (frame.kind === "mapping" && isPlainObject(frame.value)) {
    const entries: { key: YamlScalar; value: YamlNode }[] = [];
    for (let i = 0; i + 1 < frame.children.length; i += 2) {
      const key = toNode(frame.children[i], file, budget);
      const value = toNode(frame.children[i + 1], file, budget);
      entries.push({
        key: key.kind === "scalar" ? key : scalarOf(String(key.start), file, key.start),
        value,
      });
    }
    return { kind: "mapping", file, start, end: frame.end, entries };
  }
  if (typeof frame.value === "string") {
    return {
      kind: "scalar",
      file,
      start,
      end: frame.end,
      value: frame.value,
      style: styleAt(file.text, start),
    };
  }
  // An alias to a collection: rebuild it from the value, positioned at the alias.
  return fromAlias(frame.value, file, start, budget);
}

function fromAlias(value: unknown, file: SourceFile, at: number, budget: AliasBudget): YamlNode {
  if (++budget.uses > MAX_ALIAS_USES) {
    throw new YamlSyntaxError(`too many aliases: more than ${MAX_ALIAS_USES} in one file`, file, at);
  }
  return fromPlainValue(value, file, at, budget, 0);
}

function fromPlainValue(
  value: unknown,
  file: SourceFile,
  at: number,
  budget: AliasBudget,
  depth: number,
): YamlNode {
  if (++budget.nodes > MAX_ALIAS_NODES) {
    throw new YamlSyntaxError(
      `aliases expand to more than ${MAX_ALIAS_NODES} nodes in one file; write the values out or use fewer aliases`,
      file,
      at,
    );
  }
  // An anchor used inside its own collection makes a cycle; js-yaml's depth bound does not see it.
  if (depth > MAX_YAML_DEPTH) {
    throw new YamlSyntaxError(
      `an alias nests deeper than ${MAX_YAML_DEPTH} levels (does it refer to a collection that contains it?)`,
      file,
      at,
    );
  }
  if (Array.isArray(value)) {
    return {
      kind: "sequence",
      file,
      start: at,
      end: at,
      items: value.map((v) => fromPlainValue(v, file, at, budget, depth + 1)),
    };
  }
  if (isPlainObject(value)) {
    return {
      kind: "mapping",
      file,
      start: at,
      end: at,
      entries: Object.entries(value).map(([k, v]) => ({
        key: scalarOf(k, file, at),
        value: fromPlainValue(v, file, at, budget, depth + 1),
      })),
    };
  }
  if (value === null || value === undefined)
    return { kind: "scalar", file, start: at, end: at, value: "", style: "empty" };
  return scalarOf(String(value), file, at);
}

function scalarOf(value: string, file: SourceFile, at: number): YamlScalar {
  return { kind: "scalar", file, start: at, end: at, value, style: "plain" };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function skipBlanks(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  return i;
}

function styleAt(text: string, start: number): YamlScalar["style"] {
  // Skip an anchor or tag written before the value.
  let i = start;
  while (text[i] === "&" || text[i] === "!") {
    while (i < text.length && text[i] !== " " && text[i] !== "\n") i++;
    while (text[i] === " ") i++;
  }
  const c = text[i];
  if (c === '"' || c === "'") return "quoted";
  if (c === "|" || c === ">") return "block";
  return "plain";
}

/** True for a value YAML would read as null: empty, or a plain ~ / null. */
export function isNullScalar(node: YamlNode): boolean {
  return (
    node.kind === "scalar" &&
    (node.style === "empty" || (node.style === "plain" && /^(~|null|Null|NULL)$/.test(node.value)))
  );
}

/** A plain scalar read with YAML's core schema: booleans, integers, floats and null; quoted text stays text. */
export function coreScalarValue(node: YamlScalar): string | number | boolean | null {
  if (node.style === "empty") return null;
  if (node.style !== "plain") return node.value;
  const v = node.value;
  if (/^(~|null|Null|NULL)$/.test(v)) return null;
  if (/^(true|True|TRUE)$/.test(v)) return true;
  if (/^(false|False|FALSE)$/.test(v)) return false;
  if (/^[-+]?[0-9]+$/.test(v)) return Number.parseInt(v, 10);
  if (/^0x[0-9a-fA-F]+$/.test(v)) return Number.parseInt(v.slice(2), 16);
  if (/^0o[0-7]+$/.test(v)) return Number.parseInt(v.slice(2), 8);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(v)) return Number.parseFloat(v);
  return v;
}

/** The value node under `key` in a mapping, or undefined. */
export function mappingGet(node: YamlMapping, key: string): YamlNode | undefined {
  for (const entry of node.entries) if (entry.key.value === key) return entry.value;
  return undefined;
}

/**
 * The file offset of character `index` of a scalar's value. Folding, quoting and escapes make the
 * value differ from the source text, so we walk both and match the non-blank characters in order.
 */
export function scalarOffset(node: YamlScalar, index: number): number {
  const text = node.file.text;
  const value = node.value;
  let src = node.start;
  if (node.style === "block") {
    // Skip the indicator line (| or > and its modifiers).
    while (src < node.end && text[src] !== "\n") src++;
  } else if (node.style === "quoted") {
    src++;
  }
  for (let i = 0; i < value.length && i <= index; i++) {
    const c = value[i];
    if (c === " " || c === "\n" || c === "\t" || c === "\r") continue;
    while (src < node.end && text[src] !== c) src++;
    if (i === index) return src < node.end ? src : node.start;
    src++;
  }
  // The target was a blank: answer the next non-blank source character.
  while (src < node.end && /\s/.test(text[src])) src++;
  return Math.min(src, Math.max(node.start, node.end - 1));
}
