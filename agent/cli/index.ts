// The command line's entry module. Only the dispatcher: each command's module is loaded when that
// command runs (dispatch.ts), so `lanner version` does not load the agent.

export { runCli } from "./dispatch.ts";
