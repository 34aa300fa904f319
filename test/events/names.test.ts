// How results and open flags are named, as Falco shows them in evt.res and evt.arg.flags.

import { expect, test } from "bun:test";
import { resultName } from "../../agent/events/errno.ts";
import { isOpenForRead, isOpenForWrite, renderOpenFlags } from "../../agent/events/open-flags.ts";

test.each([
  [0, "SUCCESS"],
  [5, "SUCCESS"],
  [-1, "EPERM"],
  [-2, "ENOENT"],
  [-13, "EACCES"],
  [-115, "EINPROGRESS"],
  [-133, "EHWPOISON"],
  [-41, "-41"],
  [-999, "-999"],
])("resultName(%p) = %p", (res, name) => {
  expect(resultName(res)).toBe(name);
});

test.each([
  [0, "O_RDONLY"],
  [0o1, "O_WRONLY"],
  [0o2, "O_RDWR"],
  [0o3, "O_ACCMODE"],
  [0o1101, "O_WRONLY|O_CREAT|O_TRUNC"],
  [0o2000000, "O_RDONLY|O_CLOEXEC"],
  [0o200000, "O_RDONLY|O_DIRECTORY"],
  [0o20200002, "O_RDWR|O_TMPFILE"],
  [0o4010000, "O_RDONLY|O_SYNC"],
  [0o10000, "O_RDONLY|O_DSYNC"],
  [0o10000000, "O_RDONLY|O_PATH"],
  [0o2002, "O_RDWR|O_APPEND"],
])("renderOpenFlags(%p) = %p", (flags, text) => {
  expect(renderOpenFlags(flags)).toBe(text);
});

test("read/write by access mode", () => {
  expect([0, 1, 2].map(isOpenForRead)).toEqual([true, false, true]);
  expect([0, 1, 2].map(isOpenForWrite)).toEqual([false, true, true]);
});
