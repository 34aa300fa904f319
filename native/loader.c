/* liblanner.so: the FFI shim between the agent (bun:ffi) and libbpf.
 *
 * Plain C ABI, integers and pointers only, so bun:ffi can call it without glue:
 *
 *   struct lanner *lanner_open(const void *obj, uint64_t obj_len, uint32_t agent_tgid,
 *                              uint32_t ring_bytes, int32_t *err);
 *       Opens the probe object from memory (copied), sets the agent_tgid rodata variable and the
 *       ring size (0 = the object's default; else a power of two and a page multiple).
 *       NULL and *err = -errno on failure.
 *   int32_t lanner_set_rings(l, const uint32_t *ring_of_cpu, uint32_t ncpus, uint32_t nrings);
 *       Before load: several rings of the open's size instead of the one `events` ring. ncpus is
 *       the highest possible CPU id + 1; ring_of_cpu[cpu] < nrings is the ring CPU `cpu` writes to.
 *       0 or -EINVAL (bad table), -EBUSY (loaded).
 *   int32_t lanner_rodata_set(l, const char *name, const void *value, uint32_t len);   before load
 *   int32_t lanner_rodata_get(l, const char *name, void *out, uint32_t len);           any time
 *       A `const volatile` global of the probe, found by name in the .rodata BTF datasec;
 *       len must equal the variable's size. 0 or -errno (-ENOENT: no such variable).
 *   int32_t lanner_load(l);      verifier + kernel objects; on failure lanner_log_tail has why.
 *   int32_t lanner_attach(l);    attaches every hook program (the tail programs are only reached
 *                                through the `progs` map, filled at load); on failure
 *                                lanner_failed_program says which.
 *   int32_t lanner_select(l, const uint32_t *kind_by_nr, uint32_t n);
 *       Writes the syscall selection map: entry nr = the kind id to record for syscall nr, 0 to
 *       drop it in the kernel. n <= LANNER_SYSCALL_SLOTS; entries from n on are set to 0. Any time
 *       after load, attached or not: the programs read it on every syscall.
 *   int32_t lanner_open_filter(l, uint32_t index, const uint8_t *value, uint32_t n);
 *       Writes entry index (0 or 1) of the open prefilter map (struct open_filter in the probe,
 *       as agent/capture/open-filter.ts encodes it); n must be the value's exact size.
 *   uint32_t lanner_agent_host(l);   the agent's host tgid once the probe has learnt it, else 0
 *   int32_t lanner_misses(l, uint64_t *out);
 *       Times the kernel skipped a hook program because it was already running on that CPU
 *       (bpf_prog_info.recursion_misses, Linux 5.12+; 0 before), summed over the attached ones.
 *   void lanner_detach(l);       detaches every program; the ring stays readable until close.
 *   int32_t lanner_drain(l, uint8_t *out, uint32_t cap, uint32_t result[2]);
 *       Copies whole records from the rings into out as frames [u32 LE length][record], oldest
 *       first (merged by timestamp across rings; the order it guarantees is said there), and
 *       stops before the first record that does not fit, leaving it in its ring.
 *       result[0] = frames, result[1] = bytes. 0, or -E2BIG if cap cannot hold even the first,
 *       or -EIO if a record header is impossible (the frames before it are still returned).
 *   uint32_t lanner_ring_count(l);   rings mapped (1 unless lanner_set_rings); 0 before load
 *   int32_t lanner_ring_stats(l, uint64_t *out, uint32_t n);
 *       For ring i < n: out[2i] = bytes waiting in it, out[2i+1] = records the CPUs writing to it
 *       dropped because it was full. 0 or -EINVAL (not loaded, n > rings).
 *   int32_t lanner_counters(l, uint64_t *out, uint32_t n);   per-CPU counters summed
 *   int32_t lanner_boot_offset(int64_t out[2]);              CLOCK_REALTIME - CLOCK_BOOTTIME
 *   uint32_t lanner_failed_program(l, char *out, uint32_t cap);
 *   uint32_t lanner_log_tail(char *out, uint32_t cap);       last libbpf messages (info/warn)
 *   void lanner_close(l);        detaches, unmaps, frees; l is invalid afterwards.
 *
 * Calls on one handle must not run concurrently (the agent calls from one JS thread). */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "events.gen.h"

