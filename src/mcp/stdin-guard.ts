import { Transform, type Readable, type TransformCallback } from "node:stream";
import { log } from "../log.js";

/**
 * The SDK's stdio reader closes the whole connection when one line exceeds its 10 MiB buffer, so a
 * single oversized line (a client bug, a pasted file) would end the server. This filter sits
 * between stdin and the transport and drops any line longer than `maxLineBytes` (with a warning on
 * stderr), passing every other line through unchanged and never holding more than one line.
 */
export const MAX_LINE_BYTES = 10 * 1024 * 1024 - 1024;

export class LineLengthGuard extends Transform {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** True while skipping the rest of an oversized line. */
  #discarding = false;
  #dropped = 0;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    super();
    this.#maxLineBytes = maxLineBytes;
  }

  /** Lines dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let newline: number;
    while ((newline = data.indexOf(0x0a)) >= 0) {
      const segment = data.subarray(0, newline + 1);
      data = data.subarray(newline + 1);
      if (this.#discarding || this.#pendingBytes + segment.length > this.#maxLineBytes) {
        this.#drop(this.#pendingBytes + segment.length);
        this.#discarding = false;
        continue;
      }
      this.push(this.#pending.length > 0 ? Buffer.concat([...this.#pending, segment]) : segment);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (data.length > 0 && !this.#discarding) {
      if (this.#pendingBytes + data.length > this.#maxLineBytes) {
        this.#discarding = true;
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        this.#pending.push(Buffer.from(data));
        this.#pendingBytes += data.length;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#discarding && this.#pendingBytes > 0) this.push(Buffer.concat(this.#pending));
    callback();
  }

  #drop(bytes: number): void {
    this.#dropped++;
    this.#pending = [];
    this.#pendingBytes = 0;
    log.warn(
      `dropped an incoming message longer than ${this.#maxLineBytes} bytes (${this.#discarding ? "more than that" : `${bytes} bytes`}); the connection stays open`,
    );
  }
}

/** stdin as the MCP transport should read it: oversized lines removed. */
export function guardStdin(stdin: Readable, maxLineBytes = MAX_LINE_BYTES): Readable {
  const guard = new LineLengthGuard(maxLineBytes);
  stdin.on("error", (error) => guard.destroy(error));
  return stdin.pipe(guard);
}
