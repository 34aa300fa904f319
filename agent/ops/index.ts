// The operations folder's entry module: what the run command starts around a running agent
// (signals, hot reload, file watching, periodic metrics, the web server).

export {
  Operations,
  type OperationsParts,
  type PreparedSet,
  RELOAD_REJECTED_RULE,
  RELOADABLE_KEYS,
} from "./operate.ts";
