// The state snapshot a capture file carries (agent/state/snapshot.ts): taken from a tracker seeded
// from this machine's real /proc, serialised through JSON, checked, and restored into a tracker
// that answers the same for a real process without looking at /proc; bad input names its field.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import type { OpenEvent } from "../../agent/events/types.ts";
import { parseSnapshot, restoreState, SnapshotError, snapshotState } from "../../agent/state/snapshot.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";

let sleeper: Subprocess;
beforeAll(async () => {
  sleeper = Bun.spawn(["sleep", "30"], { cwd: "/tmp", stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 200; i++) {
    if (
      (
        await Bun.file(`/proc/${sleeper.pid}/comm`)
          .text()
          .catch(() => "")
      ).trim() === "sleep"
    )
      break;
    await Bun.sleep(10);
  }
});
afterAll(() => sleeper.kill("SIGKILL"));

const host = { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } };

describe("snapshot and restore", () => {
  test("a seeded process survives JSON and restore with its identity, cwd and user name", () => {
    const users = UserTable.load("/");
    const live = new StateTracker({ processCapacity: 65_536, users, host, hostRoot: "/" });
    live.seedFromProc();
    const snap = parseSnapshot(JSON.parse(JSON.stringify(snapshotState(live.processes, users))));
    expect(snap.processes.some((p) => p.pid === sleeper.pid)).toBe(true);
    const restored = restoreState(snap, { processCapacity: 65_536, host });
    const open: OpenEvent = {
      kind: "openat",
      num: 1,
      bootSec: 1,
      bootNsec: 0,
      tid: sleeper.pid,
      pid: sleeper.pid,
      cut: 0,
      res: 5,
      dirfd: -100,
      path: "rel.txt",
      flags: 0,
      mode: 0,
      resolve: 0,
    };
    const ctx = restored.apply(open);
    expect(ctx.process?.comm).toBe("sleep");
    expect(ctx.process?.args).toEqual(["30"]);
    expect(ctx.fd?.name).toBe("/tmp/rel.txt");
    expect(ctx.users.user(0)?.name).toBe("root");
  });

  test("a malformed snapshot is an error naming the field", () => {
    expect(() => parseSnapshot({ processes: [{ pid: -1 }], paths: [], users: [], groups: [] })).toThrow(
      SnapshotError,
    );
    try {
      parseSnapshot({ processes: "x", paths: [], users: [], groups: [] });
    } catch (err) {
      expect((err as Error).message).toStartWith("snapshot.processes");
    }
  });
});
