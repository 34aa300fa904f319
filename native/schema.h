/* The record schema shared by the probe (lanner.bpf.c) and the shim (loader.c).
 * agent/events/schema.ts mirrors every LANNER_* number here; test/events/schema.test.ts
 * parses this file and fails when the two disagree. Layouts are described in docs/EVENTS.md.
 * Only plain `#define NAME <integer>` lines, so the test can parse it. */
#ifndef LANNER_SCHEMA_H
#define LANNER_SCHEMA_H

/* Bump when a record layout changes; the agent refuses a probe with another version. */
#define LANNER_SCHEMA_VERSION 1

/* Event kinds: element 0 of every record. Stable: never renumber, only add. */
#define LANNER_KIND_EXECVE 1
#define LANNER_KIND_EXECVEAT 2
#define LANNER_KIND_OPEN 3
#define LANNER_KIND_OPENAT 4
#define LANNER_KIND_OPENAT2 5
#define LANNER_KIND_PROCEXIT 6
#define LANNER_KIND_PROCFORK 7

/* Record = [kind, boot_sec, boot_nsec, tid, pid, ...params, cut]. */
#define LANNER_HEADER_FIELDS 5
#define LANNER_EXEC_PARAMS 8
#define LANNER_OPEN_PARAMS 6
#define LANNER_PROCEXIT_PARAMS 1
#define LANNER_PROCFORK_PARAMS 2

/* Parameter positions that can be cut (bit i of `cut` = parameter i). */
#define LANNER_EXEC_PARAM_FILENAME 5
#define LANNER_EXEC_PARAM_ARGS 6
#define LANNER_EXEC_PARAM_CGROUP 7
#define LANNER_OPEN_PARAM_PATH 2

/* Bounds, in bytes of payload (no NUL). */
#define LANNER_PATH_MAX 4096
#define LANNER_ARGS_MAX 4096
#define LANNER_CGROUP_DEPTH 16
#define LANNER_CGROUP_NAME_MAX 255
#define LANNER_COMM_MAX 15
/* Largest record the probe writes; larger ones are dropped and counted (too_big). Power of two. */
#define LANNER_RECORD_MAX 16384

/* Per-CPU counters (u64), in this order. */
#define LANNER_COUNTER_SEEN 0
#define LANNER_COUNTER_WRITTEN 1
#define LANNER_COUNTER_RING_FULL 2
#define LANNER_COUNTER_TOO_BIG 3
#define LANNER_COUNTERS 4

/* Ring buffer size when the loader does not set one: 8 MiB. */
#define LANNER_RING_DEFAULT_BYTES 8388608

#endif
