import type { Readable, Writable } from "node:stream";

/**
 * The meeting point of the fast front (src/fast-front.ts, in dist/index.js) and the full program
 * (src/index.ts, in dist/server.cjs). The two are separate bundles, so they meet through one
 * global slot rather than a shared module instance: the front puts its streams there just before
 * it loads the full program, and src/index.ts takes them instead of process.stdin/stdout.
 */
export interface FrontHandover {
  /** The client's bytes, in order: the replayed handshake, every queued line, then live stdin (buffered until read). Ends when stdin ends. */
  input: Readable;
  /** Where the server writes: stdout, minus the answer to the replayed `initialize` (the client already has it). */
  output: Writable;
  /** The full program will not serve (a bad setting ended it): the front lets go of stdin so the process can exit. */
  release(): void;
}

const SLOT = Symbol.for("fal-mcp.front-handover");

type Slots = Record<typeof SLOT, FrontHandover | undefined>;

/** Called by the front right before it loads the full program. */
export function offerHandover(handover: FrontHandover): void {
  (globalThis as unknown as Slots)[SLOT] = handover;
}

/** Called once by src/index.ts: the front's streams, or undefined when the program was started without the front. */
export function takeHandover(): FrontHandover | undefined {
  const slots = globalThis as unknown as Slots;
  const handover = slots[SLOT];
  slots[SLOT] = undefined;
  return handover;
}
