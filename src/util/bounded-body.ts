import type { IncomingMessage } from "node:http";
import { Readable, Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";

/**
 * Reading a response body with a cap on the DECODED bytes. Content-Length says nothing about a
 * compressed body (1 MB of gzip can inflate to gigabytes), and `response.text()` decodes without
 * a limit, so every body fal-mcp reads goes through here: the count is taken after decoding,
 * and at the cap the read stops, the stream is cancelled and the connection is destroyed (a
 * refused body never keeps its socket open).
 */

/** A body that grew past its cap; `limit` is the cap in bytes. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  readonly code = "ERR_FAL_MCP_BODY_TOO_LARGE";
  constructor(
    readonly limit: number,
    what = "the answer",
  ) {
    super(`${what} is larger than the limit of ${limit} bytes`);
  }
}

/** A Content-Encoding this reader cannot decode; refused rather than passed on undecoded. */
export class UnsupportedEncodingError extends Error {
  override name = "UnsupportedEncodingError";
  readonly code = "ERR_FAL_MCP_BODY_ENCODING";
}

export interface BodyLimit {
  maxBytes: number;
  /** Names the body in the error ("the model catalog"). */
  what?: string | undefined;
  /** Aborted at the cap, so the fetch that produced the body tears its connection down. */
  abort?: AbortController | undefined;
  /** Called for every chunk as it arrives from the network (a stall timer's touch). */
  onChunk?: (() => void) | undefined;
}

/**
 * Reads a fetch Response body (fetch has already decoded Content-Encoding, so the bytes counted
 * are decoded bytes) into one Buffer, refusing past `maxBytes`. A declared Content-Length over
 * the cap is refused before reading anything.
 */
export async function readResponseBody(response: Response, limit: BodyLimit): Promise<Buffer> {
  const refuse = async (): Promise<never> => {
    limit.abort?.abort(new BodyTooLargeError(limit.maxBytes, limit.what));
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(limit.maxBytes, limit.what);
  };
  const held = response as unknown;
  if (held instanceof HeldResponse) {
    // Left unread: the submit guard reads an answer here, then hands the same one to the client.
    const bytes = held.peek();
    if (bytes.length > limit.maxBytes) return refuse();
    return bytes;
  }
  const declared = Number(response.headers.get("content-length") ?? "");
  const encoded = (response.headers.get("content-encoding") ?? "identity").toLowerCase() !== "identity";
  if (!encoded && Number.isFinite(declared) && declared > limit.maxBytes) return refuse();
  if (!response.body) return Buffer.alloc(0);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit.maxBytes) {
      limit.abort?.abort(new BodyTooLargeError(limit.maxBytes, limit.what));
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit.maxBytes, limit.what);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** The header reads a Response's reader makes; node's headers and the platform's Headers both fit. */
export interface HeldHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
  entries(): IterableIterator<[string, string]>;
  forEach(callback: (value: string, name: string) => void): void;
}

/** Headers from name/value pairs (names lower-cased, repeats joined as fetch joins them). */
export function heldHeaders(pairs: Iterable<[string, string]>): HeldHeaders {
  const map = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const before = map.get(key);
    map.set(key, before === undefined ? value : `${before}, ${value}`);
  }
  return {
    get: (name) => map.get(name.toLowerCase()) ?? null,
    has: (name) => map.has(name.toLowerCase()),
    entries: () => map.entries(),
    forEach: (callback) => map.forEach((value, name) => callback(value, name)),
  };
}

/**
 * A fetch answer whose body was read whole under a cap, for code that wants a fetch Response (the
 * official client's submit and cancel): the members a Response's reader uses (status, headers, the
 * body once as text, JSON, bytes or a Blob), without the platform's Response. The first platform
 * Response in a process loads undici, compiled from source under the launcher's V8 flags: 30-50 ms
 * of CPU on a user's first run_model, and 13 MiB resident for good (measured in a bare node with
 * the same flags). The official client reads answers only through these members (its response
 * handler; the version is pinned by the lockfile and the submit tests run through it).
 */
export class HeldResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "basic";
  readonly url = "";
  /** Nothing to stream: the bytes are in memory (readResponseBody takes them from there). */
  readonly body = null;
  readonly #bytes: Buffer;
  #used = false;

  constructor(
    bytes: Buffer,
    readonly status: number,
    readonly statusText: string,
    readonly headers: HeldHeaders,
  ) {
    this.ok = status >= 200 && status <= 299;
    // A null-body status (204, 205, 304) cannot carry one, even an empty one.
    this.#bytes = status === 204 || status === 205 || status === 304 ? Buffer.alloc(0) : bytes;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The bytes, leaving the body unread (for readResponseBody). */
  peek(): Buffer {
    if (this.#used) throw new TypeError("Body is unusable: Body has already been read");
    return this.#bytes;
  }

  /** The bytes, once: a second read fails as a Response's does. */
  private take(): Buffer {
    const bytes = this.peek();
    this.#used = true;
    return bytes;
  }

  async text(): Promise<string> {
    return this.take().toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    return new Blob([this.take()], { type: this.headers.get("content-type") ?? "" });
  }

  clone(): HeldResponse {
    if (this.#used) throw new TypeError("Response.clone: Body has already been consumed");
    return new HeldResponse(this.#bytes, this.status, this.statusText, this.headers);
  }
}

/** Whether `response` is a bufferedResponse: its body is in memory, nothing of it is on the network. */
export function isBuffered(response: Response): boolean {
  return (response as unknown) instanceof HeldResponse;
}

/**
 * A Response over a body already read whole under a cap, with the given status and headers (a
 * HeldResponse, typed as the Response its readers expect). readResponseBody takes its bytes from
 * memory.
 */
export function bufferedResponse(
  body: Buffer,
  from: { status: number; statusText: string; headers: HeldHeaders | Iterable<[string, string]> },
): Response {
  const headers = isHeldHeaders(from.headers) ? from.headers : heldHeaders(from.headers);
  return new HeldResponse(body, from.status, from.statusText, headers) as unknown as Response;
}

function isHeldHeaders(headers: HeldHeaders | Iterable<[string, string]>): headers is HeldHeaders {
  return typeof (headers as HeldHeaders).get === "function";
}

/** Like readResponseBody, as UTF-8 text. */
export async function readResponseText(response: Response, limit: BodyLimit): Promise<string> {
  return (await readResponseBody(response, limit)).toString("utf8");
}

/** A Transform that passes bytes through and errors once more than `maxBytes` have passed. */
export function byteCap(maxBytes: number, what?: string, onBytes?: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      onBytes?.(total);
      if (total > maxBytes) callback(new BodyTooLargeError(maxBytes, what));
      else callback(null, chunk);
    },
  });
}

