// Rules compare evt.arg.NAME with Falco's text renderings: a ptrace record with request 16, as
// the probe encodes it, decoded and applied to the state, matches Falco's `PTRACE_ATTACH` tests.
import { describe, expect, test } from "bun:test";
import { RecordDecoder } from "../../agent/events/decode.ts";
import type { Event } from "../../agent/events/types.ts";
import { type CheckScope, checkCondition } from "../../agent/rules/condition/check.ts";
import { parseCondition } from "../../agent/rules/condition/parser.ts";
import { planCondition } from "../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import { liveBinder } from "../../agent/rules/live.ts";
import type { EventContext } from "../../agent/state/context.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { encodeEvent } from "../events/record-encoder.ts";

const scope: CheckScope = {
  registry: FieldRegistry.default(),
  list: () => undefined,
  macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
};

function holds(condition: string, ctx: EventContext): boolean {
  const result = checkCondition(parseCondition(condition), scope);
  if ("issue" in result) throw new Error(result.issue.message);
  return planCondition(result.checked, liveBinder)(ctx);
}

function tracker(): StateTracker {
  const users = new UserTable();
  users.parsePasswd("root:x:0:0:root:/root:/bin/bash\n");
  users.parseGroup("root:x:0:\n");
  return new StateTracker({
    processCapacity: 16,
    users,
    host: { hostname: "node-1", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
}

/** A record as the probe writes it, through the decoder, into the state. */
function applyRecord(event: Event): EventContext {
  const record = encodeEvent(event);
  return tracker().apply(new RecordDecoder().decode(record, 0, record.length));
}

const base = { cut: 0, num: 1, bootSec: 5, bootNsec: 0, tid: 4242, pid: 4242 };
const ptrace = (request: number, res = 0) =>
  applyRecord({ ...base, kind: "ptrace", res, request, targetPid: 77, addr: 0, data: 0 } as unknown as Event);

describe("evt.arg in conditions uses Falco's renderings", () => {
  test("ptrace request 16 is PTRACE_ATTACH", () => {
    const ctx = ptrace(16);
    expect(holds("evt.type = ptrace and evt.arg.request = PTRACE_ATTACH", ctx)).toBe(true);
    expect(
      holds("evt.arg.request contains PTRACE_ATTACH or evt.arg.request contains PTRACE_SEIZE", ctx),
    ).toBe(true);
    expect(holds("evt.arg[1] = PTRACE_ATTACH", ctx)).toBe(true);
    expect(holds("evt.arg.request = 16", ctx)).toBe(false); // the text is the name, not the number
    expect(holds("evt.rawarg.request = 16", ctx)).toBe(true);
  });

  test("another request does not match, an unknown one is PTRACE_UNKNOWN", () => {
    expect(holds("evt.type = ptrace and evt.arg.request = PTRACE_ATTACH", ptrace(5))).toBe(false);
    expect(holds("evt.arg.request = PTRACE_POKEDATA", ptrace(5))).toBe(true);
    expect(holds("evt.arg.request = PTRACE_UNKNOWN", ptrace(1234))).toBe(true);
  });

  test("a failed call's result is the errno's name", () => {
    const ctx = ptrace(16, -1);
    expect(holds("evt.arg.res = EPERM", ctx)).toBe(true);
    expect(holds("evt.rawarg.res = -1", ctx)).toBe(true);
  });

  test("socket families print as libsinsp's names, socket types as numbers", () => {
    const sock = applyRecord({
      ...base,
      kind: "socket",
      res: 3,
      domain: 1,
      type: 1,
      proto: 0,
    } as unknown as Event);
    expect(holds("evt.arg.domain contains AF_UNIX", sock)).toBe(true);
    expect(holds("evt.arg.type = 1", sock)).toBe(true);
  });
});
