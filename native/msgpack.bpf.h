/* MessagePack encoders for the probe: each writes one value into a per-CPU scratch buffer
 * at `off` and returns the offset after it. Offsets are tracked unmasked (so the caller can
 * see a record that grew past LANNER_RECORD_MAX and drop it) but every access is masked, which
 * is what lets the verifier prove the writes stay inside the map value.
 * MessagePack is big-endian: multi-byte lengths and integers are written byte by byte. */
#ifndef LANNER_MSGPACK_BPF_H
#define LANNER_MSGPACK_BPF_H

#include "schema.h"

#define MP_MASK (LANNER_RECORD_MAX - 1)
/* Room past the mask for the widest single write as the verifier sees it: a 3-byte header and
 * a read of up to 2 * bound - 1 bytes (mp_bin_user's mask) or bound + 2 (mp_str). */
#define MP_SCRATCH_BYTES (LANNER_RECORD_MAX + 8192 + 64)
/* Slots past anything a masked write reaches: the settled offset and the record's cut mask. */
#define MP_SETTLE_SLOT (MP_SCRATCH_BYTES - 8)
#define MP_CUT_SLOT (MP_SCRATCH_BYTES - 16)
#define MP_WALK_SLOT (MP_SCRATCH_BYTES - 24)

/* Format bytes (MessagePack spec). */
#define MP_FIXARRAY 0x90
#define MP_ARRAY16 0xdc
#define MP_STR16 0xda
#define MP_BIN16 0xc5
#define MP_UINT8 0xcc
#define MP_UINT16 0xcd
#define MP_UINT32 0xce
#define MP_UINT64 0xcf
#define MP_INT64 0xd3
#define MP_NIL 0xc0
#define MP_INT8 0xd0
#define MP_INT16 0xd1
#define MP_INT32 0xd2

/* Returns `off` as a value the verifier cannot know exactly: it reads it back from map memory,
 * which the verifier does not track. Every branch of an encoder then ends in the same verifier
 * state (offset: unknown, masked on use), so the verifier prunes instead of exploring the product
 * of all encoders' branches (which exceeds its 1M instruction budget). The slot lies past
 * anything a masked write can reach. */
static __always_inline __u32 mp_settle(__u8 *buf, __u32 off)
{
	volatile __u32 *slot = (volatile __u32 *)(buf + MP_SETTLE_SLOT);
	*slot = off;
	return *slot;
}

static __always_inline __u8 *mp_at(__u8 *buf, __u32 off)
{
	return buf + (off & MP_MASK);
}

static __always_inline void mp_be16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __always_inline void mp_be32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* The includer may count unreadable memory (a fault, not a drop: the value is sent empty). */
#ifndef MP_ON_FAULT
#define MP_ON_FAULT()
#endif

/* array16 header at `off`, returning the offset after it. */
static __always_inline __u32 mp_array16(__u8 *buf, __u32 off, __u16 n)
{
	__u8 *p = mp_at(buf, off);
	p[0] = MP_ARRAY16;
	mp_be16(p + 1, n);
	return off + 3;
}

static __always_inline __u32 mp_nil(__u8 *buf, __u32 off)
{
	*mp_at(buf, off) = MP_NIL;
	return mp_settle(buf, off + 1);
}

/* array16 header, written in place once the element count is known. */
static __always_inline void mp_array16_at(__u8 *buf, __u32 off, __u16 n)
{
	__u8 *p = mp_at(buf, off);
	p[0] = MP_ARRAY16;
	mp_be16(p + 1, n);
}

/* Smallest unsigned encoding: positive fixint, uint8, uint16 or uint32 (never uint64). */
static __always_inline __u32 mp_uint(__u8 *buf, __u32 off, __u32 v)
{
	__u8 *p = mp_at(buf, off);
	if (v < 0x80) {
		p[0] = v;
		return mp_settle(buf, off + 1);
	}
	if (v <= 0xff) {
		p[0] = MP_UINT8;
		p[1] = v;
		return mp_settle(buf, off + 2);
	}
	if (v <= 0xffff) {
		p[0] = MP_UINT16;
		mp_be16(p + 1, v);
		return mp_settle(buf, off + 3);
	}
	p[0] = MP_UINT32;
	mp_be32(p + 1, v);
	return mp_settle(buf, off + 5);
}

/* Smallest encoding of a 64-bit unsigned value: mp_uint below 2^32, else uint64. */
static __always_inline __u32 mp_uint64(__u8 *buf, __u32 off, __u64 v)
{
	if (v <= 0xffffffffull)
		return mp_uint(buf, off, (__u32)v);
	__u8 *p = mp_at(buf, off);
	p[0] = MP_UINT64;
	mp_be32(p + 1, v >> 32);
	mp_be32(p + 5, (__u32)v);
	return mp_settle(buf, off + 9);
}

/* Smallest signed encoding of a 64-bit value: mp_int within int32, else int64. */
static __always_inline __u32 mp_int64(__u8 *buf, __u32 off, __s64 v);

