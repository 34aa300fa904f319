// user.* and group.*, from the process's ids and the host's passwd and group files.

import { type Binder, plain } from "./types.ts";

export const USER_FIELDS: Readonly<Record<string, Binder>> = {
  "user.uid": plain((ctx) => ctx.process?.uid),
  "user.name": plain((ctx) =>
    ctx.process === undefined ? undefined : ctx.users.user(ctx.process.uid)?.name,
  ),
  "user.homedir": plain((ctx) =>
    ctx.process === undefined ? undefined : ctx.users.user(ctx.process.uid)?.home,
  ),
  "user.shell": plain((ctx) =>
    ctx.process === undefined ? undefined : ctx.users.user(ctx.process.uid)?.shell,
  ),
  "group.gid": plain((ctx) => ctx.process?.gid),
  "group.name": plain((ctx) =>
    ctx.process === undefined ? undefined : ctx.users.groupName(ctx.process.gid),
  ),
};
