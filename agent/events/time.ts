// Event time. The kernel stamps events with CLOCK_BOOTTIME (it never jumps); the agent turns that
// into wall-clock time with one offset measured at start, so every event of a run (and of its
// replay) converts the same way. Seconds and nanoseconds stay separate: a nanosecond epoch does
// not fit in a double.

export interface BootClock {
  /** realtime - boottime when the agent started: whole seconds and nanoseconds (0..999999999). */
  offsetSec: number;
  offsetNsec: number;
}

export interface WallTime {
  sec: number;
  nsec: number;
}

export function toWallTime(clock: BootClock, bootSec: number, bootNsec: number): WallTime {
  let sec = clock.offsetSec + bootSec;
  let nsec = clock.offsetNsec + bootNsec;
  if (nsec >= 1_000_000_000) {
    nsec -= 1_000_000_000;
    sec += 1;
  }
  return { sec, nsec };
}

/** Nanoseconds since the epoch, exactly. */
export function wallTimeNs(time: WallTime): bigint {
  return BigInt(time.sec) * 1_000_000_000n + BigInt(time.nsec);
}

/** wallTimeNs as decimal digits, without bigint arithmetic in the common case. */
export function wallTimeNsText(time: WallTime): string {
  const { sec, nsec } = time;
  if (sec > 0 && Number.isSafeInteger(sec) && Number.isInteger(nsec) && nsec >= 0 && nsec < 1_000_000_000)
    return `${sec}${nsecDigits(nsec)}`;
  return wallTimeNs(time).toString();
}

// The date and clock parts of the last second formatted: alerts come in runs within one second.
let lastSec = Number.NaN;
let lastIso = "";
let lastClock = "";
function isoSecond(sec: number): string {
  if (sec !== lastSec) {
    lastIso = new Date(sec * 1000).toISOString().slice(0, 19);
    lastClock = lastIso.slice(11, 19);
    lastSec = sec;
  }
  return lastIso;
}

// The nine fraction digits of the last nanoseconds formatted: an alert writes its time three
// times (the output's clock time, evt.time, the ISO time).
let lastNsec = Number.NaN;
let lastNsecDigits = "";
function nsecDigits(nsec: number): string {
  if (nsec !== lastNsec) {
    lastNsecDigits = String(nsec).padStart(9, "0");
    lastNsec = nsec;
  }
  return lastNsecDigits;
}

/** ISO-8601 in UTC with nine fractional digits, as Falco writes alert times. */
export function isoTime(time: WallTime): string {
  return `${isoSecond(time.sec)}.${nsecDigits(time.nsec)}Z`;
}

/** HH:MM:SS.nnnnnnnnn in UTC: Falco's %evt.time. */
export function clockTime(time: WallTime): string {
  isoSecond(time.sec);
  return `${lastClock}.${nsecDigits(time.nsec)}`;
}
