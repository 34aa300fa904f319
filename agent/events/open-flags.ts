// Linux open(2) flag bits (x86_64 values, from include/uapi/asm-generic/fcntl.h) and how Falco
// renders them in evt.arg.flags: names joined by '|', the access mode always first.

export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_DIRECTORY = 0o200000;
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;
export const O_PATH = 0o10000000;

const NAMED_BITS: readonly [number, string][] = [
  [O_CREAT, "O_CREAT"],
  [0o200, "O_EXCL"],
  [0o400, "O_NOCTTY"],
  [0o1000, "O_TRUNC"],
  [0o2000, "O_APPEND"],
  [0o4000, "O_NONBLOCK"],
  [0o20000, "O_ASYNC"],
  [0o40000, "O_DIRECT"],
  [0o100000, "O_LARGEFILE"],
  [0o400000, "O_NOFOLLOW"],
  [0o1000000, "O_NOATIME"],
  [0o2000000, "O_CLOEXEC"],
  [O_PATH, "O_PATH"],
];

const ACCESS_NAMES = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"];

export function renderOpenFlags(flags: number): string {
  const names = [ACCESS_NAMES[flags & O_ACCMODE]];
  for (const [bit, name] of NAMED_BITS) if ((flags & bit) !== 0) names.push(name);
  // O_TMPFILE includes O_DIRECTORY's bit; O_SYNC includes O_DSYNC's.
  if ((flags & O_TMPFILE) === O_TMPFILE) names.push("O_TMPFILE");
  else if ((flags & O_DIRECTORY) !== 0) names.push("O_DIRECTORY");
  if ((flags & 0o4010000) === 0o4010000) names.push("O_SYNC");
  else if ((flags & 0o10000) !== 0) names.push("O_DSYNC");
  return names.join("|");
}

export function isOpenForRead(flags: number): boolean {
  const mode = flags & O_ACCMODE;
  return mode === O_RDONLY || mode === O_RDWR;
}

export function isOpenForWrite(flags: number): boolean {
  const mode = flags & O_ACCMODE;
  return mode === O_WRONLY || mode === O_RDWR;
}
