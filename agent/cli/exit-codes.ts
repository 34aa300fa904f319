// Exit codes of every subcommand.
export const EXIT_OK = 0;
/** Invalid rules or configuration, or a rule test that failed. */
export const EXIT_INVALID = 1;
/** Environment (no BPF, not root, a file that cannot be opened) or usage. */
export const EXIT_ENVIRONMENT = 2;
/** `run` stopped itself because the kernel dropped events (syscall_event_drops action exit). */
export const EXIT_KERNEL_DROPS = 3;
