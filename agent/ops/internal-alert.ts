// Alerts the agent raises about itself (a rejected reload, a metrics snapshot), in the same
// Falco shape as rule alerts so they reach the same outputs; source "internal", as Falco's.

import type { JsonFieldValue } from "../rules/index.ts";
import type { Alert } from "../outputs/index.ts";
import type { Priority } from "../common/index.ts";

export function internalAlert(
  rule: string,
  priority: Priority,
  message: string,
  fields: Record<string, JsonFieldValue>,
  hostname: string,
): Alert {
  const ms = Date.now();
  return {
    time: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 },
    rule,
    priority,
    message,
    outputFields: fields,
    source: "internal",
    tags: [],
    hostname,
  };
}