#define API __attribute__((visibility("default")))
/* The kernel's own "not supported" (include/linux/errno.h), which a bpf() call can return. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Mirrors struct bpf_ringbuf_hdr and its flag bits (kernel/bpf/ringbuf.c,
 * include/uapi/linux/bpf.h BPF_RINGBUF_*): every sample is preceded by this 8-byte header
 * and padded to 8 bytes. */
struct ringbuf_hdr {
	uint32_t len;
	uint32_t pg_off;
};
#define RINGBUF_BUSY_BIT (1u << 31)    /* reserved, not yet committed */
#define RINGBUF_DISCARD_BIT (1u << 30) /* committed as discarded: skip */
#define RINGBUF_HDR_SZ 8u

#define MAX_LINKS 8
/* Tail programs by LANNER_PROG_* index; the probe names them so. */
static const char *const TAIL_PROGRAMS[LANNER_PROGS] = { "tail_generic", "tail_sock", "tail_open",
							 "tail_exec" };
/* Scratch slots per CPU in the probe (enum scratch_slot). */
#define SCRATCH_SLOTS 4
#define LOG_CAP ((size_t)64 * 1024)

/* One mapped ring and where the current drain stands in it. */
struct ring {
	int fd;
	bool owned; /* created by the loader (closed by it), not by libbpf */
	uint64_t bytes;
	uint64_t mask;
	uint64_t *consumer_pos;
	const uint64_t *producer_pos;
	const uint8_t *data;
	void *producer_map;
	uint64_t cons, prod; /* drain cursor */
	uint64_t head_ns;    /* the record at cons, when head_ready: its stamp and size */
	uint32_t head_size;
	bool head_ready;
};

struct lanner {
	struct bpf_object *obj;
	void *obj_copy;
	bool loaded;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	char failed_program[64];
	/* The rings, mapped after load: consumer page RW, producer page + data (twice) RO. With no
	 * ring table, one: `events`. ring_of_cpu: NULL, or the table lanner_set_rings was given. */
	size_t page;
	uint32_t ring_bytes;
	struct ring *rings;
	uint32_t nrings;
	uint32_t *ring_of_cpu;
	uint32_t ring_cpus;
	int counters_fd;
	int selection_fd;
	int agent_host_fd;
	int open_filter_fd;
	int ncpus;
	uint64_t *percpu;
	/* lanner_counters' batch read: LANNER_COUNTERS keys, then ncpus values per key. */
	uint32_t *batch_keys;
	uint64_t *batch_values;
	bool batch_unsupported; /* the kernel refused a batch lookup once: per key from then on */
};

/* libbpf's messages, the tail kept. libbpf's print hook is process-wide, hence static. */
static char log_buf[LOG_CAP];
static size_t log_len;

static void log_append(const char *s, size_t n)
{
	if (n >= LOG_CAP) {
		s += n - (LOG_CAP - 1);
		n = LOG_CAP - 1;
	}
	if (log_len + n >= LOG_CAP) {
		size_t drop = log_len + n - (LOG_CAP - 1);
		memmove(log_buf, log_buf + drop, log_len - drop);
		log_len -= drop;
	}
	memcpy(log_buf + log_len, s, n);
	log_len += n;
	log_buf[log_len] = '\0';
}

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char small[512];
	va_list again;
	va_copy(again, args);
	int n = vsnprintf(small, sizeof(small), fmt, args);
	if (n < 0) {
		va_end(again);
		return 0;
	}
	if ((size_t)n < sizeof(small)) {
		log_append(small, n);
	} else {
		/* A verifier log arrives as one message of up to megabytes. */
		char *big = malloc((size_t)n + 1);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, again);
			log_append(big, n);
			free(big);
		}
	}
	va_end(again);
	return n;
}

API uint32_t lanner_log_tail(char *out, uint32_t cap)
{
	if (cap == 0)
		return 0;
	size_t n = log_len < cap - 1 ? log_len : cap - 1;
	memcpy(out, log_buf + (log_len - n), n);
	out[n] = '\0';
	return n;
}

static struct bpf_map *find_rodata(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);
		if (bpf_map__is_internal(map) && len >= 7 && strcmp(name + len - 7, ".rodata") == 0)
			return map;
	}
	return NULL;
}

