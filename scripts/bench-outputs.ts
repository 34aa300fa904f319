// Alert delivery throughput and memory: alerts/s to the file sink, to an HTTP collector (one alert
// per POST and batched JSON arrays) and to an OTLP/HTTP receiver, each measured from the first
// publish until the sink reports every alert delivered. The collector runs in its own process (so
// it does not share this event loop). Then a collector outage with the spool on: alerts published
// at a steady rate while nothing listens, RSS sampled, then the collector returns and the backlog
// drains; prints the RSS range and whether every alert arrived.
//
//   node_modules/.bin/bun scripts/bench-outputs.ts [--alerts N] [--outage-seconds S] [--rate R]
//       [--only-outage] [--gc-every S] [--json]
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../agent/log.ts";
import { type Alert, createOutputs, defaultOutputSettings, type Outputs } from "../agent/outputs/index.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = arg("--alerts", 200_000);
const OUTAGE_S = arg("--outage-seconds", 60);
const RATE = arg("--rate", 1000);
const asJson = args.includes("--json");
const onlyOutage = args.includes("--only-outage");
/** Seconds between forced full collections during the outage (0 = never, to see RSS as it comes). */
const GC_EVERY = arg("--gc-every", 10);
const dir = mkdtempSync(join(tmpdir(), "lanner-bench-outputs-"));
const log = new Logger("error", true, 2);

function alert(i: number): Alert {
  return {
    time: { sec: 1_700_000_000 + Math.floor(i / 1000), nsec: (i % 1000) * 1000 },
    rule: "Read sensitive file untrusted",
    priority: "Warning",
    message: `Sensitive file opened for reading by non-trusted program (file=/etc/shadow gparent=systemd ggparent=<NA> ggggparent=<NA> evt_type=openat user=root user_uid=0 user_loginuid=-1 process=cat proc_exepath=/usr/bin/cat parent=bash command=cat /etc/shadow terminal=34816 container_id=host container_name=host) seq=${i}`,
    outputFields: {
      "container.id": "host",
      "evt.type": "openat",
      "fd.name": "/etc/shadow",
      "proc.cmdline": "cat /etc/shadow",
      "proc.exepath": "/usr/bin/cat",
      "proc.name": "cat",
      "proc.pid": 4242n,
      "proc.pname": "bash",
      "user.name": "root",
      "user.uid": 0,
      seq: i,
    },
    source: "syscall",
    tags: ["T1555", "container", "filesystem", "host", "maturity_stable", "mitre_credential_access"],
    hostname: "node-1",
  };
}

/** A collector in its own process: counts alerts (one object, a JSON array, or OTLP resourceLogs). */
const COLLECTOR = `
let alerts = 0;
const server = Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2] ?? 0), async fetch(req) {
  if (new URL(req.url).pathname === "/count") return new Response(String(alerts));
  let raw = new Uint8Array(await req.arrayBuffer());
  if (req.headers.get("content-encoding") === "gzip") raw = Bun.gunzipSync(raw);
  const body = JSON.parse(new TextDecoder().decode(raw));
  alerts += Array.isArray(body) ? body.length : body.resourceLogs ? body.resourceLogs.length : 1;
  return new Response("ok");
}});
console.log(server.port);
`;

