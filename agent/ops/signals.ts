// What each signal does (documented in docs/OPERATIONS.md):
//   SIGHUP   reload configuration and rules (dry run first; on failure the running set stays)
//   SIGUSR1  reopen the output files (after logrotate moved them)
//   SIGUSR2  log a stats and state summary, keep running
//   SIGTERM, SIGINT   stop: drain what the kernel holds, deliver queued alerts, exit 0
//   SIGQUIT  the same as SIGTERM (logged as such), never a core dump

export interface SignalActions {
  reload(trigger: string): void;
  reopen(): void;
  dump(): void;
  stop(signal: string): void;
}

export const SIGNAL_ACTIONS = {
  SIGHUP: "reload configuration and rules",
  SIGUSR1: "reopen output files",
  SIGUSR2: "log a stats and state summary",
  SIGTERM: "stop after draining and delivering",
  SIGINT: "stop after draining and delivering",
  SIGQUIT: "stop after draining and delivering (as SIGTERM)",
} as const;

export type HandledSignal = keyof typeof SIGNAL_ACTIONS;

/** Installs a handler for each signal above; returns the function that removes them. */
export function installSignals(actions: SignalActions): () => void {
  const handlers: Record<HandledSignal, () => void> = {
    SIGHUP: () => actions.reload("SIGHUP"),
    SIGUSR1: () => actions.reopen(),
    SIGUSR2: () => actions.dump(),
    SIGTERM: () => actions.stop("SIGTERM"),
    SIGINT: () => actions.stop("SIGINT"),
    SIGQUIT: () => actions.stop("SIGQUIT"),
  };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of Object.entries(handlers)) process.off(signal, handler);
  };
}
