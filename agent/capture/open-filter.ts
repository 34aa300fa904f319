// The open prefilter as the probe runs it: a short list of entries, each a set of class bits the
// open must have and a path prefix; an open (open, openat, openat2) is recorded when one entry
// matches, or when it opened a directory (a later openat or fchdir may name files through it).
// `openFilterPasses` is the kernel's test (tail_open in native/lanner.bpf.c) written again in
// TypeScript, so tests can hold the derived filters against the rule engine; the two must change
// together. Which entries the rules need is derived in agent/rules/open-prefilter.ts.
import { OPEN_FILTER, PREFILTER_SWITCH } from "../events/index.ts";

/** One entry: every bit of `need` must be in the open's class, and the path must start with
 * `prefix` ("" = any path), unless the class has the unclean bit (the prefix cannot decide). */
export interface OpenFilterEntry {
  need: number;
  prefix: string;
}

/** The entries, or "all": no filter (every open recorded). An empty list drops every open that
 * is not of a directory. */
export type OpenFilter = readonly OpenFilterEntry[] | "all";

/** What the probe filters in the kernel besides the syscall selection. */
export interface KernelPrefilter {
  /** Successful closes of fds whose creation was not recorded are dropped. */
  close: boolean;
  /** Opens no entry matches are dropped. */
  open: OpenFilter;
}

export const NO_PREFILTER: KernelPrefilter = { close: false, open: "all" };

/** The class bits of an open: access mode, O_CREAT, result; the path's part is openPathClass. */
export function openClass(flags: number, res: number): number {
  const mode = flags & 3;
  let c = 0;
  if (mode === 0 || mode === 2) c |= OPEN_FILTER.read;
  if (mode === 1 || mode === 2) c |= OPEN_FILTER.write;
  if ((flags & 0o100) !== 0) c |= OPEN_FILTER.create;
  c |= res >= 0 ? OPEN_FILTER.success : OPEN_FILTER.failed;
  return c;
}

const encoder = new TextEncoder();

/** The unclean bit for a path as the caller passed it: the state normalizes paths (joinAndNormalize),
 * so a prefix test on the raw path is exact only for an absolute path without "//", "/." or "./"
 * that fits the kernel's window. */
export function openPathClass(path: string): number {
  const bytes = encoder.encode(path);
  // The kernel reads at most pathWindow bytes with the NUL: a path of pathWindow - 1 bytes fills
  // the window exactly and cannot be told from a longer, cut one.
  if (bytes.length === 0 || bytes.length >= OPEN_FILTER.pathWindow - 1 || bytes[0] !== 0x2f)
    return OPEN_FILTER.unclean;
  for (let i = 1; i < bytes.length; i++) {
    const prev = bytes[i - 1];
    const c = bytes[i];
    if ((prev === 0x2f && (c === 0x2f || c === 0x2e)) || (prev === 0x2e && c === 0x2f))
      return OPEN_FILTER.unclean;
  }
  return 0;
}

/** An open as the prefilter sees it at syscall exit. */
export interface OpenFacts {
  flags: number;
  res: number;
  /** The path as passed to the syscall. */
  path: string;
  /** The open succeeded and its fd is a directory (the kernel reads the inode's mode). */
  isDirectory: boolean;
}

/** The kernel's decision for one open: true = recorded. */
export function openFilterPasses(filter: OpenFilter, open: OpenFacts): boolean {
  if (filter === "all") return true;
  const cls = openClass(open.flags, open.res) | openPathClass(open.path);
  for (const e of filter) {
    if ((cls & e.need) !== e.need) continue;
    if ((cls & OPEN_FILTER.unclean) !== 0 || open.path.startsWith(e.prefix)) return true;
  }
  return open.res >= 0 && open.isDirectory;
}

/** The switch slot's value for a prefilter (the open filter read from map entry `buffer`). */
export function prefilterSwitch(p: KernelPrefilter, buffer: 0 | 1): number {
  let v = 0;
  if (p.close) v |= PREFILTER_SWITCH.close;
  if (p.open !== "all") v |= PREFILTER_SWITCH.open;
  if (buffer === 1) v |= PREFILTER_SWITCH.openBuffer;
  return v;
}

const ENTRY_BYTES = 8 + OPEN_FILTER.prefixBytes;
/** Bytes of one open_filter map value: count, pad, then the entries. */
export const OPEN_FILTER_VALUE_BYTES = 8 + OPEN_FILTER.entries * ENTRY_BYTES;