async function startCollector(
  port = 0,
): Promise<{ port: number; count: () => Promise<number>; stop: () => void }> {
  const proc = Bun.spawn([process.execPath, "-e", COLLECTOR, "collector", String(port)], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  const p = Number(new TextDecoder().decode(value).trim());
  return {
    port: p,
    count: async () => Number(await (await fetch(`http://127.0.0.1:${p}/count`)).text()),
    stop: () => proc.kill(),
  };
}

async function drained(out: Outputs, total: number): Promise<void> {
  for (;;) {
    const s = out.stats()[0];
    if (s !== undefined && s.delivered + Object.values(s.dropped).reduce((a, b) => a + b, 0) >= total) return;
    await Bun.sleep(2);
  }
}

/** Publishes `total` alerts, 1,000 per macrotask (as the pipeline hands over drain batches). */
async function publishAll(out: Outputs, total: number): Promise<void> {
  for (let i = 0; i < total; i++) {
    out.publish(alert(i));
    if ((i + 1) % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
}

interface Row {
  sink: string;
  alerts: number;
  seconds: number;
  perSecond: number;
  dropped: number;
}

async function measure(name: string, settings: Record<string, unknown>, total: number): Promise<Row> {
  const out = createOutputs(defaultOutputSettings({ stdout_output: { enabled: false }, ...settings }), {
    log,
    hostname: "node-1",
  });
  const t0 = performance.now();
  await publishAll(out, total);
  await drained(out, total);
  const seconds = (performance.now() - t0) / 1000;
  const s = out.stats()[0];
  await out.shutdown(1000);
  const dropped = s === undefined ? 0 : Object.values(s.dropped).reduce((a, b) => a + b, 0);
  return { sink: name, alerts: total, seconds, perSecond: Math.round(total / seconds), dropped };
}

const rows: Row[] = [];
if (!onlyOutage) await throughput();

async function throughput(): Promise<void> {
  rows.push(
    await measure("file (JSON lines)", { file_output: { enabled: true, filename: join(dir, "a.jsonl") } }, N),
  );
  const c = await startCollector();
  const url = `http://127.0.0.1:${c.port}/`;
  const big = { outputs_queue: { capacity: N, max_bytes: 1 << 30 } };
  rows.push(
    await measure(
      "http, one alert per POST",
      { http_output: { enabled: true, url }, ...big },
      Math.min(N, 20_000),
    ),
  );
  rows.push(
    await measure(
      "http, JSON array batches of 500",
      { http_output: { enabled: true, url, batch: { mode: "json_array", max_alerts: 500 } }, ...big },
      N,
    ),
  );
  rows.push(
    await measure(
      "http, JSON array batches of 500, gzip",
      {
        http_output: {
          enabled: true,
          url,
          compress_uploads: true,
          batch: { mode: "json_array", max_alerts: 500 },
        },
        ...big,
      },
      N,
    ),
  );
  rows.push(
    await measure(
      "otlp (JSON), batches of 500",
      { otlp_output: { enabled: true, url: `${url}v1/logs` }, ...big },
      N,
    ),
  );
  c.stop();
}

// The outage: nothing listens on the port for OUTAGE_S seconds at RATE alerts/s, spool on.
const probe = await startCollector(); // learn a free port, then free it
const port = probe.port;
probe.stop();
await Bun.sleep(200);
const spoolDir = join(dir, "spool");
const outage = createOutputs(
  defaultOutputSettings({
    stdout_output: { enabled: false },
    http_output: {
      enabled: true,
      url: `http://127.0.0.1:${port}/`,
      batch: { mode: "json_array", max_alerts: 500 },
      retry: { max_backoff_ms: 2000 },
      spool: { dir: spoolDir, max_bytes: 1 << 30 },
    },
  }),
  { log, hostname: "node-1" },
);
const rss: number[] = [];
const heap: number[] = [];
let published = 0;
const tStart = performance.now();
let nextSample = 0;
while (performance.now() - tStart < OUTAGE_S * 1000) {
  const elapsed = (performance.now() - tStart) / 1000;
  const due = Math.floor(elapsed * RATE);
  while (published < due) outage.publish(alert(published++));
  if (elapsed >= nextSample) {
    rss.push(process.memoryUsage().rss);
    nextSample += 1;
    // Every 10 s: the live heap after a full collection (RSS alone includes garbage not yet collected).
    if (GC_EVERY > 0 && rss.length % GC_EVERY === 1) {
      Bun.gc(true);
      heap.push(process.memoryUsage().heapUsed);
    }
  }
  await Bun.sleep(10);
}
const spoolBytes = outage.metrics().find((m) => m.name === "output_spool_bytes")?.value ?? 0;
const back = await startCollector(port);
const tBack = performance.now();
await drained(outage, published);
const drainSeconds = (performance.now() - tBack) / 1000;
const arrived = await back.count();
rss.push(process.memoryUsage().rss);
await outage.shutdown(1000);
back.stop();
rmSync(dir, { recursive: true, force: true });

const mib = (b: number) => (b / 1048576).toFixed(1);
const result = {
  throughput: rows,
  outage: {
    seconds: OUTAGE_S,
    rate: RATE,
    published,
    spoolBytesAtEnd: spoolBytes,
    rssMinMiB: Number(mib(Math.min(...rss))),
    rssMaxMiB: Number(mib(Math.max(...rss))),
    rssSamples: rss.length,
    heapAfterGcMiB: heap.map((h) => Number(mib(h))),
    rssFirstMiB: Number(mib(rss[0] ?? 0)),
    rssLastMiB: Number(mib(rss[rss.length - 2] ?? 0)),
    drainSeconds: Number(drainSeconds.toFixed(2)),
    arrived,
    lost: published - arrived,
  },
};
if (asJson) console.log(JSON.stringify(result, null, 2));
else {
  for (const r of rows)
    console.log(
      `${r.sink.padEnd(40)} ${String(r.alerts).padStart(7)} alerts ${r.seconds.toFixed(2).padStart(6)} s ${String(r.perSecond).padStart(8)} alerts/s dropped ${r.dropped}`,
    );
  const o = result.outage;
  console.log(
    `outage ${o.seconds} s at ${o.rate}/s: ${o.published} published, spool ${mib(o.spoolBytesAtEnd)} MiB, RSS ${o.rssMinMiB}-${o.rssMaxMiB} MiB (${o.rssSamples} samples, first ${o.rssFirstMiB}, last ${o.rssLastMiB}), heap after GC every 10 s: ${o.heapAfterGcMiB.join(" ")} MiB; back: drained in ${o.drainSeconds} s, arrived ${o.arrived}, lost ${o.lost}`,
  );
}
