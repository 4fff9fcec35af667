// The upload row's Node floor: what Node itself needs to send a file to the fake of fal the way
// fal-mcp sends it, with none of fal-mcp's code. A bare script (no tsx, no bundle, no flags), run
// in a fresh process by bench/rows/upload.ts:
//
//   node bench/floors/node-upload.mjs '{"baseUrl":…,"key":…,"warmUp":…,"file":…,"mode":…}'
//
// It does what upload_file does: a 1 KiB single-PUT upload first (initiate, one PUT: the same
// warm-up the row gives the server), then the measured upload: initiate-multipart on
// rest.fal.ai, 10 MiB parts PUT to the signed *.fal.media URL (through the FAL_MCP_BASE_URL
// redirect), 3 in flight on keep-alive sockets, then complete with every part's etag. One JSON
// line on stdout: the CPU seconds of the measured upload only (process.cpuUsage() around it, so
// process start and the warm-up are not counted), wall seconds and the file URL.
//
// Modes (how each part's bytes get from the file to the socket; the row uses the default, loop,
// the cheapest measured: see bench/rows/upload.ts's notes):
//   stream  fs.createReadStream({ start, end }).pipe(request): the plain Node way.
//   loop    positional reads into two reused buffers, request.write as the socket drains (what
//           fal-mcp's sendRange does, with no stall timer, progress or chunk sizing), 2 MiB chunks.
//   whole   one read of the whole part into a reused 10 MiB buffer, one request.end(buffer).
// Options for trying variants by hand: "chunk" (loop's chunk bytes), "sync": true (readSync).
import { Buffer } from "node:buffer";
import http from "node:http";
import { createReadStream, readSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { URL } from "node:url";

const config = JSON.parse(process.argv[2] ?? "{}");
const MULTIPART_THRESHOLD = 90 * 1024 * 1024; // fal-mcp's rule: files over 90 MiB go in parts
const PART_SIZE = 10 * 1024 * 1024;
const PART_CONCURRENCY = 3;
const LOOP_CHUNK = config.chunk ?? 2 * 1024 * 1024;

const mode = config.mode ?? "loop";
if (!["stream", "loop", "whole"].includes(mode)) throw new Error(`unknown mode ${mode}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: PART_CONCURRENCY });

/** A fal URL (https://host/path?query) through the redirect: base/host/path?query. */
const redirected = (url) => {
  const parsed = new URL(url);
  return new URL(`${config.baseUrl}/${parsed.host}${parsed.pathname}${parsed.search}`);
};

/** Sends one request; `body(request)` writes the body and ends it. Resolves with the JSON answer. */
function send(url, options, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent, ...options }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => {
        if (response.statusCode < 200 || response.statusCode >= 300)
          return reject(new Error(`${options.method} ${url.pathname}: HTTP ${response.statusCode} ${text}`));
        resolve(JSON.parse(text));
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    body(request);
  });
}

const postJson = (url, value, headers = {}) => {
  const text = JSON.stringify(value);
  return send(
    url,
    {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) },
    },
    (request) => request.end(text),
  );
};

const initiate = (route, fileName, contentType) =>
  postJson(
    redirected(`https://rest.fal.ai/storage/upload/${route}?storage_type=fal-cdn-v3`),
    { content_type: contentType, file_name: fileName },
    { authorization: `Key ${config.key}` },
  );

/** Buffers kept for the next part (the loop and whole modes reuse them like fal-mcp's ChunkPool). */
const free = [];
const takeBuffer = (size) => free.pop() ?? Buffer.allocUnsafeSlow(size);

/** Reads exactly `length` bytes at `position` into `buffer`. */
async function readFully(handle, buffer, length, position) {
  let filled = 0;
  while (filled < length) {
    const bytesRead = config.sync
      ? readSync(handle.fd, buffer, filled, length - filled, position + filled)
      : (await handle.read(buffer, filled, length - filled, position + filled)).bytesRead;
    if (bytesRead === 0) throw new Error("the file became shorter");
    filled += bytesRead;
  }
}

/** Writes bytes [start, end) of the file (`handle`, opened from `file`) into `request` and ends it. */
async function writeRange(request, { handle, file }, start, end) {
  if (mode === "stream") {
    createReadStream(file, { start, end: end - 1 }).pipe(request);
    return;
  }
  if (mode === "whole") {
    const buffer = end - start <= PART_SIZE ? takeBuffer(PART_SIZE) : Buffer.allocUnsafeSlow(end - start);
    await readFully(handle, buffer, end - start, start);
    request.end(buffer.subarray(0, end - start), () => free.push(buffer));
    return;
  }
  const buffers = [takeBuffer(LOOP_CHUNK), takeBuffer(LOOP_CHUNK)];
  let writing;
  let turn = 0;
  for (let position = start; position < end;) {
    const length = Math.min(LOOP_CHUNK, end - position);
    await readFully(handle, buffers[turn], length, position);
    await writing; // the other buffer is free once the socket took it
    writing = new Promise((resolve, reject) =>
      request.write(buffers[turn].subarray(0, length), (error) => (error ? reject(error) : resolve())),
    );
    position += length;
    turn = 1 - turn;
  }
  await writing;
  request.end();
  free.push(...buffers);
}

function putRange(url, source, start, end, headers = {}) {
  return send(url, { method: "PUT", headers: { ...headers, "content-length": end - start } }, (request) =>
    writeRange(request, source, start, end).catch((error) => request.destroy(error)),
  );
}

/** The part URL: /upload/<token>/<n>?sig=… (the signed URL's path plus the part number). */
const partUrl = (uploadUrl, suffix) => {
  const url = redirected(uploadUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${suffix}`;
  return url;
};

async function uploadSingle(file, handle, size, contentType) {
  const target = await initiate("initiate", path.basename(file), contentType);
  await putRange(redirected(target.upload_url), { handle, file }, 0, size, { "content-type": contentType });
  return target.file_url;
}

async function upload(file, contentType) {
  const handle = await open(file);
  try {
    const { size } = await handle.stat();
    if (size <= MULTIPART_THRESHOLD) return await uploadSingle(file, handle, size, contentType);
    const target = await initiate("initiate-multipart", path.basename(file), contentType);
    const parts = Math.ceil(size / PART_SIZE);
    const etags = new Array(parts);
    let next = 0;
    const worker = async () => {
      while (next < parts) {
        const index = next++;
        const start = index * PART_SIZE;
        const answer = await putRange(
          partUrl(target.upload_url, index + 1),
          { handle, file },
          start,
          Math.min(size, start + PART_SIZE),
        );
        etags[index] = { partNumber: index + 1, etag: answer.etag };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, parts) }, worker));
    partsAcknowledged = performance.now(); // what the row's throughput of fal-mcp is timed to
    await postJson(partUrl(target.upload_url, "complete"), { parts: etags });
    return target.file_url;
  } finally {
    await handle.close();
  }
}

/** When the last part was acknowledged (multipart), before the complete request. */
let partsAcknowledged;
await upload(config.warmUp, "text/plain");
const before = process.cpuUsage();
const started = performance.now();
partsAcknowledged = undefined;
const fileUrl = await upload(config.file, "application/octet-stream");
const seconds = (performance.now() - started) / 1000;
const transferSeconds = ((partsAcknowledged ?? performance.now()) - started) / 1000;
const { user, system } = process.cpuUsage(before);
agent.destroy();
process.stdout.write(
  JSON.stringify({
    mode,
    fileUrl,
    seconds,
    transferSeconds,
    cpuSeconds: (user + system) / 1e6,
    user: user / 1e6,
    system: system / 1e6,
  }) + "\n",
);
