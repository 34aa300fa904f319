// A small command-line parser: flags that take a value (-c FILE, --config FILE, --config=FILE),
// flags that may repeat (-r, -o), switches (--json) and positional arguments. Unknown flags are
// usage errors (exit code 2), never silently ignored.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** Long name without dashes ("config"); the key in the result. */
  name: string;
  short?: string;
  /** Takes a value. */
  value?: boolean;
  /** May be given several times (values collect into a list). */
  repeat?: boolean;
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  switches: Set<string>;
  positional: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), switches: new Set(), positional: [] };
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.short !== undefined) byName.set(`-${s.short}`, s);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(flag);
    if (spec === undefined) throw new UsageError(`unknown option '${flag}'`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`option '${flag}' takes no value`);
      out.switches.add(spec.name);
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`option '${flag}' needs a value`);
      value = argv[++i];
    }
    const list = out.values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeat) throw new UsageError(`option '${flag}' may be given only once`);
    list.push(value);
    out.values.set(spec.name, list);
  }
  return out;
}

export function single(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

export function many(args: ParsedArgs, name: string): string[] {
  return args.values.get(name) ?? [];
}
