/* liblanner.so: the FFI shim between the agent (bun:ffi) and libbpf.
 *
 * Plain C ABI, integers and pointers only, so bun:ffi can call it without glue:
 *
 *   struct lanner *lanner_open(const void *obj, uint64_t obj_len, uint32_t agent_tgid,
 *                              uint32_t ring_bytes, int32_t *err);
 *       Opens the probe object from memory (copied), sets the agent_tgid rodata variable and the
 *       ring size (0 = the object's default; else a power of two and a page multiple).
 *       NULL and *err = -errno on failure.
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
 *       Copies whole records from the ring into out as frames [u32 LE length][record], oldest
 *       first, and stops before the first record that does not fit, leaving it in the ring.
 *       result[0] = frames, result[1] = bytes. 0, or -E2BIG if cap cannot hold even the first,
 *       or -EIO if a record header is impossible (the frames before it are still returned).
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
static const char *const TAIL_PROGRAMS[LANNER_PROGS] = { "tail_generic", "tail_sock", "tail_open", "tail_exec" };
/* Scratch slots per CPU in the probe (enum scratch_slot). */
#define SCRATCH_SLOTS 4
#define LOG_CAP (64 * 1024)

struct lanner {
	struct bpf_object *obj;
	void *obj_copy;
	bool loaded;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	char failed_program[64];
	/* The ring, mapped after load: consumer page RW, producer page + data (twice) RO. */
	size_t page;
	uint64_t ring_bytes;
	uint64_t mask;
	uint64_t *consumer_pos;
	const uint64_t *producer_pos;
	const uint8_t *data;
	void *producer_map;
	int counters_fd;
	int selection_fd;
	int agent_host_fd;
	int open_filter_fd;
	int ncpus;
	uint64_t *percpu;
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
	if (l->producer_map)
		munmap(l->producer_map, l->page + 2 * l->ring_bytes);
	if (l->consumer_pos)
		munmap(l->consumer_pos, l->page);
	bpf_object__close(l->obj);
	free(l->obj_copy);
	free(l->percpu);
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

/* Maps the ring the way the kernel exposes it (kernel/bpf/ringbuf.c ringbuf_map_mmap): page 0
 * is the consumer position, writable; from page 1 the producer position page and then the data
 * pages twice in a row, read-only, so a record that wraps is still contiguous. */
static int map_ring(struct lanner *l)
{
	struct bpf_map *ring = bpf_object__find_map_by_name(l->obj, "events");
	int fd = bpf_map__fd(ring);
	l->ring_bytes = bpf_map__max_entries(ring);
	l->mask = l->ring_bytes - 1;
	void *cons = mmap(NULL, l->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	l->consumer_pos = cons;
	void *prod = mmap(NULL, l->page + 2 * l->ring_bytes, PROT_READ, MAP_SHARED, fd, l->page);
	if (prod == MAP_FAILED)
		return -errno;
	l->producer_map = prod;
	l->producer_pos = prod;
	l->data = (const uint8_t *)prod + l->page;
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
	int rc = load_with_signals_blocked(l->obj);
	if (rc)
		return rc;
	l->loaded = true;
	rc = map_ring(l);
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

API int32_t lanner_drain(struct lanner *l, uint8_t *out, uint32_t cap, uint32_t *result)
{
	result[0] = result[1] = 0;
	if (!l->consumer_pos || !l->producer_pos)
		return -EINVAL; /* not loaded, or the ring could not be mapped */
	/* Only this function moves consumer_pos; acquire on producer_pos orders the header reads. */
	uint64_t cons = __atomic_load_n(l->consumer_pos, __ATOMIC_RELAXED);
	uint64_t prod = __atomic_load_n(l->producer_pos, __ATOMIC_ACQUIRE);
	uint32_t frames = 0, used = 0;
	int32_t rc = 0;
	while (cons < prod) {
		const struct ringbuf_hdr *hdr = (const void *)(l->data + (cons & l->mask));
		uint32_t len = __atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE);
		if (len & RINGBUF_BUSY_BIT)
			break; /* still being written; records after it wait, order is kept */
		uint32_t size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
		if (size > l->ring_bytes - RINGBUF_HDR_SZ) {
			rc = -EIO; /* a header no kernel writes: stop rather than read past the mapping */
			break;
		}
		if (!(len & RINGBUF_DISCARD_BIT)) {
			if ((uint64_t)cap - used < 4u + size) {
				if (frames == 0)
					rc = -E2BIG;
				break;
			}
			put_le32(out + used, size);
			memcpy(out + used + 4, (const uint8_t *)hdr + RINGBUF_HDR_SZ, size);
			used += 4 + size;
			frames++;
		}
		cons += (size + RINGBUF_HDR_SZ + 7) & ~7u;
		if (cons == prod)
			prod = __atomic_load_n(l->producer_pos, __ATOMIC_ACQUIRE);
	}
	/* Release: our reads of the records happen before the producer may reuse their space. */
	__atomic_store_n(l->consumer_pos, cons, __ATOMIC_RELEASE);
	result[0] = frames;
	result[1] = used;
	return rc;
}

API int32_t lanner_counters(struct lanner *l, uint64_t *out, uint32_t n)
{
	if (!l->percpu || n > LANNER_COUNTERS)
		return -EINVAL;
	for (uint32_t key = 0; key < n; key++) {
		if (bpf_map_lookup_elem(l->counters_fd, &key, l->percpu) != 0)
			return -errno;
		uint64_t sum = 0;
		for (int cpu = 0; cpu < l->ncpus; cpu++)
			sum += l->percpu[cpu];
		out[key] = sum;
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
