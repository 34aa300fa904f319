// Reading a YAML file from disk with the same bound the parser applies, checked before the read:
// a huge file, or a device or pipe that never ends (/dev/zero), is refused instead of being read
// into memory.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { MAX_YAML_BYTES } from "./positioned.ts";

export class YamlFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "YamlFileError";
  }
}

/** The file's text (UTF-8). Throws YamlFileError if it is not a regular file or is too large. */
export function readYamlFile(path: string): string {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new YamlFileError(`${path} is not a regular file`);
    if (stat.size > MAX_YAML_BYTES)
      throw new YamlFileError(
        `${path} is too large (${stat.size} bytes; the limit is ${MAX_YAML_BYTES} bytes)`,
      );
    // Read at most one byte past the limit: a file that grows while we read is still bounded.
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_YAML_BYTES) + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_YAML_BYTES)
      throw new YamlFileError(`${path} is too large (more than ${MAX_YAML_BYTES} bytes)`);
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