/* Offset and size of a .rodata variable, from the object's BTF datasec. */
static int find_rodata_var(struct bpf_object *obj, const char *name, uint32_t *offset, uint32_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return -ENOENT;
	int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (sec_id < 0)
		return -ENOENT;
	const struct btf_type *sec = btf__type_by_id(btf, sec_id);
	/* clang leaves datasec sizes and offsets at 0 (libbpf fills them during load): the build
	 * links the object with bpftool gen object, which finalizes them. Refuse a raw object
	 * rather than read or write the wrong bytes. */
	if (sec->size == 0)
		return -ENOTSUP;
	const struct btf_var_secinfo *vars = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++) {
		const struct btf_type *var = btf__type_by_id(btf, vars[i].type);
		if (var && strcmp(btf__name_by_offset(btf, var->name_off), name) == 0) {
			*offset = vars[i].offset;
			*size = vars[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

/* Where rodata variable `name` lives in the object's .rodata image; checks that it is `len` bytes. */
struct rodata_slot {
	struct bpf_map *map;
	const uint8_t *image;
	size_t map_size;
	uint32_t offset;
};

static int rodata_slot(struct lanner *l, const char *name, uint32_t len, struct rodata_slot *slot)
{
	uint32_t size;
	int err = find_rodata_var(l->obj, name, &slot->offset, &size);
	if (err)
		return err;
	slot->map = find_rodata(l->obj);
	slot->map_size = 0;
	slot->image = slot->map ? bpf_map__initial_value(slot->map, &slot->map_size) : NULL;
	if (!slot->image)
		return -ENOENT;
	if (len != size || (size_t)slot->offset + size > slot->map_size)
		return -EINVAL;
	return 0;
}

API int32_t lanner_rodata_get(struct lanner *l, const char *name, void *out, uint32_t len)
{
	struct rodata_slot slot;
	int err = rodata_slot(l, name, len, &slot);
	if (err)
		return err;
	memcpy(out, slot.image + slot.offset, len);
	return 0;
}

API int32_t lanner_rodata_set(struct lanner *l, const char *name, const void *value, uint32_t len)
{
	if (l->loaded)
		return -EBUSY; /* rodata is frozen once loaded */
	struct rodata_slot slot;
	int err = rodata_slot(l, name, len, &slot);
	if (err)
		return err;
	uint8_t *patched = malloc(slot.map_size);
	if (!patched)
		return -ENOMEM;
	memcpy(patched, slot.image, slot.map_size);
	memcpy(patched + slot.offset, value, len);
	err = bpf_map__set_initial_value(slot.map, patched, slot.map_size);
	free(patched);
	return err;
}

API void lanner_detach(struct lanner *l)
{
	for (int i = l->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
}

API void lanner_close(struct lanner *l)
{
	if (!l)
		return;
	lanner_detach(l);
	for (uint32_t i = 0; l->rings && i < l->nrings; i++) {
		struct ring *r = &l->rings[i];
		if (r->producer_map)
			munmap(r->producer_map, l->page + 2 * r->bytes);
		if (r->consumer_pos)
			munmap(r->consumer_pos, l->page);
		if (r->owned && r->fd >= 0)
			close(r->fd);
	}
	bpf_object__close(l->obj);
	free(l->obj_copy);
	free(l->percpu);
	free(l->batch_keys);
	free(l->batch_values);
	free(l->rings);
	free(l->ring_of_cpu);
	free(l);
}

API struct lanner *lanner_open(const void *obj, uint64_t obj_len, uint32_t agent_tgid, uint32_t ring_bytes,
			       int32_t *err)
{
	libbpf_set_print(capture_print);
	log_len = 0;
	log_buf[0] = '\0';
	long page = sysconf(_SC_PAGESIZE);
	if (ring_bytes != 0 && ((ring_bytes & (ring_bytes - 1)) != 0 || ring_bytes % page != 0)) {
		*err = -EINVAL;
		return NULL;
	}
	struct lanner *l = calloc(1, sizeof(*l));
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->page = page;
	l->counters_fd = l->selection_fd = l->agent_host_fd = l->open_filter_fd = -1;
	/* libbpf may keep pointers into the ELF image; the caller's buffer belongs to the GC. */
	l->obj_copy = malloc(obj_len);
	if (!l->obj_copy) {
		free(l);
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(l->obj_copy, obj, obj_len);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "lanner");
	l->obj = bpf_object__open_mem(l->obj_copy, obj_len, &opts);
	int rc = libbpf_get_error(l->obj);
	if (rc) {
		l->obj = NULL;
		free(l->obj_copy);
		free(l);
		*err = rc;
		return NULL;
	}
	struct bpf_map *ring = bpf_object__find_map_by_name(l->obj, "events");
	rc = ring ? 0 : -ENOENT;
	if (!rc && ring_bytes != 0)
		rc = bpf_map__set_max_entries(ring, ring_bytes);
	if (!rc)
		l->ring_bytes = bpf_map__max_entries(ring);
	if (!rc)
		rc = lanner_rodata_set(l, "agent_tgid", &agent_tgid, sizeof(agent_tgid));
	/* One scratch record per slot per possible CPU (an object without the map has no use for it). */
	struct bpf_map *scratch = bpf_object__find_map_by_name(l->obj, "scratch");
	int ncpus = libbpf_num_possible_cpus();
	if (!rc && scratch && ncpus <= 0)
		rc = ncpus;
	if (!rc && scratch)
		rc = bpf_map__set_max_entries(scratch, (uint32_t)ncpus * SCRATCH_SLOTS);
	/* Tail programs are loaded but never attached. */
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, l->obj)
	{
		if (strncmp(bpf_program__name(prog), "tail_", 5) == 0)
			bpf_program__set_autoattach(prog, false);
	}
	if (rc) {
		lanner_close(l);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return l;
}

/* Maps a ring the way the kernel exposes it (kernel/bpf/ringbuf.c ringbuf_map_mmap): page 0
 * is the consumer position, writable; from page 1 the producer position page and then the data
 * pages twice in a row, read-only, so a record that wraps is still contiguous. */
static int map_ring(struct lanner *l, struct ring *r, int fd, uint64_t bytes)
{
	r->fd = fd;
	r->bytes = bytes;
	r->mask = bytes - 1;
	void *cons = mmap(NULL, l->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	r->consumer_pos = cons;
	void *prod = mmap(NULL, l->page + 2 * bytes, PROT_READ, MAP_SHARED, fd, l->page);
	if (prod == MAP_FAILED)
		return -errno;
	r->producer_map = prod;
	r->producer_pos = prod;
	r->data = (const uint8_t *)prod + l->page;
	return 0;
}

API int32_t lanner_set_rings(struct lanner *l, const uint32_t *ring_of_cpu, uint32_t ncpus, uint32_t nrings)
{
	if (l->loaded || l->rings)
		return -EBUSY;
	int possible = libbpf_num_possible_cpus();
	if (nrings == 0 || possible <= 0 || ncpus < (uint32_t)possible || nrings > ncpus)
		return -EINVAL;
	for (uint32_t cpu = 0; cpu < ncpus; cpu++)
		if (ring_of_cpu[cpu] >= nrings)
			return -EINVAL;
	struct bpf_map *table = bpf_object__find_map_by_name(l->obj, "rings");
	struct bpf_map *events = bpf_object__find_map_by_name(l->obj, "events");
	if (!table || !events)
		return -ENOENT;
	uint32_t on = 1;
	int rc = bpf_map__set_max_entries(table, ncpus);
	if (!rc)
		rc = lanner_rodata_set(l, "ring_table", &on, sizeof(on));
	/* `events` is not written to any more: one page, never mapped. */
	if (!rc)
		rc = bpf_map__set_max_entries(events, l->page);
	if (rc)
		return rc;
	l->ring_of_cpu = malloc(ncpus * sizeof(uint32_t));
	l->rings = calloc(nrings, sizeof(struct ring));
	if (!l->ring_of_cpu || !l->rings)
		return -ENOMEM;
	memcpy(l->ring_of_cpu, ring_of_cpu, ncpus * sizeof(uint32_t));
	l->ring_cpus = ncpus;
	l->nrings = nrings;
	for (uint32_t i = 0; i < nrings; i++)
		l->rings[i].fd = -1;
	return 0;
}

/* Before load: the ring table's template (the kernel checks every inner map against it). With
 * a table, the rings, all of the open's size, and the first is the template; without, the table
 * stays empty and its template is a one-page ring, closed after load (*spare). */
static int create_rings(struct lanner *l, int *spare)
{
	struct bpf_map *table = bpf_object__find_map_by_name(l->obj, "rings");
	if (!table)
		return l->rings ? -ENOENT : 0; /* an object without the table has the one ring */
	if (!l->rings) {
		*spare = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "lanner_spare", 0, 0, l->page, NULL);
		return *spare < 0 ? -errno : bpf_map__set_inner_map_fd(table, *spare);
	}
	for (uint32_t i = 0; i < l->nrings; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "lanner_ring", 0, 0, l->ring_bytes, NULL);
		if (fd < 0)
			return -errno;
		l->rings[i].fd = fd;
		l->rings[i].owned = true;
	}
	return bpf_map__set_inner_map_fd(table, l->rings[0].fd);
}

/* After load: the table entry of every possible CPU, then every ring mapped. Without a table the
 * one ring is `events`. */
static int map_rings(struct lanner *l)
{
	if (!l->rings) {
		l->rings = calloc(1, sizeof(struct ring));
		if (!l->rings)
			return -ENOMEM;
		l->nrings = 1;
		struct bpf_map *events = bpf_object__find_map_by_name(l->obj, "events");
		return map_ring(l, &l->rings[0], bpf_map__fd(events), bpf_map__max_entries(events));
	}
	int table_fd = bpf_object__find_map_fd_by_name(l->obj, "rings");
	if (table_fd < 0)
		return table_fd;
	for (uint32_t cpu = 0; cpu < l->ring_cpus; cpu++)
		if (bpf_map_update_elem(table_fd, &cpu, &l->rings[l->ring_of_cpu[cpu]].fd, BPF_ANY) != 0)
			return -errno;
	for (uint32_t i = 0; i < l->nrings; i++) {
		int rc = map_ring(l, &l->rings[i], l->rings[i].fd, l->ring_bytes);
		if (rc)
			return rc;
	}
	return 0;
}

/* The verifier gives up with EAGAIN when a signal is pending for the loading thread, and the
 * runtime signals its threads often (its sampling profiler every millisecond, its collector to
 * suspend threads); a big program takes longer to verify than the gap between them on a busy
 * machine, so libbpf's five retries can all fail. Signals wait until the load is done. */
static int load_with_signals_blocked(struct bpf_object *obj)
{
	sigset_t all, before;
	sigfillset(&all);
	int blocked = pthread_sigmask(SIG_BLOCK, &all, &before) == 0;
	int rc = bpf_object__load(obj);
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &before, NULL);
	return rc;
}

API int32_t lanner_load(struct lanner *l)
{
	int spare = -1;
	int rc = create_rings(l, &spare);
	if (!rc)
		rc = load_with_signals_blocked(l->obj);
	if (spare >= 0)
		close(spare);
	if (rc)
		return rc;
	l->loaded = true;
	rc = map_rings(l);
	if (rc)
		return rc;
	int progs_fd = bpf_object__find_map_fd_by_name(l->obj, "progs");
	if (progs_fd < 0)
		return progs_fd;
	for (uint32_t i = 0; i < LANNER_PROGS; i++) {
		struct bpf_program *tail = bpf_object__find_program_by_name(l->obj, TAIL_PROGRAMS[i]);
		int fd = tail ? bpf_program__fd(tail) : -ENOENT;
		if (fd < 0)
			return fd;
		if (bpf_map_update_elem(progs_fd, &i, &fd, BPF_ANY) != 0)
			return -errno;
	}
	l->selection_fd = bpf_object__find_map_fd_by_name(l->obj, "selection");
	l->agent_host_fd = bpf_object__find_map_fd_by_name(l->obj, "agent_host");
	l->open_filter_fd = bpf_object__find_map_fd_by_name(l->obj, "open_filter");
	if (l->selection_fd < 0 || l->agent_host_fd < 0 || l->open_filter_fd < 0)
		return -ENOENT;
	l->counters_fd = bpf_object__find_map_fd_by_name(l->obj, "counters");
	l->ncpus = libbpf_num_possible_cpus();
	if (l->counters_fd < 0 || l->ncpus <= 0)
		return l->counters_fd < 0 ? l->counters_fd : l->ncpus;
	l->percpu = calloc(l->ncpus, sizeof(uint64_t));
	return l->percpu ? 0 : -ENOMEM;
}

API int32_t lanner_attach(struct lanner *l)
{
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, l->obj)
	{
		if (!bpf_program__autoattach(prog))
			continue;
		if (l->nlinks == MAX_LINKS)
			return -E2BIG;
		struct bpf_link *link = bpf_program__attach(prog);
		int rc = libbpf_get_error(link);
		if (rc) {
			snprintf(l->failed_program, sizeof(l->failed_program), "%s", bpf_program__name(prog));
			return rc;
		}
		l->links[l->nlinks++] = link;
	}
	return 0;
}

API int32_t lanner_select(struct lanner *l, const uint32_t *kind_by_nr, uint32_t n)
{
	if (l->selection_fd < 0)
		return -EINVAL; /* not loaded */
	if (n > LANNER_SYSCALL_SLOTS)
		return -E2BIG;
	for (uint32_t nr = 0; nr < n; nr++)
		if (kind_by_nr[nr] >= LANNER_KIND_SLOTS)
			return -EINVAL; /* checked first: a bad table changes nothing */
	for (uint32_t nr = 0; nr < LANNER_SYSCALL_SLOTS; nr++) {
		uint32_t kind = nr < n ? kind_by_nr[nr] : 0;
		if (bpf_map_update_elem(l->selection_fd, &nr, &kind, BPF_ANY) != 0)
			return -errno;
	}
	return 0;
}

API int32_t lanner_open_filter(struct lanner *l, uint32_t index, const uint8_t *value, uint32_t n)
{
	if (l->open_filter_fd < 0)
		return -EINVAL; /* not loaded */
	struct bpf_map *map = bpf_object__find_map_by_name(l->obj, "open_filter");
	if (!map || index > 1 || n != bpf_map__value_size(map))
		return -EINVAL;
	if (bpf_map_update_elem(l->open_filter_fd, &index, value, BPF_ANY) != 0)
		return -errno;
	return 0;
}

API uint32_t lanner_agent_host(struct lanner *l)
{
	uint32_t key = 0, value = 0;
	if (l->agent_host_fd < 0 || bpf_map_lookup_elem(l->agent_host_fd, &key, &value) != 0)
		return 0;
	return value;
}

API int32_t lanner_misses(struct lanner *l, uint64_t *out)
{
	*out = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, l->obj)
	{
		if (!bpf_program__autoattach(prog) || bpf_program__fd(prog) < 0)
			continue;
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0)
			return -errno;
		/* Older kernels fill less of the struct: the field then stays 0. */
		*out += info.recursion_misses;
	}
	return 0;
}

