import type { FileHandle } from "node:fs/promises";
import type { ClientRequest } from "node:http";
import { LocalFileError } from "../errors.js";

/**
 * Streams bytes [start, end) of an open file into a request body, reading each chunk into a
 * buffer that is used again once the socket has taken it.
 *
 * Why not `createReadStream().pipe(request)`: a read stream allocates a fresh buffer per chunk,
 * and on a 1 GiB upload those fresh buffers cost more CPU than the rest of the transfer
 * (page faults on every new buffer, and V8 collecting after each few MiB of external memory:
 * measured 1.2–2.0 CPU-s per GiB, 2.9–3.7 with the launcher's --optimize-for-size, against curl's
 * 0.4). What is left is mostly the two copies curl makes too (page cache → buffer → socket).
 * Here each part has two buffers: one is read into while the other is being written.
 *
 * Chunks grow while the link takes them quickly (fewer, larger writes: the JavaScript work per
 * write is most of what remains) and shrink when one takes long, so that on a slow uplink a
 * chunk still moves well within the stall timeout, which is checked once per chunk.
 */

export const MIN_CHUNK_BYTES = 256 * 1024;
/**
 * 1 GiB upload, 3 parts in flight, interleaved runs: 1 MiB chunks 1.04–1.07 CPU-s per GiB, 2 MiB
 * 1.04, 4 MiB 0.91–1.00 (within the noise of 2 MiB) but 11 MiB more peak RSS (6 buffers).
 * 512 KiB: 0.96–0.97 against 2 MiB's 0.79 (5 runs each, same sitting).
 */
export const MAX_CHUNK_BYTES = 2 * 1024 * 1024;

/**
 * Full-size buffers an upload left idle, for the next upload to use (no fresh pages to fault in;
 * before the buffers were shared memory, this was also what kept a second upload from starting a
 * full collection: 1.33 → 0.82 CPU-s per GiB at 100 MiB). Dropped after a short idle spell: they
 * are resident memory (a dropped buffer is, too, until V8's next full collection).
 */
const spares: Buffer[] = [];
const SPARES_KEPT = 6;
const SPARES_IDLE_MS = 30_000;
let dropSpares: NodeJS.Timeout | undefined;

/** Buffers kept for the next part once a part is done, and the chunk size the link has earned. */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Bytes to read and write per chunk next; shared by the parts of one upload. */
  chunkBytes = MIN_CHUNK_BYTES;
  /** Size of each buffer: no larger than the longest range sent (a 1 KiB file needs no 2 MiB buffers). */
  private readonly bufferBytes: number;

  constructor(
    private readonly keep: number,
    /** A chunk taken within this long doubles the size; one taking 2× as long halves it. */
    private readonly quickMs: number,
    /** The longest range these buffers will send (the file, or one part). */
    longestRange = MAX_CHUNK_BYTES,
  ) {
    this.bufferBytes = Math.max(1, Math.min(MAX_CHUNK_BYTES, longestRange));
  }

  take(): Buffer {
    const reused = this.free.pop() ?? (this.bufferBytes === MAX_CHUNK_BYTES ? spares.pop() : undefined);
    // Over a SharedArrayBuffer: V8 counts an ArrayBuffer's memory against the old generation's
    // limit as possible garbage, and under the launcher's --optimize-for-size the slack after
    // start-up is ~4 MiB, so the 12 MiB of a first multipart upload started a full collection of
    // the whole heap (~50 ms of CPU; a first 100 MiB upload 140 -> 90 ms of CPU, the same as a
    // second one). These buffers are not garbage: this pool reuses and drops them, and V8 leaves
    // shared memory out of that count. A buffer of its own, never a slice of Node's pool, never
    // shared with another thread; every byte sent from it was first written by a read (only the
    // bytesRead prefix is ever sent), so what an earlier upload left in it is never sent. Pages a
    // small chunk never touches are not resident.
    return reused ?? Buffer.from(new SharedArrayBuffer(this.bufferBytes));
  }

  /**
   * At the end of an upload: its idle full-size buffers become spares for the next upload (only
   * buffers given back, which no pending read or socket write refers to).
   */
  release(): void {
    for (const buffer of this.free.splice(0))
      if (buffer.length === MAX_CHUNK_BYTES && spares.length < SPARES_KEPT) spares.push(buffer);
    if (spares.length === 0) return;
    if (dropSpares) dropSpares.refresh();
    else dropSpares = setTimeout(() => void spares.splice(0), SPARES_IDLE_MS).unref();
  }

  /** Adapts the chunk size to how long the socket took to take the last chunk. */
  taken(elapsedMs: number): void {
    if (elapsedMs <= this.quickMs) this.chunkBytes = Math.min(MAX_CHUNK_BYTES, this.chunkBytes * 2);
    else if (elapsedMs > 2 * this.quickMs) this.chunkBytes = Math.max(MIN_CHUNK_BYTES, this.chunkBytes / 2);
  }

  /** Only for a buffer no pending read or socket write still refers to. */
  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

