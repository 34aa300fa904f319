// The agent assembly's entry module (docs/ARCHITECTURE.md, "The Agent").

export { Agent, type AgentParts, type AgentPhase } from "./agent.ts";
export {
  KERNEL_DROP_RULE,
  type KernelDropSettings,
  KernelDropWatch,
  type KernelDropWatchOptions,
} from "./kernel-drops.ts";
export { AgentClock, type ClockMode } from "./clock.ts";
export type { FrameSink, FrameSource, SourceEnd } from "../capture/index.ts";
export { liveFrameSource } from "./frame-source.ts";
export { type AgentOutputs, type OutputsHealth, agentOutputs } from "./outputs.ts";
export { Pipeline, type PipelineParts, type PipelineStats, type RecordTap } from "./pipeline.ts";