/* Smallest signed encoding: non-negative values as mp_uint, else negative fixint, int8/16/32. */
static __always_inline __u32 mp_int(__u8 *buf, __u32 off, __s32 v)
{
	if (v >= 0)
		return mp_uint(buf, off, v);
	__u8 *p = mp_at(buf, off);
	if (v >= -32) {
		p[0] = (__u8)v;
		return mp_settle(buf, off + 1);
	}
	if (v >= -128) {
		p[0] = MP_INT8;
		p[1] = (__u8)v;
		return mp_settle(buf, off + 2);
	}
	if (v >= -32768) {
		p[0] = MP_INT16;
		mp_be16(p + 1, (__u16)v);
		return mp_settle(buf, off + 3);
	}
	p[0] = MP_INT32;
	mp_be32(p + 1, (__u32)v);
	return mp_settle(buf, off + 5);
}

static __always_inline __u32 mp_int64(__u8 *buf, __u32 off, __s64 v)
{
	if (v >= -2147483648ll && v <= 2147483647ll)
		return mp_int(buf, off, (__s32)v);
	if (v > 0)
		return mp_uint64(buf, off, v);
	__u8 *p = mp_at(buf, off);
	p[0] = MP_INT64;
	mp_be32(p + 1, (__u64)v >> 32);
	mp_be32(p + 5, (__u32)v);
	return mp_settle(buf, off + 9);
}

/* bin16 of exactly `size` bytes of kernel memory (an address); zeros if unreadable. */
static __always_inline __u32 mp_bin_kernel(__u8 *buf, __u32 off, const void *src, __u32 size)
{
	__u8 *p = mp_at(buf, off);
	p[0] = MP_BIN16;
	mp_be16(p + 1, size);
	if (bpf_probe_read_kernel(p + 3, size & 31, src) != 0)
		MP_ON_FAULT();
	return mp_settle(buf, off + 3 + size);
}

/* str16 of a NUL-terminated string at `src` (user or kernel memory), at most `bound` bytes.
 * Reads bound + 2 bytes so that a string of exactly `bound` bytes (read returns bound + 1,
 * NUL included) is told apart from a longer one (read fills all bound + 2): only the latter
 * sets *cut. Unreadable memory gives an empty string. The length is patched after the read. */
static __always_inline __u32 mp_str(__u8 *buf, __u32 off, const void *src, __u32 bound, bool user, bool *cut)
{
	__u8 *p = mp_at(buf, off);
	long n = user ? bpf_probe_read_user_str(p + 3, bound + 2, src)
		      : bpf_probe_read_kernel_str(p + 3, bound + 2, src);
	if (n < 0)
		MP_ON_FAULT();
	__u32 len = n > 0 ? n - 1 : 0;
	if (len > bound) {
		len = bound;
		*cut = true;
	}
	p[0] = MP_STR16;
	mp_be16(p + 1, len);
	return mp_settle(buf, off + 3 + len);
}

/* bin16 of `size` bytes of user memory at `src`, at most `bound` bytes. */
static __always_inline __u32 mp_bin_user(__u8 *buf, __u32 off, const void *src, __u64 size, __u32 bound,
					 bool *cut)
{
	__u8 *p = mp_at(buf, off);
	if (size > bound) {
		size = bound;
		*cut = true;
	}
	/* Re-bound with a mask the verifier tracks (clang may turn the clamp above into a select). */
	size &= (2 * bound - 1);
	if (size > 0 && bpf_probe_read_user(p + 3, size, src) != 0) {
		MP_ON_FAULT();
		size = 0;
	}
	p[0] = MP_BIN16;
	mp_be16(p + 1, size);
	return mp_settle(buf, off + 3 + size);
}

/* bin16 of a user argv array's strings, each with its NUL, laid out as the kernel lays out
 * mm->arg_start..arg_end: at most `bound` bytes (a power of two) and LANNER_ARGV_STRINGS_MAX
 * strings; a string cut by the bound, or strings past the count, set *cut. A failed exec's
 * attempted arguments, read from the caller's memory at the syscall's exit. */
static __always_inline __u32 mp_argv_user(__u8 *buf, __u32 off, const char *const *argv, __u32 bound,
					  bool *cut)
{
	__u8 *p = mp_at(buf, off);
	__u32 size = 0;
	for (__u32 i = 0; argv && i <= LANNER_ARGV_STRINGS_MAX; i++) {
		const char *s = NULL;
		if (bpf_probe_read_user(&s, sizeof(s), &argv[i]) != 0) {
			MP_ON_FAULT();
			break;
		}
		if (!s)
			break;
		if (i == LANNER_ARGV_STRINGS_MAX || size >= bound) {
			*cut = true;
			break;
		}
		/* Masked so the verifier knows the write's bounds (size < bound here, so the mask
		 * changes nothing): at most bound - 1 bytes in all. */
		__u32 room = bound - 1 - size;
		barrier_var(room); /* keeps clang from dropping the mask as redundant */
		room &= bound - 1;
		if (room == 0) {
			*cut = true;
			break;
		}
		long n = bpf_probe_read_user_str(mp_at(buf, off + 3 + size), room, s);
		if (n <= 0) {
			MP_ON_FAULT();
			break;
		}
		size += n;
		if ((__u32)n == room) {
			*cut = true; /* the string filled the room: it may have been cut */
			break;
		}
	}
	size &= (2 * bound - 1);
	p[0] = MP_BIN16;
	mp_be16(p + 1, size);
	return mp_settle(buf, off + 3 + size);
}

#endif
