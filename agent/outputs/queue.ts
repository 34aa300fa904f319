// A FIFO of formatted alert lines bounded by count and by bytes (UTF-8, newline included). It only
// stores; the policy for a full queue is the sink's (delivery.ts).

/** Bytes a line takes in a queue, a file or a request: its UTF-8 length plus the newline. */
export function lineBytes(line: string): number {
  return Buffer.byteLength(line, "utf8") + 1;
}

export class LineQueue {
  private items: string[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytesHeld = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new RangeError("queue capacity must be >= 1");
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError("queue max_bytes must be >= 1");
  }

  get count(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Whether a line of `size` bytes fits now. */
  fits(size: number): boolean {
    return this.count < this.maxCount && this.bytesHeld + size <= this.maxBytes;
  }

  /** Appends; the caller checked `fits`. */
  push(line: string, size: number): void {
    this.items.push(line);
    this.sizes.push(size);
    this.bytesHeld += size;
  }

  /** Removes the oldest line; undefined when empty. */
  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const line = this.items[this.head] as string;
    this.bytesHeld -= this.sizes[this.head] as number;
    this.head++;
    this.compact();
    return line;
  }

  /** Removes and returns up to maxCount oldest lines holding at most maxBytes (at least one line). */
  take(maxCount: number, maxBytes: number): string[] {
    const out: string[] = [];
    let bytes = 0;
    while (this.head < this.items.length && out.length < maxCount) {
      const size = this.sizes[this.head] as number;
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(this.items[this.head] as string);
      bytes += size;
      this.bytesHeld -= size;
      this.head++;
    }
    this.compact();
    return out;
  }

  /** The oldest lines `take` would return, without removing them. */
  peek(maxCount: number, maxBytes: number): string[] {
    const out: string[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.items.length && out.length < maxCount; i++) {
      const size = this.sizes[i] as number;
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(this.items[i] as string);
      bytes += size;
    }
    return out;
  }

  /** Everything, oldest first, leaving the queue empty. */
  takeAll(): string[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.bytesHeld = 0;
    return out;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}
