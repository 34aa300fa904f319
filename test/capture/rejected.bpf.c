/* A probe the kernel verifier must reject, for test/capture/verifier.test.ts: it has what the
 * loader looks for (the ring map, agent_tgid and the pid namespace, schema_version) and one program that
 * reads through a null pointer, which no verifier accepts. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "schema.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 agent_tgid = 0;
const volatile __u64 agent_pidns_dev = 0;
const volatile __u64 agent_pidns_ino = 0;
const volatile __u32 schema_version = LANNER_SCHEMA_VERSION;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} events SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(rejected_by_verifier, struct pt_regs *regs, long ret)
{
	volatile int *nowhere = 0;
	return *nowhere;
}
