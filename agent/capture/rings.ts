// How many ring buffers the probe writes to and which CPU writes to which, from
// engine.modern_ebpf.cpus_for_each_buffer with Falco's meaning: 0 = one ring shared by every CPU,
// N = one ring per N online CPUs (ceil(online / N) rings; N at or above the online count is one).
// The table covers every possible CPU id, since the probe indexes it by the CPU it runs on: an
// online CPU writes to the ring of its rank among online CPUs divided by N; a CPU offline at start
// (it may be brought online later) shares ring floor(id / N) modulo the number of rings.
import { readFileSync } from "node:fs";

export interface RingLayout {
  /** Rings the probe writes to (1: the single shared ring). */
  rings: number;
  /** For every possible CPU id, the ring it writes to; empty for the single shared ring. */
  ringOfCpu: Uint32Array;
}

/** The single shared ring (cpus_for_each_buffer 0): the probe's `events` ring, no table. */
export const SHARED_RING: RingLayout = { rings: 1, ringOfCpu: new Uint32Array(0) };

/** CPU ids of a kernel CPU list ("0-3,6,8-9", as in /sys/devices/system/cpu/online), sorted. */
export function parseCpuList(text: string, source: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === "") throw new Error(`${source}: empty CPU list`);
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const first = m ? Number(m[1]) : Number.NaN;
    const last = m?.[2] === undefined ? first : Number(m[2]);
    if (!(first <= last && last < 1 << 16)) {
      throw new Error(`${source}: '${part}' is not a CPU id or range (expected e.g. 0-3,6)`);
    }
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The layout for `cpusPerRing` (cpus_for_each_buffer) given the online CPU ids and the number of
 * possible CPU ids (highest possible id + 1). */
export function ringLayout(cpusPerRing: number, online: readonly number[], possible: number): RingLayout {
  if (!Number.isInteger(cpusPerRing) || cpusPerRing < 0) {
    throw new RangeError(`cpusPerRing ${cpusPerRing} must be a non-negative integer`);
  }
  if (online.length === 0 || (online.at(-1) as number) >= possible) {
    throw new RangeError(`online CPUs [${online.join(",")}] do not fit ${possible} possible CPUs`);
  }
  if (cpusPerRing === 0 || cpusPerRing >= online.length) return SHARED_RING;
  const rings = Math.ceil(online.length / cpusPerRing);
  const ringOfCpu = new Uint32Array(possible);
  for (let cpu = 0; cpu < possible; cpu++) ringOfCpu[cpu] = Math.floor(cpu / cpusPerRing) % rings;
  online.forEach((cpu, rank) => {
    ringOfCpu[cpu] = Math.floor(rank / cpusPerRing);
  });
  return { rings, ringOfCpu };
}

const CPU_DIR = "/sys/devices/system/cpu";

/** The layout on this machine, from sysfs's online and possible CPU lists. */
export function machineRingLayout(cpusPerRing: number, cpuDir = CPU_DIR): RingLayout {
  if (cpusPerRing === 0) return SHARED_RING;
  const read = (name: string) => parseCpuList(readFileSync(`${cpuDir}/${name}`, "utf8"), `${cpuDir}/${name}`);
  const possible = read("possible");
  return ringLayout(cpusPerRing, read("online"), (possible.at(-1) as number) + 1);
}
