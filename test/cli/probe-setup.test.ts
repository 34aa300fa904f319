// How `run` sets the kernel prefilter from its engine and configuration (agent/cli/probe-setup.ts):
// engine.prefilter on derives it from the active rules (append_output's fields included), off
// drops nothing; the probe opened with it logs what it records.
import { describe, expect, test } from "bun:test";
import { liveUnavailable } from "../capture/live-support.ts";
import { buildEngine } from "../../agent/cli/assemble.ts";
import {
  captureSelection,
  enginePrefilter,
  openProbe,
  selectionLogFields,
} from "../../agent/cli/probe-setup.ts";
import { loadCliConfig } from "../../agent/cli/setup.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";

const RULES = {
  name: "r.yaml",
  text: [
    "- rule: Etc writes",
    "  desc: d",
    "  condition: evt.type = openat and evt.is_open_write = true and fd.name startswith /etc/",
    "  output: w %proc.name",
    "  priority: WARNING",
    "- rule: Closes by cat",
    "  desc: d",
    "  condition: evt.type = close and proc.name = cat",
    "  output: c %proc.name",
    "  priority: WARNING",
  ].join("\n"),
};

const engineFor = (overrides: string[]) => {
  const config = loadCliConfig(undefined, overrides);
  const loaded = loadRuleSources([RULES]);
  expect(loaded.diagnostics.errorCount).toBe(0);
  return { config, engine: buildEngine(loaded, config) };
};

describe("enginePrefilter", () => {
  test("on: derived from the active rules; a rule on close keeps closes", () => {
    const { config, engine } = engineFor([]);
    // The close rule's output has no fd field: it needs no open.
    expect(enginePrefilter(engine, config)).toEqual({ close: false, open: [{ need: 2, prefix: "/etc/" }] });
  });

  test("append_output's fields count: %fd.name on every rule makes the close rule need every open", () => {
    const { config, engine } = engineFor(['append_output=[{"extra_output": "file=%fd.name"}]']);
    expect(enginePrefilter(engine, config)).toEqual({ close: false, open: "all" });
  });

  test("engine.prefilter=false: nothing dropped", () => {
    const { config, engine } = engineFor(["engine.prefilter=false"]);
    expect(enginePrefilter(engine, config)).toEqual({ close: false, open: "all" });
  });
});

describe.skipIf(liveUnavailable !== null)("openProbe with the prefilter, live", () => {
  test("the log fields name the selection and both prefilters", () => {
    const { config, engine } = engineFor([]);
    const probe = openProbe(config, captureSelection(engine.eventTypes()), enginePrefilter(engine, config));
    try {
      const fields = selectionLogFields(probe);
      expect(fields.close_prefilter).toBe(false);
      expect(fields.open_prefilter).toBe("write /etc/");
      expect(String(fields.selected).split(",")).toContain("openat");
      expect(fields.kinds).toBe(probe.selection().length);
      probe.setSelection(probe.selection());
      expect(selectionLogFields(probe).open_prefilter).toBe("off");
    } finally {
      probe.stop();
    }
  }, 60_000);
});
