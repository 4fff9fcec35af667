// The fast front: answers an MCP client's start-up handshake (`initialize`, `notifications/
// initialized`, `tools/list`, `ping`) from dist/manifest.json, which the build recorded from the
// real server, so a client sees the tool list in about the time Node takes to start. Loading the
// full server (the SDK, zod, nine tool schemas: ~60 ms) happens right after, in the client's idle
// time, or at once when any other line arrives. The client never notices the switch:
//
// - Only a line that is exactly one of those four messages, well formed, is answered here; any
//   other line (a tool call, `logging/setLevel`, garbage, an oversized line) hands over first and
//   is then forwarded as received, so the full server's own validation and errors apply.
// - At handover the full server gets the client's real `initialize` (under a private id, its
//   answer swallowed: the client already has one), and `notifications/initialized` if it came, so
//   it knows the client's capabilities (roots) and the negotiated version; then every queued and
//   later byte, in order. Answers the front already gave (`tools/list`, `ping`) are not replayed.
// - Everything the full server writes goes to stdout unchanged, except that one swallowed answer.
//
// This module touches no process state; src/boot.ts gives it stdin/stdout and the loader.
import { PassThrough, Writable, type Readable } from "node:stream";
import { offerHandover, type FrontHandover } from "./handover.js";

/** What the build recorded from the real server (see tsup.config.ts). */
export interface FrontManifest {
  /** Size of the dist/server.cjs the answers came from: a mismatch means a stale manifest, and the front stays off. */
  bundleBytes: number;
  /** The versions the server echoes back when a client asks for them. */
  protocolVersions: string[];
  /** What it answers to any other requested version. */
  fallbackProtocolVersion: string;
  /** The `initialize` result, with the field order the server uses; protocolVersion is negotiated per client. */
  initializeResult: Record<string, unknown>;
  /** The `tools/list` result as the server serialises it. */
  toolsListResult: string;
}

/** The private id of the replayed `initialize`; its answer never reaches the client. */
export const REPLAY_ID = "fal-mcp-fast-front:initialize";
/** A line longer than this is never one of the four small handshake messages. */
const MAX_FRONT_LINE = 64 * 1024;
/** Without a handshake to answer for this long (a client that never lists tools, a bad setting), load the full server anyway. */
export const IDLE_LOAD_MS = 300;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isEmpty = (value: unknown): boolean =>
  value === undefined || (isRecord(value) && Object.keys(value).length === 0);

/** The manifest file's content, or undefined when it is missing a piece (then the front stays off). */
export function parseManifest(text: string): FrontManifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { bundleBytes, protocolVersions, fallbackProtocolVersion, initializeResult, toolsListResult } = value;
  if (
    typeof bundleBytes !== "number" ||
    typeof fallbackProtocolVersion !== "string" ||
    typeof toolsListResult !== "string"
  )
    return undefined;
  if (!Array.isArray(protocolVersions) || !protocolVersions.every((v): v is string => typeof v === "string"))
    return undefined;
  if (!isRecord(initializeResult) || typeof initializeResult.protocolVersion !== "string") return undefined;
  return { bundleBytes, protocolVersions, fallbackProtocolVersion, initializeResult, toolsListResult };
}

type RequestId = string | number;

/** A parsed line the front may answer, or undefined for anything it must leave to the full server. */
interface Message {
  id: RequestId | undefined;
  method: string;
  params: unknown;
}

function parseLine(line: Buffer): Message | undefined {
  if (line.length > MAX_FRONT_LINE) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.toString("utf8"));
  } catch {
    return undefined;
  }
  // The SDK reads requests and notifications strictly: no other top-level keys.
  if (!isRecord(value) || value.jsonrpc !== "2.0" || typeof value.method !== "string") return undefined;
  if (
    !Object.keys(value).every(
      (key) => key === "jsonrpc" || key === "id" || key === "method" || key === "params",
    )
  )
    return undefined;
  const { id } = value;
  if (id !== undefined && typeof id !== "string" && !(typeof id === "number" && Number.isSafeInteger(id)))
    return undefined;
  return { id, method: value.method, params: value.params };
}

