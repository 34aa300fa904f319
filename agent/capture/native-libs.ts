// Loads the native libraries the agent carries inside itself: target nodes have no libbpf,
// libelf or zlib. Each embedded .so is copied into an anonymous memory file (memfd_create)
// and dlopen'ed as /proc/self/fd/N, dependencies first. glibc satisfies a library's
// DT_NEEDED entry with an already loaded object whose SONAME matches, so libelf binds to our
// libz, libbpf to our libelf and libz, and the shim to our libbpf: the host's copies (if
// any) are never looked up. The memfds stay open for the life of the process.
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, readFileSync, writeSync } from "node:fs";
import libbpfPath from "../../native/build/libbpf.so.1" with { type: "file" };
import libelfPath from "../../native/build/libelf.so.1" with { type: "file" };
import liblannerPath from "../../native/build/liblanner.so" with { type: "file" };
import libzPath from "../../native/build/libz.so.1" with { type: "file" };
import probeObjectPath from "../../native/build/lanner.bpf.o" with { type: "file" };

const MFD_CLOEXEC = 1;

/** Each library with one symbol to bind, which is all bun:ffi needs to keep it loaded. */
const DEPENDENCIES = [
  { soname: "libz.so.1", path: libzPath, probe: "zlibVersion" },
  { soname: "libelf.so.1", path: libelfPath, probe: "elf_version" },
  { soname: "libbpf.so.1", path: libbpfPath, probe: "libbpf_major_version" },
] as const;

let libc: ReturnType<typeof openLibc> | null = null;
const keepAlive: unknown[] = [];
let dependenciesLoaded = false;

function openLibc() {
  return dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

function cString(s: string): Buffer {
  return Buffer.from(s + "\0", "utf8");
}

/** Copies `bytes` into a new memfd named `name`; returns its /proc/self/fd path. */
export function memfdPath(name: string, bytes: Uint8Array): string {
  libc ??= openLibc();
  const fd = libc.symbols.memfd_create(cString("lanner:" + name), MFD_CLOEXEC);
  if (fd < 0) {
    const errnoPtr = libc.symbols.__errno_location();
    const errno = errnoPtr === null || typeof errnoPtr === "bigint" ? 0 : read.i32(errnoPtr, 0);
    throw new Error(`memfd_create(${name}) failed with errno ${errno}`);
  }
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return `/proc/self/fd/${fd}`;
}

/** Loads libz, libelf and libbpf from the embedded copies, once per process. */
export function loadDependencies(): void {
  if (dependenciesLoaded) return;
  for (const dep of DEPENDENCIES) {
    const path = memfdPath(dep.soname, readFileSync(dep.path));
    keepAlive.push(dlopen(path, { [dep.probe]: { args: [], returns: FFIType.ptr } }));
  }
  dependenciesLoaded = true;
}

/** The shim's bytes, for loading after loadDependencies(). */
export function shimPath(): string {
  return memfdPath("liblanner.so", readFileSync(liblannerPath));
}

/** The compiled probe object (ELF), to hand to lanner_open. */
export function probeObject(): Uint8Array {
  return readFileSync(probeObjectPath);
}
