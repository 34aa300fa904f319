/* The record schema shared by the probe (lanner.bpf.c) and the shim (loader.c), besides the
 * kinds, which events.gen.h declares (generated from agent/events/table.ts).
 * agent/events/schema.ts mirrors every LANNER_* number here; test/events/schema.test.ts
 * parses this file and fails when the two disagree. Layouts are described in docs/EVENTS.md.
 * Only plain `#define NAME <integer>` lines, so the test can parse it. */
#ifndef LANNER_SCHEMA_H
#define LANNER_SCHEMA_H

/* Bump when a record layout changes; the agent refuses a probe with another version. 2: array16
 * record headers, parameters appended to exec, the event table's kinds. 3: procfork's
 * shares_fds appended. */
#define LANNER_SCHEMA_VERSION 3

/* Bounds, in bytes of payload (no NUL). */
#define LANNER_PATH_MAX 4096
#define LANNER_ARGS_MAX 4096
#define LANNER_ENV_MAX 2048
/* Most strings read from a failed exec's argv array (the attempted arguments). */
#define LANNER_ARGV_STRINGS_MAX 64
#define LANNER_CGROUP_DEPTH 16
#define LANNER_CGROUP_NAME_MAX 255
#define LANNER_CWD_DEPTH 16
#define LANNER_CWD_NAME_MAX 255
#define LANNER_COMM_MAX 15
#define LANNER_UNIX_PATH_MAX 108
/* Largest record the probe writes; larger ones are dropped and counted (too_big). Power of two. */
#define LANNER_RECORD_MAX 32768

/* Per-CPU counters (u64): the global ones, then one per kind id for records written and one per
 * kind id for records dropped (any reason). */
#define LANNER_COUNTER_SEEN 0
#define LANNER_COUNTER_WRITTEN 1
#define LANNER_COUNTER_RING_FULL 2
#define LANNER_COUNTER_TOO_BIG 3
#define LANNER_COUNTER_READ_FAULT 4
/* Successful closes dropped by the close prefilter (the fd's creation was never recorded). */
#define LANNER_COUNTER_PREFILTERED 5
/* New processes the fd tracker had no room for (their closes are all sent). */
#define LANNER_COUNTER_FD_TRACK_FULL 6
/* Opens (open, openat, openat2) dropped by the open prefilter (no rule or state use can match). */
#define LANNER_COUNTER_OPEN_PREFILTERED 7
#define LANNER_COUNTER_KIND_WRITTEN 8
#define LANNER_COUNTER_KIND_DROPPED 136
#define LANNER_COUNTERS 264

/* Ring buffer size when the loader does not set one: 8 MiB. */
#define LANNER_RING_DEFAULT_BYTES 8388608

/* Close prefilter: per process (tgid), which fds below LANNER_FD_TRACK_FDS were created by a
 * recorded event since the process was forked under the probe; at most LANNER_FD_TRACK_PROCS
 * processes. The selection map's slot LANNER_PREFILTER_SLOT (no syscall has that number) is the
 * switch: nonzero = drop successful closes of untracked fds. */
#define LANNER_FD_TRACK_FDS 512
#define LANNER_FD_TRACK_PROCS 8192
#define LANNER_PREFILTER_SLOT 511

/* The switch slot's value, bit by bit: the close prefilter, the open prefilter, and which of the
 * two open_filter map entries is live (the agent writes the other one, then flips this bit). */
#define LANNER_PREFILTER_CLOSE 1
#define LANNER_PREFILTER_OPEN 2
#define LANNER_PREFILTER_OPEN_BUFFER 4

/* Open prefilter: at most LANNER_OPEN_FILTER_ENTRIES entries (need bits, path prefix of at most
 * LANNER_OPEN_FILTER_PREFIX bytes); an open is kept when one entry matches. The path is read into
 * a window of LANNER_OPEN_FILTER_PATH bytes with its NUL; one that fills it counts as unclean. */
#define LANNER_OPEN_FILTER_ENTRIES 16
#define LANNER_OPEN_FILTER_PREFIX 64
#define LANNER_OPEN_FILTER_PATH 256
/* An open's class bits, which an entry's need bits must all be in: access mode read (O_RDONLY or
 * O_RDWR), write (O_WRONLY or O_RDWR), O_CREAT, result >= 0, result < 0, and a path the prefix
 * test cannot decide (relative, with "//", "/." or "./", or filling the window). */
#define LANNER_OPEN_READ 1
#define LANNER_OPEN_WRITE 2
#define LANNER_OPEN_CREATE 4
#define LANNER_OPEN_SUCCESS 8
#define LANNER_OPEN_FAILED 16
#define LANNER_OPEN_UNCLEAN 32

#endif
