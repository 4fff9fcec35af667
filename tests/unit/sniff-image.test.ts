import { describe, expect, it } from "vitest";
import { inlineImageType, sniffImageType } from "../../src/files/sniff-image.js";

const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const jpeg = Buffer.from("ffd8ffe000104a464946", "hex");
const gif = Buffer.from("GIF89a\x01\x00", "latin1");
const webp = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WEBPVP8 ")]);
const html = Buffer.from("<!doctype html><html><script>alert(1)</script>");

describe("sniffImageType", () => {
  it.each([
    [png, "image/png"],
    [jpeg, "image/jpeg"],
    [gif, "image/gif"],
    [webp, "image/webp"],
    [html, undefined],
    [Buffer.alloc(0), undefined],
    [Buffer.from("\x89PNG"), undefined],
  ])("%#", (bytes, type) => expect(sniffImageType(bytes)).toBe(type));
});

describe("inlineImageType", () => {
  it("refuses HTML announced as image/png", () => expect(inlineImageType(html, "image/png")).toBeUndefined());
  it("refuses a JPEG announced as PNG", () => expect(inlineImageType(jpeg, "image/png")).toBeUndefined());
  it("accepts the announced type, jpg spelled either way, or none announced", () => {
    expect(inlineImageType(png, "image/png; charset=binary")).toBe("image/png");
    expect(inlineImageType(jpeg, "image/jpg")).toBe("image/jpeg");
    expect(inlineImageType(webp, undefined)).toBe("image/webp");
    expect(inlineImageType(gif, "application/octet-stream")).toBe("image/gif");
  });
});
