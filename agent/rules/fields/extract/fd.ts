// fd.*, from the fd the event refers to.

import { fdDirectory, fdFilename } from "../../../state/fds.ts";
import { type Binder, plain } from "./types.ts";

export const FD_FIELDS: Readonly<Record<string, Binder>> = {
  "fd.num": plain((ctx) => ctx.fd?.num),
  "fd.name": plain((ctx) => ctx.fd?.name),
  "fd.nameraw": plain((ctx) => ctx.fd?.nameRaw),
  "fd.directory": plain((ctx) => (ctx.fd === undefined ? undefined : fdDirectory(ctx.fd))),
  "fd.filename": plain((ctx) => (ctx.fd === undefined ? undefined : fdFilename(ctx.fd))),
  "fd.type": plain((ctx) => ctx.fd?.type),
  "fd.typechar": plain((ctx) => ctx.fd?.typechar),
};