API uint32_t lanner_failed_program(struct lanner *l, char *out, uint32_t cap)
{
	if (cap == 0)
		return 0;
	int n = snprintf(out, cap, "%s", l->failed_program);
	return n < 0 ? 0 : ((uint32_t)n < cap ? (uint32_t)n : cap - 1);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* A MessagePack unsigned int at *off (the encodings the probe's mp_uint writes); false if the
 * bytes are not one. */
static bool read_uint(const uint8_t *p, uint32_t len, uint32_t *off, uint64_t *v)
{
	uint32_t o = *off;
	if (o >= len)
		return false;
	uint8_t tag = p[o];
	uint32_t n = tag < 0x80	   ? 0
		     : tag == 0xcc ? 1
		     : tag == 0xcd ? 2
		     : tag == 0xce ? 4
		     : tag == 0xcf ? 8
				   : 9;
	if (n == 9 || o + 1 + n > len)
		return false;
	uint64_t x = tag < 0x80 ? tag : 0;
	for (uint32_t i = 0; i < n; i++)
		x = x << 8 | p[o + 1 + i];
	*v = x;
	*off = o + 1 + n;
	return true;
}

/* A record's boot-time stamp in ns, from its header [array16, kind, boot_sec, boot_nsec, ...]
 * (docs/EVENTS.md). 0 if unreadable: the record goes out first and the decoder reports it. */
static uint64_t record_ns(const uint8_t *rec, uint32_t len)
{
	uint32_t off = 3;
	uint64_t kind, sec, nsec;
	if (len < 3 || rec[0] != 0xdc || !read_uint(rec, len, &off, &kind) ||
	    !read_uint(rec, len, &off, &sec) || !read_uint(rec, len, &off, &nsec))
		return 0;
	return sec * 1000000000ull + nsec;
}

/* Moves the ring's cursor past discarded records to the next committed one; true if there is one
 * (its size and, if `timed`, its stamp are then in the ring). False when the ring is empty, the
 * next record is still being written (the ones after it wait: order is kept), or its header is
 * impossible (*rc = -EIO: stop rather than read past the mapping). */
static bool ring_head(struct ring *r, bool timed, int32_t *rc)
{
	if (r->head_ready)
		return true;
	for (;;) {
		if (r->cons >= r->prod) {
			r->prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
			if (r->cons >= r->prod)
				return false;
		}
		const struct ringbuf_hdr *hdr = (const void *)(r->data + (r->cons & r->mask));
		uint32_t len = __atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE);
		if (len & RINGBUF_BUSY_BIT)
			return false;
		uint32_t size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
		if (size > r->bytes - RINGBUF_HDR_SZ) {
			*rc = -EIO;
			return false;
		}
		if (!(len & RINGBUF_DISCARD_BIT)) {
			r->head_ns = timed ? record_ns((const uint8_t *)hdr + RINGBUF_HDR_SZ, size) : 0;
			r->head_size = size;
			r->head_ready = true;
			return true;
		}
		r->cons += (size + RINGBUF_HDR_SZ + 7) & ~7u;
	}
}

static uint64_t boot_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Several rings: a k-way merge by timestamp of what they hold, each ring already in order.
 * Guaranteed: if one record was committed before another record's stamp was taken (a fork
 * record, written in the parent before the child can run, and the child's exec), the first comes
 * out first, whichever CPUs wrote them. That holds because only records stamped before `cutoff`
 * (read before the rings) go out: anything committed before such a stamp was committed before
 * the rings were read, so it is seen and its earlier stamp wins the merge; later records wait for
 * the next drain. Not guaranteed (nor with Falco's per-CPU buffers): order against a record
 * stamped but not yet committed on another CPU when the drain ran; it comes out in a later drain,
 * behind records stamped after it. One ring needs no stamps: it is in commit order. */
API int32_t lanner_drain(struct lanner *l, uint8_t *out, uint32_t cap, uint32_t *result)
{
	result[0] = result[1] = 0;
	if (!l->rings || !l->rings[0].consumer_pos)
		return -EINVAL; /* not loaded, or the rings could not be mapped */
	bool timed = l->nrings > 1;
	uint64_t cutoff = timed ? boot_now_ns() : UINT64_MAX;
	/* Only this function moves consumer_pos; acquire on producer_pos orders the header reads. */
	for (uint32_t i = 0; i < l->nrings; i++) {
		struct ring *r = &l->rings[i];
		r->cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
		r->prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		r->head_ready = false;
	}
	uint32_t frames = 0, used = 0;
	int32_t rc = 0;
	for (;;) {
		struct ring *next = NULL;
		for (uint32_t i = 0; i < l->nrings && rc == 0; i++) {
			struct ring *r = &l->rings[i];
			if (ring_head(r, timed, &rc) && r->head_ns <= cutoff &&
			    (!next || r->head_ns < next->head_ns))
				next = r;
		}
		if (rc != 0 || !next)
			break;
		uint32_t next_size = next->head_size;
		if ((uint64_t)cap - used < 4u + next_size) {
			if (frames == 0)
				rc = -E2BIG;
			break;
		}
		put_le32(out + used, next_size);
		memcpy(out + used + 4, next->data + (next->cons & next->mask) + RINGBUF_HDR_SZ, next_size);
		used += 4 + next_size;
		frames++;
		next->cons += (next_size + RINGBUF_HDR_SZ + 7) & ~7u;
		next->head_ready = false;
	}
	/* Release: our reads of the records happen before the producer may reuse their space. */
	for (uint32_t i = 0; i < l->nrings; i++)
		__atomic_store_n(l->rings[i].consumer_pos, l->rings[i].cons, __ATOMIC_RELEASE);
	result[0] = frames;
	result[1] = used;
	return rc;
}

API uint32_t lanner_ring_count(struct lanner *l)
{
	return l->rings && l->rings[0].consumer_pos ? l->nrings : 0;
}

API int32_t lanner_ring_stats(struct lanner *l, uint64_t *out, uint32_t n)
{
	if (!l->percpu || n > lanner_ring_count(l))
		return -EINVAL;
	uint32_t key = LANNER_COUNTER_RING_FULL;
	if (bpf_map_lookup_elem(l->counters_fd, &key, l->percpu) != 0)
		return -errno;
	for (uint32_t i = 0; i < n; i++) {
		struct ring *r = &l->rings[i];
		out[(size_t)2 * i] = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) -
				     __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
		out[2 * i + 1] = 0;
	}
	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		uint32_t ring = l->ring_of_cpu && (uint32_t)cpu < l->ring_cpus ? l->ring_of_cpu[cpu] : 0;
		if (ring < n)
			out[2 * ring + 1] += l->percpu[cpu];
	}
	return 0;
}

