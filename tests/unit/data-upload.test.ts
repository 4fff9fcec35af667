import { describe, expect, it } from "vitest";
import {
  contentTypeOfBytes,
  decodeBase64Data,
  defaultFileName,
  MAX_DATA_BYTES,
} from "../../src/files/data-upload.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const JPEG = Buffer.from("ffd8ffe000104a46494600010100000100010000", "hex");
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00", "latin1");
const WEBP = Buffer.from("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00", "latin1");
const WAV = Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00", "latin1");
// An ID3v2 tag, then an MPEG-1 layer III frame header.
const MP3 = Buffer.concat([
  Buffer.from("ID3\x04\x00\x00\x00\x00\x00\x00", "latin1"),
  Buffer.from("fffb9064", "hex"),
  Buffer.alloc(400),
]);
const MP4 = Buffer.concat([
  Buffer.from("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "latin1"),
  Buffer.alloc(16),
]);
const PDF = Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1");

describe("decodeBase64Data", () => {
  it("decodes standard and URL-safe base64, with or without padding and line breaks", () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01, 0x02]);
    expect(decodeBase64Data(bytes.toString("base64")).bytes).toEqual(bytes);
    expect(decodeBase64Data(bytes.toString("base64url")).bytes).toEqual(bytes);
    expect(decodeBase64Data(bytes.toString("base64").replace(/=+$/, "")).bytes).toEqual(bytes);
    const wrapped = PNG.toString("base64").replace(/(.{8})/g, "$1\n");
    expect(decodeBase64Data(wrapped).bytes).toEqual(PNG);
  });

  it("takes a data: URI and keeps its declared type", () => {
    const decoded = decodeBase64Data(`data:image/png;base64,${PNG.toString("base64")}`);
    expect(decoded.bytes).toEqual(PNG);
    expect(decoded.declaredType).toBe("image/png");
    expect(decodeBase64Data(`data:;base64,${PNG.toString("base64")}`).declaredType).toBeUndefined();
  });

  it("refuses what is not complete base64 instead of uploading something else", () => {
    expect(() => decodeBase64Data("")).toThrow(/empty/);
    expect(() => decodeBase64Data("   ")).toThrow(/empty/);
    expect(() => decodeBase64Data("aGVsbG8*d29ybGQ=")).toThrow(/not valid base64/);
    expect(() => decodeBase64Data("ab+c_d==")).toThrow(/not valid base64/); // mixed alphabets
    expect(() => decodeBase64Data("aGVsbG8=x")).toThrow(/not valid base64/); // padding in the middle
    expect(() => decodeBase64Data("aGVsb")).toThrow(/not complete/); // 5 chars: one byte cut
    expect(() => decodeBase64Data("aGVsbA=")).toThrow(/not complete/); // wrong padding
    expect(() => decodeBase64Data("data:text/plain,hello")).toThrow(/without base64/);
  });

  it("caps the decoded size before decoding, and names the way for larger files", () => {
    const justFits = Buffer.alloc(MAX_DATA_BYTES, 7).toString("base64");
    expect(decodeBase64Data(justFits).bytes.length).toBe(MAX_DATA_BYTES);
    const tooBig = Buffer.alloc(MAX_DATA_BYTES + 1, 7).toString("base64");
    expect(() => decodeBase64Data(tooBig)).toThrow(/above the 1\.0 MiB limit/);
    try {
      decodeBase64Data(Buffer.alloc(10).toString("base64"), 9);
      expect.unreachable();
    } catch (error) {
      expect((error as { nextStep?: string }).nextStep).toMatch(/prepare_upload/);
    }
  });
});

describe("contentTypeOfBytes", () => {
  it("finds fal's usual media types from the bytes alone", async () => {
    const cases: [Buffer, string][] = [
      [PNG, "image/png"],
      [JPEG, "image/jpeg"],
      [GIF, "image/gif"],
      [WEBP, "image/webp"],
      [WAV, "audio/wav"],
      [MP3, "audio/mpeg"],
      [MP4, "video/mp4"],
      [PDF, "application/pdf"],
    ];
    for (const [bytes, type] of cases) expect(await contentTypeOfBytes(bytes, {}), type).toBe(type);
  });

  it("prefers what the caller said, then a data: URI's type, then the bytes over the file name", async () => {
    expect(await contentTypeOfBytes(PNG, { contentType: "image/x-custom", fileName: "a.jpg" })).toBe(
      "image/x-custom",
    );
    expect(await contentTypeOfBytes(PNG, { declaredType: "image/apng" })).toBe("image/apng");
    expect(await contentTypeOfBytes(PNG, { fileName: "wrongly-named.jpg" })).toBe("image/png");
  });

  it("falls back to the file name for text formats, else application/octet-stream", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(await contentTypeOfBytes(svg, { fileName: "logo.svg" })).toBe("image/svg+xml");
    expect(await contentTypeOfBytes(Buffer.from("1\n00:00:01,000 --> 00:00:02,000\nhi\n"), {})).toBe(
      "application/octet-stream",
    );
  });
});

describe("defaultFileName", () => {
  it("names bytes after their type", () => {
    expect(defaultFileName("image/jpeg")).toBe("upload.jpg");
    expect(defaultFileName("video/mp4")).toBe("upload.mp4");
    expect(defaultFileName("image/avif")).toBe("upload.avif");
    expect(defaultFileName("application/octet-stream")).toBe("upload.bin");
    expect(defaultFileName("image/svg+xml")).toBe("upload.bin");
  });
});
