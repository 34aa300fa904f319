// user.* and group.*, from the process's ids and the passwd and group files of its container (or
// the host's, outside containers). A uid or gid with no entry reads as libsinsp's extractors show
// it: "<NA>", except id 0, which is "root" (home "/root"; the shell stays "<NA>") wherever no file
// says otherwise (a container whose passwd could not be read, for one). The id itself stays readable.

import type { EventContext } from "../../../state/index.ts";
import { type Binder, plain } from "./types.ts";

const NO_ENTRY = "<NA>";
const ROOT = "root";

/** What libsinsp shows for a name or home with no entry: root's for id 0, else "<NA>". */
const missing = (id: number, forRoot: string): string => (id === 0 ? forRoot : NO_ENTRY);

/** A process in a container reads its container's passwd (as Falco does); others the host's. */
const entry = (ctx: EventContext, uid: number | undefined) =>
  uid === undefined || ctx.process === undefined ? undefined : ctx.facts.usersOf(ctx.process).user(uid);

export const USER_FIELDS: Readonly<Record<string, Binder>> = {
  "user.uid": plain((ctx) => ctx.process?.uid),
  "user.name": plain((ctx) =>
    ctx.process === undefined
      ? undefined
      : (entry(ctx, ctx.process.uid)?.name ?? missing(ctx.process.uid, ROOT)),
  ),
  "user.homedir": plain((ctx) =>
    ctx.process === undefined
      ? undefined
      : (entry(ctx, ctx.process.uid)?.home ?? missing(ctx.process.uid, "/root")),
  ),
  "user.shell": plain((ctx) =>
    ctx.process === undefined ? undefined : (entry(ctx, ctx.process.uid)?.shell ?? NO_ENTRY),
  ),
  "user.loginuid": plain((ctx) => ctx.process?.loginuid),
  "user.loginname": plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    if (p.loginuid < 0) return NO_ENTRY;
    return entry(ctx, p.loginuid)?.name ?? missing(p.loginuid, ROOT);
  }),
  "group.gid": plain((ctx) => ctx.process?.gid),
  "group.name": plain((ctx) =>
    ctx.process === undefined
      ? undefined
      : (ctx.facts.usersOf(ctx.process).groupName(ctx.process.gid) ?? missing(ctx.process.gid, ROOT)),
  ),
};
