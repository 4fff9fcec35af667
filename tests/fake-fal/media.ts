// Real bytes for generated media: valid PNGs (zlib), MP4s that start with an ftyp box, WAVs, GLBs.
// Large files are "synthetic": a real header followed by zero bytes produced while streaming, so a
// 100 MB video never sits in memory.
import { deflateSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

export type MediaEntry =
  | { kind: "buffer"; contentType: string; data: Buffer; source: "generated" | "upload" }
  | { kind: "synthetic"; contentType: string; head: Buffer; size: number; source: "generated" }
  | { kind: "file"; contentType: string; path: string; size: number; source: "upload" };

export const mediaSize = (m: MediaEntry): number => (m.kind === "buffer" ? m.data.length : m.size);

// ---------------------------------------------------------------- PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A valid RGB PNG. `noise` makes it incompressible (stored with deflate level 0) to reach a size. */
export function makePng(
  width: number,
  height: number,
  rgb: [number, number, number] = [64, 128, 192],
  noise = false,
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const rowLen = 1 + width * 3;
  const raw = Buffer.alloc(rowLen * height);
  if (noise) {
    let x = 0x12345678;
    for (let i = 0; i < raw.length; i++) {
      // xorshift: cheap deterministic noise
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      raw[i] = x & 0xff;
    }
    for (let y = 0; y < height; y++) raw[y * rowLen] = 0; // filter byte
  } else {
    for (let y = 0; y < height; y++) {
      for (let px = 0; px < width; px++) {
        const o = y * rowLen + 1 + px * 3;
        raw[o] = rgb[0];
        raw[o + 1] = rgb[1];
        raw[o + 2] = rgb[2];
      }
    }
  }
  const idat = deflateSync(raw, { level: noise ? 0 : 9 });
  return Buffer.concat([PNG_SIG, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]);
}

const pngCache = new Map<string, Buffer>();

/** Cached PNG of the given dimensions, or of about `bytes` bytes (then square noise). */
export function pngFor(
  width: number,
  height: number,
  bytes: number | null,
): { data: Buffer; width: number; height: number } {
  if (bytes && bytes > 0) {
    const side = Math.max(1, Math.floor(Math.sqrt(bytes / 3)));
    const key = `noise:${side}`;
    let data = pngCache.get(key);
    if (!data) pngCache.set(key, (data = makePng(side, side, [0, 0, 0], true)));
    return { data, width: side, height: side };
  }
  const w = Math.min(Math.max(1, Math.round(width)), 4096);
  const h = Math.min(Math.max(1, Math.round(height)), 4096);
  const key = `${w}x${h}`;
  let data = pngCache.get(key);
  if (!data) pngCache.set(key, (data = makePng(w, h)));
  return { data, width: w, height: h };
}

// ---------------------------------------------------------------- MP4, WAV, GLB, safetensors

function box(type: string, payload: Buffer, sizeOverride?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(sizeOverride ?? 8 + payload.length, 0);
  h.write(type, 4, "ascii");
  return Buffer.concat([h, payload]);
}

/** Header of an MP4 of `size` bytes: ftyp box, then an mdat box whose payload is streamed zeros. */
export function mp4Head(size: number): Buffer {
  const ftyp = box(
    "ftyp",
    Buffer.concat([
      Buffer.from("isom", "ascii"),
      Buffer.from([0, 0, 2, 0]),
      Buffer.from("isomiso2avc1mp41", "ascii"),
    ]),
  );
  const mdatSize = Math.max(8, size - ftyp.length);
  return Buffer.concat([ftyp, box("mdat", Buffer.alloc(0), mdatSize)]);
}

/** One second of a 440 Hz tone, 16-bit mono 16 kHz. */
export function makeWav(seconds = 1): Buffer {
  const rate = 16_000;
  const n = Math.round(rate * seconds);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), i * 2);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** A minimal valid binary glTF 2.0 (empty scene). */