/* One counter's total: the sum of its ncpus per-CPU values. */
static uint64_t cpu_sum(const uint64_t *values, int ncpus)
{
	uint64_t sum = 0;
	for (int cpu = 0; cpu < ncpus; cpu++)
		sum += values[cpu];
	return sum;
}

/* Sums key's per-CPU values into out[key]. */
static int counter_at(struct lanner *l, uint32_t key, uint64_t *out)
{
	if (bpf_map_lookup_elem(l->counters_fd, &key, l->percpu) != 0)
		return -errno;
	out[key] = cpu_sum(l->percpu, l->ncpus);
	return 0;
}

/* Every counter in one BPF_MAP_LOOKUP_BATCH (Linux 5.6+): 1 when done, 0 when the kernel has no
 * batch lookup for this map (the caller reads key by key), or -errno. */
static int counters_batch(struct lanner *l, uint64_t *out, uint32_t n)
{
	if (l->batch_unsupported)
		return 0;
	if (!l->batch_keys) {
		l->batch_keys = calloc(LANNER_COUNTERS, sizeof(uint32_t));
		l->batch_values = calloc((size_t)LANNER_COUNTERS * l->ncpus, sizeof(uint64_t));
		if (!l->batch_keys || !l->batch_values)
			return -ENOMEM;
	}
	uint32_t next = 0, count = LANNER_COUNTERS;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int rc = bpf_map_lookup_batch(l->counters_fd, NULL, &next, l->batch_keys, l->batch_values, &count,
				      &opts);
	/* ENOENT: the batch reached the map's end, which a batch as large as the map always does. */
	if (rc != 0 && errno != ENOENT) {
		if (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOTSUPP) {
			l->batch_unsupported = true;
			return 0;
		}
		return -errno;
	}
	if (count != LANNER_COUNTERS)
		return -EIO;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t key = l->batch_keys[i];
		if (key < n)
			out[key] = cpu_sum(&l->batch_values[(size_t)i * l->ncpus], l->ncpus);
	}
	return 1;
}

