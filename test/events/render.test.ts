// evt.arg renderings: for each vocabulary, values and the exact text libsinsp prints for them
// (names in its table order joined by '|', and what an unknown value prints as).
import { describe, expect, test } from "bun:test";
import { EVT_PARAMS } from "../../agent/events/kinds.gen.ts";
import { octal, RENDERERS, rendererFor } from "../../agent/events/render.ts";
import type { Rendering } from "../../agent/events/table.ts";

const CASES: Readonly<Record<Rendering, readonly (readonly [number, string])[]>> = {
  errno: [
    [-2, "ENOENT"],
    [-13, "EACCES"],
    [0, "0"],
    [5, "5"],
    [-4000, "-4000"],
  ],
  fd: [
    [-100, "AT_FDCWD"],
    [-9, "EBADF"],
    [7, "7"],
  ],
  mode: [
    [0o755, "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR"],
    [0o4700, "S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID"],
    [0o400, "S_IRUSR"],
    [0o100644, "S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR"], // the file-type bits are not named
    [0o100000, "0"],
    [0, "0"],
  ],
  octal: [
    [0o644, "0644"],
    [0, "0"],
  ],
  hex: [
    [0o755, "1ED"],
    [0, "0"],
  ],
  uid: [
    [0xffffffff, "<NONE>"],
    [-1, "<NONE>"],
    [1000, "1000"],
  ],
  gid: [
    [0xffffffff, "<NONE>"],
    [42, "42"],
  ],
  open_flags: [
    [0o2000002, "O_RDWR|O_CLOEXEC"],
    [0, "O_RDONLY"],
  ],
  clone_flags: [
    [0x01200011, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"], // fork(): the exit signal is dropped
    [
      0x3d0f00,
      "CLONE_FILES|CLONE_FS|CLONE_PARENT_SETTID|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD|CLONE_VM|CLONE_CHILD_CLEARTID|CLONE_SETTLS",
    ],
    [0x20020000, "CLONE_NEWNS|CLONE_NEWPID"],
    [0x80000000, "CLONE_IO"],
    [0x11, "0"], // only SIGCHLD
    [0x1000, "0"], // CLONE_PIDFD has no name
    [0, "0"],
  ],
  ptrace_request: [
    [16, "PTRACE_ATTACH"],
    [0, "PTRACE_TRACEME"],
    [5, "PTRACE_POKEDATA"],
    [0x4206, "PTRACE_SEIZE"],
    [99, "PTRACE_UNKNOWN"],
  ],
  mount_flags: [
    [0x1000 | 0x4000, "BIND|REC"],
    [(0xc0ed0000 | 1) >>> 0, "RDONLY"], // the old magic number is stripped
    [0x80000000, "NOUSER"],
    [0x100, "256"], // MS_NOSYMFOLLOW has no name
    [0, "0"],
  ],
  umount_flags: [
    [2, "DETACH"],
    [3, "FORCE|DETACH"],
    [16, "16"],
    [0, "0"],
  ],
  unlinkat_flags: [
    [0x200, "AT_REMOVEDIR"],
    [0x100, "0"],
    [0, "0"],
  ],
  linkat_flags: [
    [0x1400, "AT_SYMLINK_FOLLOW|AT_EMPTY_PATH"],
    [0x1000, "AT_EMPTY_PATH"],
    [0, "0"],
  ],
  rename_flags: [
    [1, "RENAME_NOREPLACE"],
    [6, "RENAME_EXCHANGE|RENAME_WHITEOUT"],
    [8, "8"],
    [0, "0"],
  ],
  socket_family: [
    [2, "AF_INET"],
    [10, "AF_INET6"],
    [1, "AF_LOCAL|AF_UNIX"],
    [16, "AF_ROUTE|AF_NETLINK"],
    [40, "AF_UNSPEC"], // AF_VSOCK: not in libsinsp's table
    [0, "AF_UNSPEC"],
  ],
  socket_type: [
    [1, "1"],
    [0o2000001, "524289"],
  ],
  memfd_flags: [
    [3, "MFD_CLOEXEC|MFD_ALLOW_SEALING"],
    [4, "MFD_HUGETLB"],
    [8, "0"], // MFD_NOEXEC_SEAL has no name
    [0, "0"],
  ],
  signal: [
    [9, "SIGKILL"],
    [15, "SIGTERM"],
    [29, "SIGIO"],
    [0, "0"],
    [34, "34"],
  ],
  prctl_option: [
    [22, "PR_SET_SECCOMP"],
    [15, "PR_SET_NAME"],
    [47, "PR_CAP_AMBIENT"],
    [33, "PR_MCE_KILL|PR_MCE_KILL"], // listed twice in libsinsp's table
    [1, "1"],
  ],
  fcntl_cmd: [
    [0, "F_DUPFD"],
    [4, "F_SETFL"],
    [1030, "F_DUPFD_CLOEXEC"],
    [38, "F_OFD_SETLKW"],
    [12, "UNKNOWN"],
  ],
  bpf_cmd: [
    [0, "BPF_MAP_CREATE"],
    [5, "BPF_PROG_LOAD"],
    [10, "BPF_PROG_TEST_RUN|BPF_PROG_RUN"],
    [11, "BPF_PROG_GET_NEXT_ID"],
    [32, "BPF_ENABLE_STATS"],
    [35, "BPF_PROG_BIND_MAP"],
    [36, "36"],
  ],
  close_range_flags: [
    [0, "0"],
    [4, "CLOSE_RANGE_CLOEXEC"],
    [6, "CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC"],
    [1, "0"], // an unknown bit is not mapped by the driver
  ],
};

describe("evt.arg renderings", () => {
  for (const [render, cases] of Object.entries(CASES) as [Rendering, (typeof CASES)[Rendering]][]) {
    test.each(cases)(`${render}: %p prints as %p`, (value, text) => {
      expect(RENDERERS[render](value)).toBe(text);
      expect(rendererFor(render)?.(value)).toBe(text);
    });
  }

  test("every rendering the event table names has a renderer", () => {
    const used = new Set(
      Object.values(EVT_PARAMS).flatMap((params) =>
        params.flatMap((p) => (p.render === undefined ? [] : [p.render])),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const render of used) expect(rendererFor(render)).toBeDefined();
    expect(rendererFor("no_such_rendering")).toBeUndefined();
    expect(rendererFor(undefined)).toBeUndefined();
  });

  test("octal prints as printf's %#o", () => {
    expect(octal(0o640)).toBe("0640");
    expect(octal(0)).toBe("0");
  });
});