const optionalString = (value: unknown): boolean => value === undefined || typeof value === "string";

/**
 * True for `initialize` params the SDK accepts. Deliberately narrower than the SDK's schema where
 * checking fully would cost more than it saves: anything unusual goes to the full server.
 */
function plainInitializeParams(params: unknown): params is { protocolVersion: string } {
  if (!isRecord(params) || typeof params.protocolVersion !== "string" || params._meta !== undefined)
    return false;
  const { capabilities, clientInfo } = params;
  if (!isRecord(clientInfo) || typeof clientInfo.name !== "string" || typeof clientInfo.version !== "string")
    return false;
  if (
    !optionalString(clientInfo.title) ||
    !optionalString(clientInfo.websiteUrl) ||
    !optionalString(clientInfo.description) ||
    clientInfo.icons !== undefined
  )
    return false;
  if (!isRecord(capabilities)) return false;
  for (const [name, capability] of Object.entries(capabilities)) {
    if (!isRecord(capability)) return false;
    // Known capabilities hold objects or booleans; an odd value is for the SDK to judge.
    if (
      name !== "experimental" &&
      !Object.values(capability).every((v) => typeof v === "boolean" || isRecord(v))
    )
      return false;
    if (
      name === "roots" &&
      !(capability.listChanged === undefined || typeof capability.listChanged === "boolean")
    )
      return false;
  }
  return true;
}

const answer = (id: RequestId, resultJson: string): string =>
  `{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(id)}}\n`;

/**
 * Writes what the full server sends to `target`, except the answer to the replayed `initialize`.
 * Only writes before that answer are inspected (the server's first write is that answer); after it
 * every write passes straight through, with the target's back-pressure.
 */
class ReplayAnswerFilter extends Writable {
  #waiting: boolean;
  readonly #target: Writable;
  readonly #debug: (message: string) => void;

  constructor(target: Writable, waitingForReplay: boolean, debug: (message: string) => void) {
    super({ decodeStrings: false });
    this.#target = target;
    this.#waiting = waitingForReplay;
    this.#debug = debug;
  }

  override _write(
    chunk: string | Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#waiting) {
      const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
      if (text.includes(REPLAY_ID)) {
        let message: unknown;
        try {
          message = JSON.parse(text);
        } catch {
          message = undefined;
        }
        if (isRecord(message) && message.id === REPLAY_ID) {
          this.#waiting = false;
          if (message.error !== undefined)
            this.#debug(`the full server refused the replayed initialize: ${JSON.stringify(message.error)}`);
          callback();
          return;
        }
      }
    }
    if (this.#target.write(chunk)) callback();
    else this.#target.once("drain", () => callback());
  }
}

export interface FastFrontOptions {
  manifest: FrontManifest;
  stdin: Readable;
  stdout: Writable;
  /** Loads and starts the full program, which takes the handover with `takeHandover()`. Called at most once. */
  load: () => void;
  /** Called when the full program declined the connection (it exits on its own: a bad setting). */
  onRelease?: () => void;
  debug?: (message: string) => void;
}

export interface FastFront {
  /** True once the full server has (or is getting) the connection. */
  readonly handedOver: boolean;
  /** Hands over now (idempotent). */
  handOver(reason: string): void;
}

