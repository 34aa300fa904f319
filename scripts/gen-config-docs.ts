// Writes docs/CONFIG.md from the configuration schema: bun scripts/gen-config-docs.ts
import { configReference } from "../agent/config/reference.ts";

await Bun.write(`${import.meta.dir}/../docs/CONFIG.md`, configReference());
console.log("wrote docs/CONFIG.md");