function decoderFor(encoding: string): Transform | undefined {
  switch (encoding) {
    case "":
    case "identity":
      return undefined;
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip();
    case "deflate":
      return zlib.createInflate();
    case "br":
      return zlib.createBrotliDecompress();
    default:
      throw new UnsupportedEncodingError(
        `the answer uses a content encoding fal-mcp does not read (${encoding})`,
      );
  }
}

/**
 * The decoded body of a node:http response as a stream that errors with BodyTooLargeError past
 * `maxBytes` decoded bytes (and with UnsupportedEncodingError for an unknown encoding). On any
 * error, including the cap, the response and its socket are destroyed. A declared Content-Length
 * over the cap (identity encoding) is refused before the first byte is read.
 */
export function decodedBody(message: IncomingMessage, limit: BodyLimit): Readable {
  const encodings = String(message.headers["content-encoding"] ?? "")
    .toLowerCase()
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part && part !== "identity")
    .reverse(); // applied in order, so undone last-first
  const destroy = (error: Error) => {
    limit.abort?.abort(error);
    message.destroy(error);
    message.socket?.destroy();
  };
  const cap = byteCap(limit.maxBytes, limit.what);
  let decoders: Transform[];
  try {
    if (encodings.length > 2) throw new UnsupportedEncodingError("the answer is encoded more than twice");
    decoders = encodings.map(decoderFor).filter((d): d is Transform => d !== undefined);
  } catch (error) {
    destroy(error as Error);
    setImmediate(() => cap.destroy(error as Error));
    return cap;
  }
  const declared = Number(message.headers["content-length"] ?? "");
  if (decoders.length === 0 && Number.isFinite(declared) && declared > limit.maxBytes) {
    const error = new BodyTooLargeError(limit.maxBytes, limit.what);
    destroy(error);
    setImmediate(() => cap.destroy(error));
    return cap;
  }
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      limit.onChunk?.();
      callback(null, chunk);
    },
  });
  const stages: (Readable | Transform)[] = [message, tap, ...decoders, cap];
  for (let i = 0; i + 1 < stages.length; i++) {
    const from = stages[i]!;
    const to = stages[i + 1] as Transform;
    from.on("error", (error: Error) => cap.destroy(error));
    from.pipe(to);
  }
  cap.on("error", destroy);
  cap.on("close", () => {
    if (!message.complete) destroy(new Error("the body was not read to the end"));
    tap.destroy();
    for (const decoder of decoders) decoder.destroy();
  });
  return cap;
}

/**
 * The decoded body of a node:http response in one Buffer, at most `maxBytes`. A plain body (the
 * usual case: fal's JSON answers are small) is gathered from its data events, without the
 * decoding stages; an encoded one goes through decodedBody. Either way past the cap, on an error
 * or when the connection closes before the body ended, the response and its socket are destroyed.
 */
export async function readIncomingBody(message: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const encoding = String(message.headers["content-encoding"] ?? "")
    .trim()
    .toLowerCase();
  if (encoding === "" || encoding === "identity") return readPlainBody(message, limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of decodedBody(message, limit)) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks, total);
}

function readPlainBody(message: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const fail = (error: Error) => {
      limit.abort?.abort(error);
      message.destroy(error);
      message.socket?.destroy();
      reject(error);
    };
    const declared = Number(message.headers["content-length"] ?? "");
    if (Number.isFinite(declared) && declared > limit.maxBytes)
      return fail(new BodyTooLargeError(limit.maxBytes, limit.what));
    const chunks: Buffer[] = [];
    let total = 0;
    message.on("data", (chunk: Buffer) => {
      limit.onChunk?.();
      total += chunk.length;
      if (total > limit.maxBytes) fail(new BodyTooLargeError(limit.maxBytes, limit.what));
      else chunks.push(chunk);
    });
    message.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
    message.on("error", fail);
    // A connection that closes before the body ended (reset, cut off) is an error, not a short body.
    message.on("close", () => {
      if (!message.complete) fail(new Error("the body was not read to the end"));
    });
  });
}
