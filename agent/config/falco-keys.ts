// Falco's configuration keys, as data: every key path of Falco's configuration schema
// (userspace/falco/config_json_schema.h) with the value Falco's shipped falco.yaml gives it, both
// read from the Falco release named below (null: falco.yaml leaves the key commented out;
// container_engines, which 0.44's falco.yaml no longer lists, carry the values Falco's own
// configuration code defaulted them to before its container plugin). The
// loader uses it to tell a Falco key Lanner does not implement (one warning, ignored) from a key
// nobody knows (an error with the nearest valid key); docs/CONFIG.md lists it; a test builds a
// config from every path. Whether Lanner implements a key is not stored here: it is whether the
// zod schema (schema.ts) has it.

export const FALCO_CONFIG_VERSION = "0.44.1";

export type FalcoValue = string | number | boolean | null | FalcoValue[] | { [key: string]: FalcoValue };

/** Keys Falco still reads but no longer documents in its schema. */
export const FALCO_DEPRECATED_KEYS: Readonly<Record<string, string>> = {
  rules_file: "rules_files",
};

export const FALCO_KEYS: readonly (readonly [path: string, falcoDefault: FalcoValue])[] = [
  ["append_output", [{ suggested_output: true }]],
  ["static_fields", {}],
  ["config_files", ["/etc/falco/config.d"]],
  ["watch_config_files", true],
  ["plugins_hostinfo", true],
  ["rules_files", ["/etc/falco/falco_rules.yaml", "/etc/falco/falco_rules.local.yaml", "/etc/falco/rules.d"]],
  ["rule_files", []],
  ["rules", []],
  ["engine.kind", "modern_ebpf"],
  ["engine.kmod.buf_size_preset", 4],
  ["engine.kmod.drop_failed_exit", false],
  ["engine.modern_ebpf.cpus_for_each_buffer", 2],
  ["engine.modern_ebpf.buf_size_preset", 4],
  ["engine.modern_ebpf.drop_failed_exit", false],
  ["engine.modern_ebpf.disable_iterators", false],
  ["engine.replay.capture_file", ""],
  ["capture.enabled", false],
  ["capture.path_prefix", "/tmp/falco"],
  ["capture.mode", "rules"],
  ["capture.default_duration", 5000],
  ["capture.max_file_size_mb", null],
  ["load_plugins", []],
  [
    "plugins",
    [
      {
        name: "container",
        library_path: "libcontainer.so",
        init_config: { label_max_len: 100, with_size: false },
      },
    ],
  ],
  ["time_format_iso_8601", false],
  ["buffer_format_base64", false],
  ["priority", "debug"],
  ["json_output", false],
  ["json_include_output_property", true],
  ["json_include_message_property", false],
  ["json_include_output_fields_property", true],
  ["json_include_tags_property", true],
  ["buffered_outputs", false],
  ["rule_matching", "first"],
  ["outputs_queue.capacity", 0],
  ["stdout_output.enabled", true],
  ["syslog_output.enabled", true],
  ["file_output.enabled", false],
  ["file_output.keep_alive", false],
  ["file_output.filename", "./events.txt"],
  ["http_output.enabled", false],
  ["http_output.url", ""],
  ["http_output.user_agent", "falcosecurity/falco"],
  ["http_output.insecure", false],
  ["http_output.ca_cert", ""],
  ["http_output.ca_bundle", ""],
  ["http_output.ca_path", "/etc/ssl/certs"],
  ["http_output.mtls", false],
  ["http_output.client_cert", "/etc/ssl/certs/client.crt"],
  ["http_output.client_key", "/etc/ssl/certs/client.key"],
  ["http_output.echo", false],
  ["http_output.compress_uploads", false],
  ["http_output.keep_alive", false],
  ["http_output.max_consecutive_timeouts", 5],
  ["program_output.enabled", false],
  ["program_output.keep_alive", false],
  [
    "program_output.program",
    "jq '{text: .output}' | curl -d @- -X POST https://hooks.slack.com/services/XXX",
  ],
  ["webserver.enabled", true],
  ["webserver.threadiness", 0],
  ["webserver.listen_port", 8765],
  ["webserver.listen_address", "0.0.0.0"],
  ["webserver.k8s_healthz_endpoint", "/healthz"],
  ["webserver.prometheus_metrics_enabled", false],
  ["webserver.ssl_enabled", false],
  ["webserver.ssl_certificate", "/etc/falco/falco.pem"],
  ["log_stderr", true],
  ["log_syslog", true],
  ["log_level", "info"],
  ["libs_logger.enabled", true],
  ["libs_logger.severity", "info"],
  ["output_timeout", 2000],
  ["syscall_event_timeouts.max_consecutives", 1000],
  ["syscall_event_drops.threshold", 0.1],
  ["syscall_event_drops.actions", ["log", "alert"]],
  ["syscall_event_drops.rate", 0.03333],
  ["syscall_event_drops.max_burst", 1],
  ["syscall_event_drops.simulate_drops", false],
  ["metrics.enabled", false],
  ["metrics.interval", "1h"],
  ["metrics.output_rule", true],
  ["metrics.output_file", ""],
  ["metrics.rules_counters_enabled", true],
  ["metrics.resource_utilization_enabled", true],
  ["metrics.state_counters_enabled", true],
  ["metrics.kernel_event_counters_enabled", true],
  ["metrics.kernel_event_counters_per_cpu_enabled", false],
  ["metrics.libbpf_stats_enabled", true],
  ["metrics.plugins_metrics_enabled", true],
  ["metrics.kernel_iter_event_counters_enabled", true],
  ["metrics.convert_memory_to_mb", true],
  ["metrics.include_empty_values", false],
  ["metrics.jemalloc_stats_enabled", false],
  ["base_syscalls.all", false],
  ["base_syscalls.custom_set", []],
  ["base_syscalls.repair", false],
  ["falco_libs.thread_table_size", 262144],
  ["falco_libs.thread_table_auto_purging_interval_s", 300],
  ["falco_libs.thread_table_auto_purging_thread_timeout_s", 300],
  ["falco_libs.snaplen", 80],
  ["container_engines.docker.enabled", true],
  ["container_engines.cri.enabled", true],
  [
    "container_engines.cri.sockets",
    ["/run/containerd/containerd.sock", "/run/crio/crio.sock", "/run/k3s/containerd/containerd.sock"],
  ],
  ["container_engines.cri.disable_async", false],
  ["container_engines.podman.enabled", true],
  ["container_engines.lxc.enabled", true],
  ["container_engines.libvirt_lxc.enabled", true],
  ["container_engines.bpm.enabled", true],
];

