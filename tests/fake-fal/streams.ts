// Hostile bodies streamed by fault rules (issue 11): a gzip decompression bomb, a download that
// trickles, and a huge (or endless) body. None is ever held in memory whole; each connection is
// recorded in `transfers` with whether the client closed it before the end.
import { gzipSync } from "node:zlib";
import type { ServerResponse } from "node:http";
import type { Core, Ctx } from "./core.js";
import { safeDecode } from "./http.js";
import type { TransferRecord } from "./hostile-types.js";
import type { Fault } from "./types.js";

type StreamFault = Extract<Fault, { kind: "gzip-bomb" | "trickle" | "huge-body" }>;

const MEMBER_BYTES = 16 * 1024 * 1024;
let bombMember: Buffer | null = null;
/** One gzip member of 16 MiB of "A" (about 16 KB compressed), computed once and repeated. */
const member = (): Buffer => (bombMember ??= gzipSync(Buffer.alloc(MEMBER_BYTES, 0x41), { level: 9 }));

const ZEROS = Buffer.alloc(64 * 1024);

function record(core: Core, ctx: Ctx, fault: StreamFault["kind"]): TransferRecord {
  const t: TransferRecord = {
    id: core.transfers.length + 1,
    fault,
    host: ctx.host,
    path: ctx.path,
    wireBytes: 0,
    bodyBytes: 0,
    closedByClient: false,
    finished: false,
    startedAt: Date.now(),
    endedAt: null,
  };
  core.transfers.push(t);
  ctx.res.on("close", () => {
    t.endedAt ??= Date.now();
    if (!t.finished) t.closedByClient = true;
  });
  return t;
}

/** Writes chunks from `next` (null: done) honouring backpressure, until done or the client closes. */
function pump(
  res: ServerResponse,
  t: TransferRecord,
  next: () => { wire: Buffer; body: number } | null,
): void {
  const loop = (): void => {
    for (;;) {
      if (res.destroyed) return;
      const c = next();
      if (!c) {
        t.finished = true;
        t.endedAt = Date.now();
        res.end();
        return;
      }
      t.wireBytes += c.wire.length;
      t.bodyBytes += c.body;
      if (!res.write(c.wire)) return void res.once("drain", loop);
    }
  };
  loop();
}

export function streamFault(core: Core, ctx: Ctx, fault: StreamFault): void {
  const { req, res } = ctx;
  req.resume();
  if (fault.kind === "gzip-bomb") {
    // JSON `{"padding":"AAAA…"}` as concatenated gzip members (valid gzip; decoders read them all).
    const head = gzipSync(Buffer.from('{"padding":"'));
    const tail = gzipSync(Buffer.from('"}'));
    const count = Math.max(1, Math.ceil((fault.decodedBytes ?? 1024 ** 3) / MEMBER_BYTES));
    const body = member();
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Content-Encoding", "gzip");
    res.setHeader("Content-Length", String(head.length + count * body.length + tail.length));
    res.writeHead(fault.status ?? 200);
    const t = record(core, ctx, fault.kind);
    let i = -1;
    pump(res, t, () => {
      i++;
      if (i === 0) return { wire: head, body: 12 };
      if (i <= count) return { wire: body, body: MEMBER_BYTES };
      if (i === count + 1) return { wire: tail, body: 2 };
      return null;
    });
    return;
  }
  if (fault.kind === "huge-body") {
    const declared = fault.contentLength === undefined ? 10 * 1024 ** 3 : fault.contentLength;
    const limit = fault.bodyBytes ?? declared ?? Infinity;
    res.setHeader("Content-Type", fault.contentType ?? "application/octet-stream");
    if (declared !== null) res.setHeader("Content-Length", String(declared));
    res.writeHead(200);
    const t = record(core, ctx, fault.kind);
    let sent = 0;
    pump(res, t, () => {
      if (sent >= limit) {
        // A body shorter than its Content-Length: end the connection, as a broken peer would.
        if (declared !== null && sent < declared) res.socket?.destroy();
        return null;
      }
      const n = Math.min(ZEROS.length, limit - sent);
      sent += n;
      return { wire: n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n), body: n };
    });
    return;
  }
  // trickle: the media at this path (if any) a few bytes at a time, then zeros.
  const entry = core.media.lookup(safeDecode(ctx.path), core.now());
  const source =
    entry?.kind === "buffer" ? entry.data : entry?.kind === "synthetic" ? entry.head : Buffer.alloc(0);
  const total = fault.totalBytes ?? null;
  const length = fault.contentLength ?? total;
  res.setHeader("Content-Type", fault.contentType ?? entry?.contentType ?? "application/octet-stream");
  if (length !== null) res.setHeader("Content-Length", String(length));
  res.writeHead(200);
  const t = record(core, ctx, fault.kind);
  const step = Math.max(1, fault.bytesPerTick ?? 4);
  const timer = setInterval(
    () => {
      if (res.destroyed) return stop();
      const left = total === null ? step : Math.min(step, total - t.bodyBytes);
      if (left <= 0) {
        t.finished = true;
        t.endedAt = Date.now();
        res.end();
        return stop();
      }
      const chunk = Buffer.alloc(left);
      source.copy(chunk, 0, t.bodyBytes, t.bodyBytes + left);
      t.wireBytes += left;
      t.bodyBytes += left;
      res.write(chunk);
    },
    Math.max(1, fault.intervalMs ?? 200),
  );
  const stop = (): void => {
    clearInterval(timer);
    core.timers.delete(timer);
  };
  core.timers.add(timer);
  res.on("close", stop);
}
