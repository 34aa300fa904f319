// The default configuration and rules, embedded in the executable so `lanner run` works with no files.

import defaultConfigText from "./default.yaml" with { type: "text" };
import defaultRulesText from "../../rules/lanner_rules.yaml" with { type: "text" };

export const DEFAULT_CONFIG = { name: "<embedded default config>", text: defaultConfigText };
export const DEFAULT_RULES = {
  name: "<embedded default rules: rules/lanner_rules.yaml>",
  text: defaultRulesText,
};
