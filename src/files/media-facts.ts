import fsp from "node:fs/promises";
import { imageSize } from "image-size";

/**
 * What a result file is, beyond its type and size: an image's width×height, an audio or video
 * file's duration. Read from fal's output fields when they are sane (fal, or anything between,
 * can answer anything: 10^12, a string, a negative), else from the saved file's first bytes
 * (image headers through `image-size`, WAV's byte rate). Never more than a small bounded read.
 */

export interface MediaFacts {
  width?: number;
  height?: number;
  duration_seconds?: number;
}

/** Larger sides are not real media (JPEG and WebP stop at 65535; PNG's 2^31 is never generated). */
const MAX_SIDE = 100_000;
/** A week: longer durations are not a generated file's. */
const MAX_DURATION_SECONDS = 7 * 24 * 3600;
/** How much of a saved file is read for its header (JPEG's size can follow up to 64 KiB of EXIF per segment). */
const HEADER_BYTES = 256 * 1024;

/** A whole number of pixels in 1..MAX_SIDE (a number, or digits as fal sometimes sends). */
function side(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isInteger(number) && number >= 1 && number <= MAX_SIDE
    ? number
    : undefined;
}

/** Seconds in (0, a week], rounded to milliseconds. */
function seconds(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d{1,7}(\.\d{1,6})?$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number > 0 && number <= MAX_DURATION_SECONDS
    ? Math.round(number * 1000) / 1000
    : undefined;
}

/** Only the facts that are set, so a file without any keeps its old shape. */
function defined(facts: MediaFacts): MediaFacts {
  const out: MediaFacts = {};
  if (facts.width !== undefined && facts.height !== undefined) {
    out.width = facts.width;
    out.height = facts.height;
  }
  if (facts.duration_seconds !== undefined) out.duration_seconds = facts.duration_seconds;
  return out;
}

/** Facts fal states on a file object: width/height, duration (or num_frames over fps). */
export function factsFromFields(fields: Record<string, unknown>): MediaFacts {
  const frames = side(fields.num_frames);
  const fps = seconds(fields.fps);
  return defined({
    width: side(fields.width),
    height: side(fields.height),
    duration_seconds:
      seconds(fields.duration) ??
      seconds(fields.duration_seconds) ??
      (frames !== undefined && fps !== undefined ? seconds(frames / fps) : undefined),
  });
}

/** Facts stated next to the file instead of on it (`{audio: {url}, duration: 3.2}`). */
export function durationBeside(parent: Record<string, unknown>): number | undefined {
  return seconds(parent.duration) ?? seconds(parent.duration_seconds) ?? seconds(parent.audio_duration);
}

/** Dimensions of an image, or the duration of a WAV or MP4/MOV, from a few bytes of a saved file. */
export async function factsFromFile(file: string, contentType: string | null): Promise<MediaFacts> {
  const type = (contentType ?? "").toLowerCase();
  const image = type.startsWith("image/");
  const wav = /^audio\/(x-)?wav(e)?$|^audio\/vnd\.wave$/.test(type);
  if (/^(video|audio)\/(mp4|quicktime|x-m4a|m4a)$/.test(type))
    return defined({ duration_seconds: await mp4Duration(file).catch(() => undefined) });
  if (!image && !wav) return {};
  let header: Buffer;
  try {
    const handle = await fsp.open(file, "r");
    try {
      const buffer = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
      header = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return {};
  }
  if (wav) return defined({ duration_seconds: wavDuration(header) });
  try {
    const size = imageSize(header);
    return defined({ width: side(size.width), height: side(size.height) });
  } catch {
    // Not an image format it knows, or the header is cut: no dimensions, not an error.
    return {};
  }
}

/** A RIFF/WAVE file's duration: the data chunk's size over the fmt chunk's byte rate. */
export function wavDuration(header: Buffer): number | undefined {
  if (header.length < 12 || header.toString("latin1", 0, 4) !== "RIFF") return undefined;
  if (header.toString("latin1", 8, 12) !== "WAVE") return undefined;
  let byteRate: number | undefined;
  let offset = 12;
  // At most 64 chunks before "data": a header is a few.
  for (let chunk = 0; chunk < 64 && offset + 8 <= header.length; chunk++) {
    const id = header.toString("latin1", offset, offset + 4);
    const size = header.readUInt32LE(offset + 4);
    if (id === "fmt " && offset + 20 <= header.length) byteRate = header.readUInt32LE(offset + 16);
    if (id === "data") return byteRate ? seconds(size / byteRate) : undefined;
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** Top-level boxes looked at before giving up (ftyp, free, mdat, moov, … : a file has a handful). */
const MAX_TOP_BOXES = 32;
/** Bytes of the moov box searched for its mvhd (it comes first in every file seen; 64 KiB is generous). */
const MOOV_HEAD_BYTES = 64 * 1024;

/**
 * An MP4 or QuickTime file's duration from its movie header (moov → mvhd: duration over
 * timescale). Reads only box headers, skipping the media data, so a moov at the end of a large
 * file costs a few small reads.
 */
export async function mp4Duration(file: string): Promise<number | undefined> {
  const handle = await fsp.open(file, "r");
  try {
    const { size: fileSize } = await handle.stat();
    const header = Buffer.alloc(16);
    let offset = 0;
    for (let box = 0; box < MAX_TOP_BOXES && offset + 8 <= fileSize; box++) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < 8) return undefined;
      let size = header.readUInt32BE(0);
      const type = header.toString("latin1", 4, 8);
      let headerSize = 8;
      if (size === 1) {
        if (bytesRead < 16) return undefined;
        size = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (size === 0) size = fileSize - offset;
      if (size < headerSize) return undefined;
      if (type === "moov") {
        const length = Math.min(size - headerSize, MOOV_HEAD_BYTES);
        const moov = Buffer.alloc(length);
        const read = await handle.read(moov, 0, length, offset + headerSize);
        return movieHeaderDuration(moov.subarray(0, read.bytesRead));
      }
      offset += size;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/** mvhd among the children of a moov box: version 0 has 32-bit times, version 1 64-bit. */
export function movieHeaderDuration(moov: Buffer): number | undefined {
  let offset = 0;
  while (offset + 8 <= moov.length) {
    const size = moov.readUInt32BE(offset);
    const type = moov.toString("latin1", offset + 4, offset + 8);
    if (type === "mvhd") {
      const body = offset + 8;
      if (body + 1 > moov.length) return undefined;
      const version = moov.readUInt8(body);
      const [scaleAt, durationAt, end] =
        version === 1 ? [body + 20, body + 24, body + 32] : [body + 12, body + 16, body + 20];
      if (end > moov.length) return undefined;
      const timescale = moov.readUInt32BE(scaleAt);
      const duration =
        version === 1 ? Number(moov.readBigUInt64BE(durationAt)) : moov.readUInt32BE(durationAt);
      return timescale > 0 ? seconds(duration / timescale) : undefined;
    }
    if (size < 8) return undefined;
    offset += size;
  }
  return undefined;
}