/** The map value the probe reads (struct open_filter in native/lanner.bpf.c, little-endian).
 * Throws RangeError for a filter over the bounds (boundOpenFilter makes one within them). */
export function encodeOpenFilter(filter: OpenFilter): Uint8Array {
  const out = new Uint8Array(OPEN_FILTER_VALUE_BYTES);
  if (filter === "all") return out;
  if (filter.length > OPEN_FILTER.entries)
    throw new RangeError(`open filter has ${filter.length} entries; at most ${OPEN_FILTER.entries}`);
  const view = new DataView(out.buffer);
  view.setUint32(0, filter.length, true);
  filter.forEach((e, i) => {
    const bytes = encoder.encode(e.prefix);
    if (bytes.length > OPEN_FILTER.prefixBytes || bytes.includes(0))
      throw new RangeError(
        `open filter prefix "${e.prefix}" is over ${OPEN_FILTER.prefixBytes} bytes or has a NUL`,
      );
    const at = 8 + i * ENTRY_BYTES;
    view.setUint32(at, e.need, true);
    view.setUint32(at + 4, bytes.length, true);
    out.set(bytes, at + 8);
  });
  return out;
}

/** The longest start of `s` within `bytes` UTF-8 bytes, cut at a character boundary (a shorter
 * prefix matches more paths: never fewer). */
function cutPrefix(s: string, bytes: number): string {
  const nul = s.indexOf("\0");
  let out = nul < 0 ? s : s.slice(0, nul);
  while (encoder.encode(out).length > bytes) out = out.slice(0, -1);
  if (out.length > 0 && /[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  return out;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/** `a` matches every open `b` matches. */
function covers(a: OpenFilterEntry, b: OpenFilterEntry): boolean {
  return (a.need & ~b.need) === 0 && ((b.need & OPEN_FILTER.unclean) !== 0 || b.prefix.startsWith(a.prefix));
}

/**
 * The entries within the probe's bounds, matching at least every open the given ones match:
 * prefixes cut to the byte bound, an entry another covers removed, then, while there are too
 * many, the two entries with the longest common prefix merged into one (the bits both need, that
 * common prefix). An entry needing nothing with any path is "all".
 */
export function boundOpenFilter(entries: readonly OpenFilterEntry[]): OpenFilter {
  let list = entries.map((e) => ({
    need: e.need,
    // An unclean open is decided by its bits alone: its prefix would never be read.
    prefix: (e.need & OPEN_FILTER.unclean) !== 0 ? "" : cutPrefix(e.prefix, OPEN_FILTER.prefixBytes),
  }));
  const prune = () => {
    const kept: OpenFilterEntry[] = [];
    list.forEach((e, i) => {
      const coveredBy = (o: OpenFilterEntry, j: number) =>
        j !== i && covers(o, e) && (!covers(e, o) || j < i);
      if (!list.some(coveredBy)) kept.push(e);
    });
    list = kept.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : a.need - b.need));
  };
  prune();
  while (list.length > OPEN_FILTER.entries) {
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i + 1 < list.length; i++) {
      const score = commonPrefix(list[i].prefix, list[i + 1].prefix).length;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    const a = list[best];
    const b = list[best + 1];
    list.splice(best, 2, { need: a.need & b.need, prefix: commonPrefix(a.prefix, b.prefix) });
    prune();
  }
  if (list.some((e) => e.need === 0 && e.prefix === "")) return "all";
  return list;
}

const CLASS_NAMES: readonly [number, string][] = [
  [OPEN_FILTER.read, "read"],
  [OPEN_FILTER.write, "write"],
  [OPEN_FILTER.create, "create"],
  [OPEN_FILTER.success, "success"],
  [OPEN_FILTER.failed, "failed"],
  [OPEN_FILTER.unclean, "unclean-path"],
];

/** "write+success /etc/" style text of one entry, for `rules explain` and the run log. */
export function describeOpenEntry(e: OpenFilterEntry): string {
  const bits = CLASS_NAMES.filter(([b]) => (e.need & b) !== 0).map(([, n]) => n);
  const need = bits.length === 0 ? "any" : bits.join("+");
  return (e.need & OPEN_FILTER.unclean) !== 0 ? need : `${need} ${e.prefix === "" ? "(any path)" : e.prefix}`;
}
