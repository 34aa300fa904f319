// The synthetic workload bench-rules and bench-replay share: per process one exec, ten opens, one
// exit, cycling through these programs and paths, so their figures measure the same mix.

/** comm, exe path, argv[1..] */
export const BENCH_PROGRAMS: readonly (readonly [string, string, readonly string[]])[] = [
  ["bash", "/usr/bin/bash", ["-c", "make all"]],
  ["cat", "/usr/bin/cat", ["/var/log/syslog"]],
  ["nginx", "/usr/sbin/nginx", ["-g", "daemon off;"]],
  ["python3", "/usr/bin/python3", ["app.py"]],
  ["gcc", "/usr/bin/gcc", ["-O2", "-c", "x.c"]],
  ["sh", "/bin/sh", ["-c", "ls -la"]],
  ["curl", "/usr/bin/curl", ["https://example.com"]],
  ["sshd", "/usr/sbin/sshd", ["-D"]],
];

export const BENCH_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/etc/ld.so.cache",
  "/proc/self/status",
  "/tmp/build/x.o",
  "/var/log/app.log",
  "/etc/passwd",
  "/home/user/.bashrc",
  "/etc/shadow",
  "/dev/null",
  "/usr/share/zoneinfo/UTC",
];
