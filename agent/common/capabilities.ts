// Linux capability numbers and names (include/uapi/linux/capability.h), one table for the state
// (thread.cap_*, privileged containers) and the agent's own privilege drop; and the text form Falco
// gives thread.cap_*: the names of the set bits, lowest first, separated by spaces.

const CAPABILITY_NAMES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Every capability this table names, as a mask (what "all capabilities" means for a privileged container). */
export const ALL_CAPABILITIES = (1n << BigInt(CAPABILITY_NAMES.length)) - 1n;

/** The bit of a capability name ("CAP_SYS_ADMIN" or "SYS_ADMIN"), or undefined if unknown. */
export function capabilityBit(name: string): number | undefined {
  const full = name.startsWith("CAP_") ? name : `CAP_${name}`;
  const i = CAPABILITY_NAMES.indexOf(full.toUpperCase());
  return i < 0 ? undefined : i;
}

/** A /proc status mask ("000001ffffffffff") as a number of bits; undefined if it is not hex. */
export function parseCapabilityMask(hex: string): bigint | undefined {
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

/** Names of the set bits, lowest first, space separated; unnamed bits as CAP_<n>. */
export function renderCapabilities(mask: bigint): string {
  const out: string[] = [];
  for (let bit = 0; mask >> BigInt(bit) !== 0n && bit < 64; bit++) {
    if (((mask >> BigInt(bit)) & 1n) === 1n) out.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return out.join(" ");
}