export interface RangeSend {
  /** Resolves once every byte was handed to the socket and the request ended. */
  done: Promise<void>;
  /** Stops sending (after an answer, an error or an abort); later chunks are never written. */
  stop(): void;
}

/** A file that became shorter while it was being sent: what arrived would not be that file. */
function shrunkError(fileName: string): LocalFileError {
  return new LocalFileError(
    `${fileName} became shorter while it was being uploaded, so the upload was stopped.`,
    "Wait until the file is completely written (not being saved, downloaded or recorded), then upload it again.",
  );
}

export function sendRange(
  request: ClientRequest,
  handle: FileHandle,
  start: number,
  end: number,
  options: { pool: ChunkPool; fileName: string; onMoved: () => void },
): RangeSend {
  let stopped = false;
  /** Settles the one write in flight (there is never more than one) as not moved. */
  let settleWrite: ((moved: boolean) => void) | undefined;
  let writeError: Error | undefined;

  /**
   * Writes `chunk`; resolves true once the socket took it, false if sending was stopped first or
   * the write failed (in `writeError`). It never rejects: it is awaited only after the next read,
   * and a rejection nobody listens for yet would be reported as unhandled.
   */
  const write = (chunk: Buffer): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const startedAt = performance.now();
      settleWrite = resolve;
      request.write(chunk, (error) => {
        if (error) writeError ??= error;
        if (error || stopped) return resolve(false);
        options.pool.taken(performance.now() - startedAt);
        resolve(true);
        options.onMoved();
      });
    });

  /** After a write that did not move: throws its error, unless sending was stopped. */
  const throwWriteError = (): void => {
    if (writeError && !stopped) throw writeError;
  };

  const run = async (): Promise<void> => {
    const buffers = [options.pool.take(), options.pool.take()];
    let position = start;
    let writing: Promise<boolean> | undefined;
    let turn = 0;
    while (position < end) {
      const buffer = buffers[turn]!;
      const wanted = Math.min(options.pool.chunkBytes, end - position);
      let filled = 0;
      while (filled < wanted) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(buffer, filled, wanted - filled, position + filled));
        } catch (error) {
          if (stopped) return;
          throw new LocalFileError(
            `Reading ${options.fileName} failed during the upload (${error instanceof Error ? error.message : String(error)}).`,
            "Make sure the file is not being changed or moved, then try again.",
          );
        }
        if (stopped) return;
        if (bytesRead === 0) throw shrunkError(options.fileName);
        filled += bytesRead;
      }
      // The other buffer is free again only when the socket has taken it.
      if (writing && !(await writing)) return throwWriteError();
      if (stopped) return;
      writing = write(buffer.subarray(0, filled));
      position += filled;
      turn = 1 - turn;
    }
    if (writing && !(await writing)) return throwWriteError();
    if (stopped) return;
    request.end();
    // Both buffers are idle (every write called back): the next part may use them.
    for (const buffer of buffers) options.pool.give(buffer);
  };

  return {
    done: run(),
    stop() {
      stopped = true;
      settleWrite?.(false);
    },
  };
}
