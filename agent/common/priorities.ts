// Falco's rule priorities, as one table: the name a rule shows, the spellings a rule file or the
// config's `priority` threshold may use (any case), in order from most to least severe. Rule items,
// the engine's threshold and the config schema all read it.

export interface PriorityRow {
  /** As Falco prints it in alerts. */
  readonly name: string;
  /** Lower-case spellings accepted in files; the first is the name in lower case. */
  readonly spellings: readonly string[];
}

export const PRIORITY_TABLE = [
  { name: "Emergency", spellings: ["emergency"] },
  { name: "Alert", spellings: ["alert"] },
  { name: "Critical", spellings: ["critical"] },
  { name: "Error", spellings: ["error"] },
  { name: "Warning", spellings: ["warning"] },
  { name: "Notice", spellings: ["notice"] },
  { name: "Informational", spellings: ["informational", "info"] },
  { name: "Debug", spellings: ["debug"] },
] as const satisfies readonly PriorityRow[];

export type Priority = (typeof PRIORITY_TABLE)[number]["name"];

/** The names, most severe first: the index is the rank (0 = Emergency). */
export const PRIORITIES: readonly Priority[] = PRIORITY_TABLE.map((r) => r.name);

/** Every accepted spelling, lower case. */
export const PRIORITY_SPELLINGS = PRIORITY_TABLE.flatMap((r) => r.spellings) as [string, ...string[]];

/** The priority a spelling names, in any case; undefined if none. */
export function parsePriority(text: string): Priority | undefined {
  const lower = text.toLowerCase();
  return PRIORITY_TABLE.find((r) => (r.spellings as readonly string[]).includes(lower))?.name;
}
