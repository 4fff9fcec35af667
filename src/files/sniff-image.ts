/**
 * What an image's first bytes say it is. An inline preview is attached only when the bytes are an
 * image of the type announced: a server (or anything in front of it) that answers an HTML page,
 * a script or anything else with `Content-Type: image/png` must not get it into the conversation
 * labelled as an image. Only the types clients display inline are recognised.
 */

export type InlineImageType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

/** The image type of `bytes`, from their signature; undefined when they are not one of the four. */
export function sniffImageType(bytes: Uint8Array): InlineImageType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (
    startsWith(bytes, [0x47, 0x49, 0x46, 0x38]) &&
    (bytes[4] === 0x37 || bytes[4] === 0x39) &&
    bytes[5] === 0x61
  )
    return "image/gif";
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return "image/webp";
  return undefined;
}

/** The announced type, normalised ("image/jpg" is jpeg), or undefined. */
function normalise(type: string | undefined): string | undefined {
  const plain = type?.split(";")[0]?.trim().toLowerCase();
  return plain === "image/jpg" || plain === "image/pjpeg" ? "image/jpeg" : plain;
}

/**
 * The type to attach `bytes` inline as, or undefined when they must not be: they are not an
 * image, or not the image type announced (when one was announced).
 */
export function inlineImageType(
  bytes: Uint8Array,
  announced: string | undefined,
): InlineImageType | undefined {
  const sniffed = sniffImageType(bytes);
  if (!sniffed) return undefined;
  const claimed = normalise(announced);
  if (claimed && claimed !== "application/octet-stream" && claimed !== sniffed) return undefined;
  return sniffed;
}
