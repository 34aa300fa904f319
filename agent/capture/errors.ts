// Why live capture could not start, as one typed error the CLI can print and map to an exit code.

export type CaptureFailure =
  | "permission"
  | "no_btf"
  | "kernel_too_old"
  | "verifier"
  | "load"
  | "attach"
  | "native"
  | "schema_mismatch";

export class CaptureError extends Error {
  readonly reason: CaptureFailure;
  /** Raw evidence (errno, libbpf or verifier log tail, dlopen message); may span many lines. */
  readonly detail: string;
  /** `message`: one sentence saying what is wrong and what to do. */
  constructor(reason: CaptureFailure, message: string, detail = "") {
    super(message);
    this.name = "CaptureError";
    this.reason = reason;
    this.detail = detail;
  }
}