/**
 * Falco keys Lanner implements with a default other than falco.yaml's, and why. Every other
 * implemented Falco key defaults to Falco's value (a test checks it).
 */
export const LANNER_DEFAULT_DIFFERS: Readonly<Record<string, string>> = {
  config_files: "Falco's /etc/falco/config.d is Falco's directory; Lanner merges nothing unless asked",
  rules_files: "empty means Lanner's embedded default rules; Falco's paths are Falco's install",
  "file_output.keep_alive": "Lanner always keeps the alert file open (and reopens it on SIGUSR1)",
  "file_output.filename": "alerts are JSON lines by default: ./lanner_alerts.jsonl",
  "outputs_queue.capacity":
    "Falco's 0 is unbounded; Lanner's queues are always bounded (10000 alerts per sink)",
  "webserver.enabled": "Falco's own built-in default is false too; no port opens unless the config asks",
  "webserver.ssl_certificate": "Lanner's path: /etc/lanner/lanner.pem",
  json_output: "Lanner's alerts are JSON unless asked otherwise; falco.yaml's explicit false takes effect",
  "syslog_output.enabled":
    "a container usually has no /dev/log; alerts go to stdout unless syslog is asked for",
  "http_output.user_agent": "Lanner names itself: lanner",
  "http_output.keep_alive": "connections are reused between requests unless turned off",
  "http_output.ca_path": "empty: the system's trust store; Falco's /etc/ssl/certs is a Debian path",
  "http_output.client_cert": "empty: set with mtls; Falco's example path is not a default worth reading",
  "http_output.client_key": "empty: set with mtls; Falco's example path is not a default worth reading",
  "program_output.program": "empty: Falco's value is an example Slack webhook, not a command to run",
  "capture.path_prefix": "Lanner's own prefix: /tmp/lanner",
  "engine.modern_ebpf.cpus_for_each_buffer":
    "0, one shared ring: records in one global order (no cross-CPU reordering for the state tracker), and on the 2-core nodes Lanner targets Falco's 2 is one ring anyway",
};
