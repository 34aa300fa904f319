// The error every malformed record becomes: where it starts and what is wrong.
export class DecodeError extends Error {
  /** Byte offset of the record (its first MessagePack byte) in the stream or batch. */
  readonly offset: number;
  /** What is wrong, without the offset. */
  readonly reason: string;
  constructor(offset: number, reason: string) {
    super(`malformed record at byte ${offset}: ${reason}`);
    this.name = "DecodeError";
    this.offset = offset;
    this.reason = reason;
  }
}
