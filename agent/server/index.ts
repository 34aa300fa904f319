// The web server's entry module: /healthz, /readyz and /metrics, and the health checks behind them.

export {
  type CaptureStatus,
  captureCheck,
  type HealthCheck,
  type HealthReport,
  type HealthResult,
  type KernelCounters,
  kernelDropCheck,
  runChecks,
  type SinkStatus,
  sinksCheck,
} from "./health.ts";
export { WebServer, type WebServerConfig, WebServerError, type WebServerParts } from "./http.ts";
export { ProcessMetrics } from "./process-metrics.ts";
