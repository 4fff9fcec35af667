// rest.fal.ai upload initiation and the *.fal.media CDN: signed single PUTs, multipart parts and
// complete, and downloads. Bodies are streamed to temp files, never buffered.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm, rename } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage } from "node:http";
import type { Core, Ctx, UploadSession } from "../core.js";
import { isObject, readJson, safeDecode, sendJson, sendText } from "../http.js";
import { serveMedia } from "../media.js";

const SIGNING_SECRET = randomBytes(16);
const sign = (token: string): string =>
  createHmac("sha256", SIGNING_SECRET).update(token).digest("hex").slice(0, 32);

export async function handleRest(core: Core, ctx: Ctx): Promise<void> {
  const { req, res, path } = ctx;
  const m = /^\/storage\/upload\/(initiate|initiate-multipart)\/?$/.exec(path);
  if (!m) {
    sendJson(res, 404, { detail: "Not Found" });
    return;
  }
  if (req.method !== "POST") {
    sendJson(res, 405, { detail: "Method Not Allowed" });
    return;
  }
  if (!core.authorize(ctx)) return;
  const body = await readJson(req, res);
  if (!body.ok) return;
  const input = isObject(body.value) ? body.value : {};
  const errors = [];
  for (const field of ["content_type", "file_name"]) {
    const v = input[field];
    if (v === undefined)
      errors.push({ loc: ["body", field], msg: "Field required", type: "missing", input: body.value });
    else if (typeof v !== "string")
      errors.push({
        loc: ["body", field],
        msg: "Input should be a valid string",
        type: "string_type",
        input: v,
      });
  }
  if (errors.length) {
    sendJson(res, 422, { detail: errors });
    return;
  }
  const token = randomBytes(16).toString("hex");
  const sig = sign(token);
  const fileName =
    String(input.file_name)
      .split(/[\\/]/)
      .pop()
      ?.replace(/[^\w.\-() ]+/g, "_") || "file";
  const filePath = `/files/upload/${token}/${fileName}`;
  const session: UploadSession = {
    token,
    sig,
    fileName,
    contentType: String(input.content_type) || "application/octet-stream",
    multipart: m[1] === "initiate-multipart",
    fileUrl: `https://v3.fal.media/files/upload/${token}/${encodeURIComponent(fileName)}`,
    filePath,
    parts: new Map(),
    done: false,
    createdAt: core.now(),
  };
  core.uploadSessions.set(token, session);
  sendJson(res, 200, {
    upload_url: `https://v3.fal.media/upload/${token}?sig=${sig}`,
    file_url: session.fileUrl,
  });
}

/** Streams a request body to `file`, hashing it; resolves with size and digest. */
class TooLarge extends Error {}

