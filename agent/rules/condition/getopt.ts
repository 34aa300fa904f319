// The getopt() transformer as libsinsp implements it (sinsp_filtercheck_multivalue_transformer.cpp):
// getopt(ARGV, OPTSTRING) reads ARGV as getopt(3) would with OPTSTRING and gives the option
// characters found, each followed by its value when it takes one; unknown options give '?'.
// getopt(ARGV, OPTSTRING)[c] gives only option c's value (the last one), or c itself when c takes
// no value, or "" when its value is missing; no value at all when c is absent.
// Long options (--x) are skipped, "--" and the first non-option end the scan.

interface OptString {
  valid: Set<string>;
  withValue: Set<string>;
}

function parseOptString(optstring: string): OptString {
  const out: OptString = { valid: new Set(), withValue: new Set() };
  let i = optstring.startsWith(":") ? 1 : 0;
  for (; i < optstring.length; i++) {
    const opt = optstring[i];
    if (opt === ":") continue;
    out.valid.add(opt);
    if (optstring[i + 1] === ":") {
      out.withValue.add(opt);
      i++;
    }
  }
  return out;
}

/** The option stream (no selector) or the selected option's value; undefined when absent. */
export function getopt(
  argv: readonly string[],
  optstring: string,
  selector?: string,
): string[] | string | undefined {
  const opts = parseOptString(optstring);
  const results: string[] = [];
  let selected: string | undefined;
  const emit = (name: string, value: string | undefined): void => {
    if (selector !== undefined) selected = value ?? name;
    else {
      results.push(name);
      if (value !== undefined) results.push(value);
    }
  };
  scan: for (let a = 0; a < argv.length; a++) {
    const arg = argv[a];
    if (arg === "--") break;
    if (arg.length > 2 && arg.startsWith("--")) continue;
    if (arg.length < 2 || arg[0] !== "-") break;
    for (let i = 1; i < arg.length; i++) {
      const opt = arg[i];
      if (opt === ":" || !opts.valid.has(opt)) {
        if (selector === undefined) results.push("?");
        continue;
      }
      const matches = selector === undefined || opt === selector;
      if (!opts.withValue.has(opt)) {
        if (matches) emit(opt, undefined);
        continue;
      }
      // The value is the rest of this word (-tvalue) or the next word (-t value).
      let value: string | undefined;
      if (i + 1 < arg.length) value = arg.slice(i + 1);
      else if (a + 1 < argv.length) value = argv[++a];
      if (value === undefined) {
        if (matches) emit("", undefined);
        break scan;
      }
      if (matches) emit(opt, value);
      continue scan;
    }
  }
  if (selector !== undefined) return selected;
  return results;
}
