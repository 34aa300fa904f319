// The file descriptor an event refers to. For now only opens create one; the fd table per process
// (sockets, dup, close, fds opened before start) comes with the system-state work.

import type { OpenEvent } from "../events/types.ts";
import { O_DIRECTORY } from "../events/open-flags.ts";
import { basename, dirname, joinAndNormalize } from "./paths.ts";

export interface FdInfo {
  /** The fd number, or -1 when the open failed. */
  num: number;
  type: "file" | "directory";
  typechar: "f" | "d";
  /** The absolute, normalised path; undefined when a relative path's base could not be found. */
  name: string | undefined;
  /** The path exactly as the program passed it. */
  nameRaw: string;
  openFlags: number;
  /** Caches of fd.directory / fd.filename, filled on first use. */
  directory?: string;
  filename?: string;
}

/** Where a relative path starts: the process's cwd, or the directory an fd refers to. */
export interface PathBaseResolver {
  cwd(pid: number): string | undefined;
  fdPath(pid: number, fd: number): string | undefined;
}

export const AT_FDCWD = -100;

export function fdFromOpen(event: OpenEvent, bases: PathBaseResolver): FdInfo {
  const isDir = (event.flags & O_DIRECTORY) !== 0;
  let name: string | undefined;
  if (event.path.startsWith("/")) {
    name = joinAndNormalize("/", event.path);
  } else {
    const base = event.dirfd === AT_FDCWD ? bases.cwd(event.pid) : bases.fdPath(event.pid, event.dirfd);
    name = base === undefined ? undefined : joinAndNormalize(base, event.path);
  }
  return {
    num: event.res >= 0 ? event.res : -1,
    type: isDir ? "directory" : "file",
    typechar: isDir ? "d" : "f",
    name,
    nameRaw: event.path,
    openFlags: event.flags,
    directory: undefined,
    filename: undefined,
  };
}

/** fd.directory: the fd's directory (itself, for a directory). Computed once per fd. */
export function fdDirectory(fd: FdInfo): string | undefined {
  if (fd.name === undefined) return undefined;
  fd.directory ??= fd.type === "directory" ? fd.name : dirname(fd.name);
  return fd.directory;
}

/** fd.filename: the last path component (none for a directory). Computed once per fd. */
export function fdFilename(fd: FdInfo): string | undefined {
  if (fd.name === undefined || fd.type === "directory") return undefined;
  fd.filename ??= basename(fd.name);
  return fd.filename;
}