export function makeGlb(): Buffer {
  let json = JSON.stringify({
    asset: { version: "2.0", generator: "fake-fal" },
    scenes: [{ nodes: [] }],
    scene: 0,
  });
  while (json.length % 4) json += " ";
  const jsonBuf = Buffer.from(json, "utf8");
  const header = Buffer.alloc(12);
  header.write("glTF", 0, "ascii");
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + 8 + jsonBuf.length, 8);
  const ch = Buffer.alloc(8);
  ch.writeUInt32LE(jsonBuf.length, 0);
  ch.writeUInt32LE(0x4e4f534a, 4); // "JSON"
  return Buffer.concat([header, ch, jsonBuf]);
}

export function makeSafetensors(): Buffer {
  const header = Buffer.from(
    JSON.stringify({ __metadata__: { format: "pt", generator: "fake-fal" } }),
    "utf8",
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header]);
}

// ---------------------------------------------------------------- CDN store

const ANIMALS = [
  "penguin",
  "lion",
  "zebra",
  "koala",
  "panda",
  "tiger",
  "rabbit",
  "elephant",
  "monkey",
  "kangaroo",
];

export class MediaStore {
  /** Keyed by path (`/files/...`); any `*.fal.media` host serves the same files. */
  readonly byPath = new Map<string, MediaEntry>();

  /** Registers a generated file and returns its public CDN URL. */
  add(fileName: string, entry: MediaEntry): string {
    const ns = ANIMALS[randomBytes(1)[0]! % ANIMALS.length]!;
    const path = `/files/${ns}/${randomBytes(12).toString("base64url")}/${fileName}`;
    this.byPath.set(path, entry);
    return `https://v3.fal.media${path}`;
  }

  setPath(path: string, entry: MediaEntry): void {
    this.byPath.set(path, entry);
  }

  /** Expiry (fake-clock ms) of files whose output asked for one (X-Fal-Object-Lifecycle-Preference). */
  readonly expiresAt = new Map<string, number>();

  /** Marks every CDN file URL in `output` (a normal, shallow output) to expire at `at`. */
  expireUrlsIn(output: unknown, at: number, depth = 0): void {
    if (depth > 20) return;
    if (typeof output === "string" && /^https:\/\/[^/]*fal\.media\/files\//.test(output)) {
      this.expiresAt.set(decodeURIComponent(new URL(output).pathname), at);
    } else if (Array.isArray(output)) {
      for (const v of output) this.expireUrlsIn(v, at, depth + 1);
    } else if (typeof output === "object" && output !== null) {
      for (const v of Object.values(output)) this.expireUrlsIn(v, at, depth + 1);
    }
  }

  /** The entry at `path`, or undefined when unknown or expired at `now`. */
  lookup(path: string, now: number): MediaEntry | undefined {
    const until = this.expiresAt.get(path);
    if (until !== undefined && now >= until) return undefined;
    return this.byPath.get(path);
  }

  clear(): void {
    this.byPath.clear();
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Streams a media entry (GET) or only its headers (HEAD), with Content-Type and Content-Length. */
export function serveMedia(req: IncomingMessage, res: ServerResponse, entry: MediaEntry): void {
  const size = mediaSize(entry);
  res.setHeader("Content-Type", entry.contentType);
  res.setHeader("Content-Length", String(size));
  res.setHeader("Cache-Control", "public, max-age=31536000");
  res.setHeader("Accept-Ranges", "none");
  res.writeHead(200);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  if (entry.kind === "buffer") {
    res.end(entry.data);
    return;
  }
  if (entry.kind === "file") {
    const stream = createReadStream(entry.path);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
    return;
  }
  // synthetic: head, then zeros, honouring backpressure
  let remaining = size - entry.head.length;
  const pump = (): void => {
    while (remaining > 0) {
      if (res.destroyed) return;
      const n = Math.min(remaining, ZEROS.length);
      remaining -= n;
      const ok = res.write(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n));
      if (!ok && remaining > 0) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  res.write(entry.head.subarray(0, Math.min(entry.head.length, size)));
  pump();
}