async function streamToFile(
  req: IncomingMessage,
  file: string,
  algo: "sha256" | "md5",
  limit = Infinity,
): Promise<{ size: number; digest: string }> {
  const hash = createHash(algo);
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > limit) return cb(new TooLarge(`body over ${limit} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(req, tap, createWriteStream(file));
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  return { size, digest: hash.digest("hex") };
}

export async function handleCdn(core: Core, ctx: Ctx): Promise<void> {
  const { req, res, path } = ctx;
  const method = req.method ?? "GET";
  if (path.startsWith("/files/")) {
    if (method !== "GET" && method !== "HEAD") {
      sendText(res, 405, "Method Not Allowed");
      return;
    }
    const entry = core.media.lookup(safeDecode(path), core.now());
    if (!entry) {
      sendText(res, 404, "Not Found");
      return;
    }
    serveMedia(req, res, entry);
    return;
  }
  const m = /^\/upload\/([0-9a-f]+)(?:\/(\d+|complete))?\/?$/.exec(path);
  if (!m) {
    sendText(res, 404, "Not Found");
    return;
  }
  // Signed URLs never need auth; a client that sends its key to the CDN is leaking it.
  if (req.headers.authorization !== undefined) {
    core.authLeaks++;
    sendJson(res, 400, { detail: "Authorization header is not allowed on signed upload URLs" });
    return;
  }
  const session = core.uploadSessions.get(m[1]!);
  if (!session) {
    sendJson(res, 404, { detail: "Upload not found" });
    return;
  }
  if (ctx.query.get("sig") !== session.sig) {
    sendJson(res, 403, { detail: "Invalid or missing signature" });
    return;
  }
  // [unverified] how long fal's signed targets live and how an expired one answers; the fake
  // refuses with 403 after uploadTargetTtlMs (fake clock), like an expired signed URL.
  if (!session.done && core.now() > session.createdAt + core.settings.uploadTargetTtlMs) {
    sendJson(res, 403, { detail: "Upload URL expired" });
    return;
  }
  const sub = m[2];
  if (sub === undefined) {
    if (method !== "PUT") return void sendJson(res, 405, { detail: "Method Not Allowed" });
    if (session.multipart)
      return void sendJson(res, 400, { detail: "This is a multipart upload: upload parts, then complete" });
    const file = join(core.tmpDir, `${session.token}.bin`);
    const max = core.settings.maxSinglePutBytes;
    if (Number(req.headers["content-length"]) > max) {
      sendJson(res, 413, { detail: `A single upload may be at most ${max} bytes: use a multipart upload` });
      return;
    }
    let r: { size: number; digest: string };
    try {
      r = await streamToFile(req, file, "sha256", max);
    } catch (e) {
      if (e instanceof TooLarge && !res.headersSent) {
        res.setHeader("Connection", "close");
        sendJson(res, 413, { detail: `A single upload may be at most ${max} bytes: use a multipart upload` });
      } else if (!res.destroyed) res.destroy();
      return;
    }
    const contentType = req.headers["content-type"] || session.contentType;
    register(core, session, file, r.size, r.digest, contentType, 1);
    sendJson(res, 200, { file_url: session.fileUrl });
    return;
  }
  if (!session.multipart) return void sendJson(res, 400, { detail: "Not a multipart upload" });
  if (sub === "complete") {
    if (method !== "POST") return void sendJson(res, 405, { detail: "Method Not Allowed" });
    await complete(core, ctx, session);
    return;
  }
  if (method !== "PUT") return void sendJson(res, 405, { detail: "Method Not Allowed" });
  const n = Number(sub);
  if (n < 1 || n > 10_000) return void sendJson(res, 400, { detail: `Invalid part number ${sub}` });
  if (session.done) return void sendJson(res, 400, { detail: "Upload already completed" });
  const file = join(core.tmpDir, `${session.token}.part${n}`);
  let r: { size: number; digest: string };
  try {
    r = await streamToFile(req, file, core.settings.partDigest);
  } catch {
    if (!res.destroyed) res.destroy();
    return;
  }
  session.parts.set(n, { path: file, size: r.size, etag: r.digest });
  sendJson(res, 200, { partNumber: n, etag: r.digest });
}

async function complete(core: Core, ctx: Ctx, session: UploadSession): Promise<void> {
  const { req, res } = ctx;
  const body = await readJson(req, res);
  if (!body.ok) return;
  if (session.done) {
    // Idempotent: a retried complete after a lost answer succeeds again.
    sendJson(res, 200, { file_url: session.fileUrl });
    return;
  }
  const parts = isObject(body.value) ? body.value.parts : undefined;
  if (!Array.isArray(parts) || parts.length === 0) {
    sendJson(res, 400, { detail: "parts must be a non-empty list" });
    return;
  }
  for (let i = 0; i < parts.length; i++) {
    const p: unknown = parts[i];
    if (!isObject(p) || p.partNumber !== i + 1) {
      sendJson(res, 400, {
        detail: `Part numbers must be contiguous from 1: entry ${i} should be part ${i + 1}`,
      });
      return;
    }
    const stored = session.parts.get(i + 1);
    if (!stored) {
      sendJson(res, 400, { detail: `Part ${i + 1} was not uploaded` });
      return;
    }
    if (p.etag !== stored.etag) {
      sendJson(res, 400, { detail: `ETag mismatch for part ${i + 1}` });
      return;
    }
  }
  const out = join(core.tmpDir, `${session.token}.bin`);
  const tmp = `${out}.assembling`;
  const hash = createHash("sha256");
  let size = 0;
  try {
    const ws = createWriteStream(tmp);
    for (let i = 1; i <= parts.length; i++) {
      for await (const chunk of createReadStream(session.parts.get(i)!.path)) {
        const buf = chunk as Buffer;
        size += buf.length;
        hash.update(buf);
        if (!ws.write(buf)) await once(ws, "drain");
      }
    }
    await new Promise<void>((resolve, reject) =>
      ws.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    sendJson(res, 500, { detail: `Failed to assemble upload: ${(e as Error).message}` });
    return;
  }
  for (const p of session.parts.values()) await rm(p.path, { force: true });
  register(core, session, out, size, hash.digest("hex"), session.contentType, parts.length);
  sendJson(res, 200, { file_url: session.fileUrl });
}

function register(
  core: Core,
  session: UploadSession,
  file: string,
  size: number,
  sha256: string,
  contentType: string,
  parts: number,
): void {
  session.done = true;
  core.uploads.set(session.fileUrl, {
    size,
    sha256,
    contentType,
    fileName: session.fileName,
    multipart: session.multipart,
    parts,
  });
  core.media.setPath(session.filePath, { kind: "file", contentType, path: file, size, source: "upload" });
}
