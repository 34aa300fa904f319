// Run as a subprocess by capabilities.test.ts: drops capabilities as the agent does after attach,
// then tries what the agent still needs and what it must no longer be able to do; prints JSON.

import { chownSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropCapabilities } from "../../agent/security/capabilities.ts";

// Another user's process, started while the capabilities are still all there.
const other = Bun.spawn(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "3"], {
  stdin: "ignore",
  stdout: "ignore",
  stderr: "ignore",
});
other.unref();
await Bun.sleep(100);
const r = dropCapabilities();
const dir = mkdtempSync(join(tmpdir(), "lanner-caps-"));
const file = join(dir, "f");
writeFileSync(file, "x");
const attempt = (f: () => unknown): string => {
  try {
    f();
    return "ok";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
};
const child = Bun.spawnSync(["grep", "-E", "^(CapEff|CapPrm|NoNewPrivs)", "/proc/self/status"]);
console.log(
  JSON.stringify({
    before: r.before.effective.toString(16),
    after: r.after.effective.toString(16),
    permitted: r.after.permitted.toString(16),
    bounding: r.after.bounding.toString(16),
    noNewPrivs: r.after.noNewPrivs,
    boundingKept: r.boundingKept,
    chownToOtherUser: attempt(() => chownSync(file, 4242, 4242)),
    readOtherUsersCwd: attempt(() => readlinkSync(`/proc/${other.pid}/cwd`)),
    killOtherUser: attempt(() => process.kill(other.pid, "SIGTERM")),
    child: child.stdout.toString(),
  }),
);
rmSync(dir, { recursive: true, force: true });