export function startFastFront({
  manifest,
  stdin,
  stdout,
  load,
  onRelease,
  debug = () => undefined,
}: FastFrontOptions): FastFront {
  const supported = new Set(manifest.protocolVersions);
  let initializeLine: string | undefined; // the client's initialize, re-addressed to REPLAY_ID
  let initializedLine: Buffer | undefined; // its notifications/initialized, as received
  let pending: Buffer[] = []; // a line still arriving
  let pendingBytes = 0;
  let handedOver = false;
  let stdinEnded = false;
  const input = new PassThrough();

  const idle = setTimeout(() => handOver("idle"), IDLE_LOAD_MS);

  /** Answers `line` and returns true, or returns false when the full server must have it. */
  const handle = (line: Buffer): boolean => {
    const message = parseLine(line);
    if (!message) return false;
    const { id, method, params } = message;
    if (
      method === "initialize" &&
      id !== undefined &&
      initializeLine === undefined &&
      plainInitializeParams(params)
    ) {
      const protocolVersion = supported.has(params.protocolVersion)
        ? params.protocolVersion
        : manifest.fallbackProtocolVersion;
      debug(`fast front answered initialize (${protocolVersion})`);
      stdout.write(answer(id, JSON.stringify({ ...manifest.initializeResult, protocolVersion })));
      initializeLine = JSON.stringify({ jsonrpc: "2.0", id: REPLAY_ID, method, params }) + "\n";
      return true;
    }
    if (
      method === "notifications/initialized" &&
      id === undefined &&
      initializeLine !== undefined &&
      initializedLine === undefined &&
      isEmpty(params)
    ) {
      initializedLine = line;
      return true;
    }
    if (method === "tools/list" && id !== undefined && initializeLine !== undefined && isEmpty(params)) {
      // The client now has what it needs to start; load the full server while it is idle.
      debug("fast front answered tools/list");
      stdout.write(answer(id, manifest.toolsListResult), () => setImmediate(() => handOver("tools listed")));
      return true;
    }
    if (method === "ping" && id !== undefined && isEmpty(params)) {
      stdout.write(answer(id, "{}"));
      return true;
    }
    return false;
  };

  const onData = (chunk: Buffer): void => {
    let data = chunk;
    let newline: number;
    while (!handedOver && (newline = data.indexOf(0x0a)) >= 0) {
      const segment = data.subarray(0, newline + 1);
      data = data.subarray(newline + 1);
      const line = pending.length > 0 ? Buffer.concat([...pending, segment]) : segment;
      pending = [];
      pendingBytes = 0;
      if (!handle(line)) {
        handOver("a message for the full server");
        input.write(line);
      }
    }
    if (data.length === 0) return;
    if (handedOver) {
      input.write(data);
      return;
    }
    pending.push(Buffer.from(data));
    pendingBytes += data.length;
    if (pendingBytes > MAX_FRONT_LINE) handOver("a long message"); // forwards `pending`: the stdin guard judges it
  };

  const onEnd = (): void => {
    stdinEnded = true;
    // The full program still starts, so it reports what it always reports (a missing key, a bad
    // setting), then sees the end of its input and exits.
    handOver("stdin closed");
  };
  const onError = (error: Error): void => {
    handOver("stdin failed");
    input.destroy(error);
  };

  stdin.on("data", onData);
  stdin.once("end", onEnd);
  stdin.once("error", onError);

  function handOver(reason: string): void {
    if (handedOver) return;
    handedOver = true;
    clearTimeout(idle);
    debug(`fast front hands over to the full server (${reason})`);
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.off("error", onError);
    if (initializeLine !== undefined) input.write(initializeLine);
    if (initializedLine !== undefined) input.write(initializedLine);
    if (pending.length > 0) input.write(Buffer.concat(pending));
    pending = [];
    pendingBytes = 0;
    if (stdinEnded) input.end();
    else {
      stdin.on("error", (error) => input.destroy(error));
      stdin.pipe(input);
    }
    let released = false;
    const handover: FrontHandover = {
      input,
      output: new ReplayAnswerFilter(stdout, initializeLine !== undefined, debug),
      release() {
        if (released) return;
        released = true;
        stdin.unpipe(input);
        stdin.pause();
        stdin.destroy();
        onRelease?.();
      },
    };
    offerHandover(handover);
    load();
  }

  return {
    get handedOver() {
      return handedOver;
    },
    handOver,
  };
}
