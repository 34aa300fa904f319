// user.* and group.*, from the process's ids and the passwd and group files of its container (or
// the host's, outside containers). A uid or gid with no entry reads as Falco shows it: the name
// "<NA>" (the id itself stays readable).

import type { EventContext } from "../../../state/index.ts";
import { type Binder, plain } from "./types.ts";

const NO_ENTRY = "<NA>";

/** A process in a container reads its container's passwd (as Falco does); others the host's. */
const entry = (ctx: EventContext, uid: number | undefined) =>
  uid === undefined || ctx.process === undefined ? undefined : ctx.facts.usersOf(ctx.process).user(uid);

export const USER_FIELDS: Readonly<Record<string, Binder>> = {
  "user.uid": plain((ctx) => ctx.process?.uid),
  "user.name": plain((ctx) =>
    ctx.process === undefined ? undefined : (entry(ctx, ctx.process.uid)?.name ?? NO_ENTRY),
  ),
  "user.homedir": plain((ctx) =>
    ctx.process === undefined ? undefined : (entry(ctx, ctx.process.uid)?.home ?? NO_ENTRY),
  ),
  "user.shell": plain((ctx) =>
    ctx.process === undefined ? undefined : (entry(ctx, ctx.process.uid)?.shell ?? NO_ENTRY),
  ),
  "user.loginuid": plain((ctx) => ctx.process?.loginuid),
  "user.loginname": plain((ctx) => {
    const p = ctx.process;
    if (p === undefined) return undefined;
    if (p.loginuid < 0) return NO_ENTRY;
    return entry(ctx, p.loginuid)?.name ?? NO_ENTRY;
  }),
  "group.gid": plain((ctx) => ctx.process?.gid),
  "group.name": plain((ctx) =>
    ctx.process === undefined
      ? undefined
      : (ctx.facts.usersOf(ctx.process).groupName(ctx.process.gid) ?? NO_ENTRY),
  ),
};
