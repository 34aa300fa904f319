// Prometheus' own checker for the /metrics text (Debian package 'prometheus', installed by scripts/setup).

/** Runs promtool check metrics on the text; its exit code and what it said. */
export function promtool(text: string): { code: number | null; output: string } {
  const bin = Bun.which("promtool");
  if (bin === null)
    throw new Error("promtool is missing: scripts/setup installs it (Debian package 'prometheus')");
  const proc = Bun.spawnSync([bin, "check", "metrics"], {
    stdin: new TextEncoder().encode(text),
    timeout: 20_000,
  });
  return { code: proc.exitCode, output: proc.stdout.toString() + proc.stderr.toString() };
}
