// container.*: for now the id, derived from the process's cgroup path.

import { type Binder, plain } from "./types.ts";

export const CONTAINER_FIELDS: Readonly<Record<string, Binder>> = {
  "container.id": plain((ctx) => ctx.process?.containerId),
};