API int32_t lanner_counters(struct lanner *l, uint64_t *out, uint32_t n)
{
	if (!l->percpu || n > LANNER_COUNTERS)
		return -EINVAL;
	/* The probe bumps `seen` before `written` and a global counter before its per-kind one, so
	 * a global counter read after the ones bumped later never shows written > seen or a kind
	 * above its total. The batch reads keys in ascending order, so the global counters (the
	 * lowest keys) are read again afterwards, last key first: nine system calls, not 264. */
	int batched = counters_batch(l, out, n);
	if (batched < 0)
		return batched;
	uint32_t from = batched ? LANNER_COUNTER_KIND_WRITTEN : LANNER_COUNTERS;
	if (from > n)
		from = n;
	for (uint32_t key = from; key-- > 0;) {
		int rc = counter_at(l, key, out);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

API int32_t lanner_boot_offset(int64_t *out)
{
	struct timespec boot_before, real, boot_after;
	if (clock_gettime(CLOCK_BOOTTIME, &boot_before) || clock_gettime(CLOCK_REALTIME, &real) ||
	    clock_gettime(CLOCK_BOOTTIME, &boot_after))
		return -errno;
	/* The realtime read sits between the two boottime reads: compare with their midpoint. */
	int64_t boot = ns_of(&boot_before) + (ns_of(&boot_after) - ns_of(&boot_before)) / 2;
	int64_t offset = ns_of(&real) - boot;
	int64_t sec = offset / 1000000000, nsec = offset % 1000000000;
	if (nsec < 0) {
		nsec += 1000000000;
		sec -= 1;
	}
	out[0] = sec;
	out[1] = nsec;
	return 0;
}
