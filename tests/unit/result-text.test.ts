import { describe, expect, it } from "vitest";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { factsFromFields, factsFromFile, wavDuration } from "../../src/files/media-facts.js";
import type { ResultFile } from "../../src/files/media.js";
import { completedText, madeLine, promptWords } from "../../src/tools/result-text.js";
import { formatDuration, oneLine } from "../../src/util/format.js";

const file = (over: Partial<ResultFile> = {}): ResultFile => ({
  url: "https://v3.fal.media/files/a/1.png",
  field: "images[0]",
  content_type: "image/png",
  size: 2048,
  path: "/out/1.png",
  error: null,
  ...over,
});

describe("oneLine", () => {
  it("drops escapes and control characters, folds whitespace, and cuts long text", () => {
    expect(oneLine("\u001b[31mred\u001b[0m\nnext\u0007 \u001b]0;title\u0007line\u202e", 100)).toBe(
      "red next line",
    );
    expect(oneLine("x".repeat(50), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("promptWords", () => {
  it("quotes the first 12 words, with … when there are more; nothing for a non-string or blank", () => {
    expect(promptWords("a fox")).toBe('"a fox"');
    expect(promptWords("one two three four five six seven eight nine ten eleven twelve thirteen")).toBe(
      '"one two three four five six seven eight nine ten eleven twelve…"',
    );
    expect(promptWords('say "hi"')).toBe(`"say 'hi'"`);
    expect(promptWords(42)).toBeUndefined();
    expect(promptWords("\n\u001b[2J \t")).toBeUndefined();
  });

  it("keeps a prompt of one huge word short", () => {
    const words = promptWords("y".repeat(1_000_000))!;
    expect(words.length).toBeLessThanOrEqual(103);
    expect(words.endsWith('…"')).toBe(true);
  });
});

describe("media facts from fal's fields", () => {
  it("believes sane numbers (or digit strings) only", () => {
    expect(factsFromFields({ width: 1024, height: "768" })).toEqual({ width: 1024, height: 768 });
    expect(factsFromFields({ width: 1e12, height: 768 })).toEqual({});
    expect(factsFromFields({ width: 1.5, height: 2 })).toEqual({});
    expect(factsFromFields({ width: "12px", height: -1 })).toEqual({});
    expect(factsFromFields({ duration: 5.0421 })).toEqual({ duration_seconds: 5.042 });
    expect(factsFromFields({ duration: "forever", num_frames: 120, fps: 24 })).toEqual({
      duration_seconds: 5,
    });
    expect(factsFromFields({ duration: Number.POSITIVE_INFINITY, fps: 0, num_frames: 10 })).toEqual({});
    expect(factsFromFields({ duration: 1e9 })).toEqual({});
  });
});

describe("wavDuration", () => {
  const wav = (dataBytes: number, byteRate: number, extraChunk = false): Buffer => {
    const extra = extraChunk
      ? Buffer.concat([Buffer.from("LIST"), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])])
      : Buffer.alloc(0);
    const header = Buffer.alloc(36);
    header.write("RIFF", 0, "latin1");
    header.write("WAVE", 8, "latin1");
    header.write("fmt ", 12, "latin1");
    header.writeUInt32LE(16, 16);
    header.writeUInt32LE(byteRate, 28);
    const data = Buffer.alloc(8);
    data.write("data", 0, "latin1");
    data.writeUInt32LE(dataBytes, 4);
    return Buffer.concat([header, extra, data]);
  };
  it("is the data size over the byte rate, past other chunks; undefined for junk", () => {
    expect(wavDuration(wav(64_000, 32_000))).toBe(2);
    expect(wavDuration(wav(48_000, 32_000, true))).toBe(1.5);
    expect(wavDuration(wav(64_000, 0))).toBeUndefined();
    expect(wavDuration(Buffer.from("RIFF0000WAVx"))).toBeUndefined();
    expect(wavDuration(Buffer.alloc(3))).toBeUndefined();
  });
});

describe("the text of many files", () => {
  it("lists the first 10 and summarises the rest; one made line whatever their number", () => {
    const files = Array.from({ length: 15 }, (_, index) =>
      file({
        field: `images[${index}]`,
        path: `/out/${index}.png`,
        width: 512,
        height: index < 14 ? 512 : 256,
      }),
    );
    const summary = madeLine({ files, prompt: '"a fox"', cost: undefined, estimateUsd: 0.15 });
    expect(summary).toBe(
      'Made 15 images (PNG, 512×512, 512×256) from "a fox", 15 saved (paths below); cost about $0.15 (estimated; the cost is not known yet).',
    );
    const text = completedText(
      { request_id: "r", endpoint_id: "e/x", status: "COMPLETED", output_dir: "/out" },
      files,
      {},
      summary,
    );
    expect(text).toContain("10. images[9]");
    expect(text).not.toContain("11. images[10]");
    expect(text).toContain(
      "… and 5 more (5 of them saved in /out); every file and path is in structuredContent.files.",
    );
  });

  it("says various sizes past two, totals durations, and names no file for a text-only job", () => {
    const sizes = [1, 2, 3].map((side) => file({ width: side, height: side }));
    expect(madeLine({ files: sizes, prompt: undefined, cost: undefined })).toMatch(
      /^Made 3 images \(PNG, various sizes\), 3 saved \(paths below\); cost unknown\.$/,
    );
    const clips = [4, 6].map((seconds) =>
      file({ content_type: "audio/mpeg", duration_seconds: seconds, path: null }),
    );
    expect(madeLine({ files: clips, prompt: undefined, cost: undefined })).toBe(
      "Made 2 audio files (MPEG, 10 s in all); cost unknown.",
    );
    expect(madeLine({ files: [], prompt: '"hi"', cost: undefined })).toBe(
      'Made no media files from "hi"; cost unknown.',
    );
  });
});

describe("formatDuration", () => {
  it("reads like a person would say it", () => {
    expect(formatDuration(1)).toBe("1 s");
    expect(formatDuration(4.25)).toBe("4.3 s");
    expect(formatDuration(12.4)).toBe("12 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(3600 * 2 + 60 * 3)).toBe("2 h 3 min");
  });
});

describe("MP4 duration from the movie header", () => {
  const box = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.length, 0);
    head.write(type, 4, "latin1");
    return Buffer.concat([head, body]);
  };
  const mvhd = (version: 0 | 1, timescale: number, duration: number): Buffer => {
    const body = Buffer.alloc(version === 1 ? 32 : 20);
    body.writeUInt8(version, 0);
    if (version === 1) {
      body.writeUInt32BE(timescale, 20);
      body.writeBigUInt64BE(BigInt(duration), 24);
    } else {
      body.writeUInt32BE(timescale, 12);
      body.writeUInt32BE(duration, 16);
    }
    return box("mvhd", body);
  };
  const ftyp = box("ftyp", Buffer.from("isom\0\0\x02\0isomiso2", "latin1"));

  it("reads moov before the media, or after it without reading the media", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-mp4-"));
    try {
      const front = path.join(dir, "front.mp4");
      await fs.writeFile(
        front,
        Buffer.concat([ftyp, box("moov", mvhd(0, 1000, 5000)), box("mdat", Buffer.alloc(64))]),
      );
      expect(await factsFromFile(front, "video/mp4")).toEqual({ duration_seconds: 5 });
      // 8 MiB of media before the moov: only box headers are read.
      const back = path.join(dir, "back.mov");
      await fs.writeFile(
        back,
        Buffer.concat([
          ftyp,
          box("mdat", Buffer.alloc(8 * 1024 * 1024)),
          box("moov", Buffer.concat([box("free", Buffer.alloc(4)), mvhd(1, 600, 7500)])),
        ]),
      );
      expect(await factsFromFile(back, "video/quicktime")).toEqual({ duration_seconds: 12.5 });
      // An "unknown" duration (all ones), a zero timescale, a box that claims 3 bytes: nothing.
      const odd = path.join(dir, "odd.mp4");
      await fs.writeFile(odd, Buffer.concat([ftyp, box("moov", mvhd(0, 1000, 0xffffffff))]));
      expect(await factsFromFile(odd, "video/mp4")).toEqual({});
      await fs.writeFile(odd, Buffer.concat([ftyp, box("moov", mvhd(0, 0, 10))]));
      expect(await factsFromFile(odd, "video/mp4")).toEqual({});
      await fs.writeFile(odd, Buffer.from([0, 0, 0, 3, 0x66, 0x74, 0x79, 0x70, 0, 0, 0, 0]));
      expect(await factsFromFile(odd, "video/mp4")).toEqual({});
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
