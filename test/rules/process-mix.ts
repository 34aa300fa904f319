// A synthetic event mix for rule tests on live state: per process one exec, one open per path
// (openat and open alternating, every third one a write with O_CREAT), one exit; root and a user
// alternating, a third of them outside any container. typed-plans and generated-plans tests run
// their rule engines over it.
import type { Event } from "../../agent/events/index.ts";

/** comm, exe path, argv[1..] */
export type MixProgram = [string, string, string[]];

/** `processes` processes cycling through `programs` and `paths`, events numbered from 1. */
export function processMix(
  programs: readonly MixProgram[],
  paths: readonly string[],
  processes: number,
): Event[] {
  const events: Event[] = [];
  let num = 0;
  for (let i = 0; i < processes; i++) {
    const [comm, exe, args] = programs[i % programs.length];
    const pid = 5000 + i;
    const base = { tid: pid, pid, cut: 0, bootSec: 100 };
    events.push({
      ...base,
      num: ++num,
      kind: "execve",
      bootNsec: num,
      res: 0,
      ppid: 1,
      uid: i % 2 === 0 ? 0 : 1000,
      gid: 0,
      comm,
      filename: exe,
      args: [exe, ...args],
      cgroup: i % 3 === 0 ? "/system.slice/x.service" : `/kubepods/besteffort/pod1/${"cd".repeat(32)}`,
    });
    for (let j = 0; j < paths.length; j++)
      events.push({
        ...base,
        num: ++num,
        kind: j % 2 === 0 ? "openat" : "open",
        bootNsec: num,
        res: 3 + j,
        dirfd: -100,
        path: paths[(i + j) % paths.length],
        flags: j % 3 === 0 ? 0o1101 : 0,
        mode: 0o644,
        resolve: 0,
      } as Event);
    events.push({ ...base, num: ++num, kind: "procexit", bootNsec: num, exitCode: 0 });
  }
  return events;
}
