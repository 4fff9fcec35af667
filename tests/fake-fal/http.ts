// Small HTTP helpers shared by the routes. Headers are always set with setHeader (never passed to
// writeHead) so that fault interceptors can read them back with getHeader.
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * JSON text sent verbatim where it appears in a body, for hostile outputs that JSON.stringify
 * cannot produce (or would overflow the fake's own stack on), such as 6,000-deep nesting.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify that splices in RawJson values as their text. */
export function toJsonText(body: unknown): string {
  if (body instanceof RawJson) return body.text;
  const raws: string[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) =>
    v instanceof RawJson ? `\u0000raw:${raws.push(v.text) - 1}\u0000` : v,
  );
  if (!raws.length) return text;
  return text.replace(/"\\u0000raw:(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(toJsonText(body), "utf8");
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", String(data.length));
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.writeHead(status);
  res.end(data);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = "text/plain; charset=utf-8",
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(text, "utf8");
  res.setHeader("Content-Type", contentType);
  res.setHeader("Content-Length", String(data.length));
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.writeHead(status);
  res.end(data);
}

export class BodyTooLarge extends Error {}

/** Reads a whole (small) body; bodies over `limit` are refused so nothing huge is buffered. */
export function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge(`body over ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("request aborted")));
  });
}

export type JsonResult = { ok: true; value: unknown } | { ok: false };

/**
 * Reads a JSON body. An empty body counts as `{}` (the official client sends no body on some
 * POSTs). Malformed JSON answers 400 in fal's flat error form and returns `{ok: false}`.
 */
export async function readJson(
  req: IncomingMessage,
  res: ServerResponse,
  envelope = false,
): Promise<JsonResult> {
  let buf: Buffer;
  try {
    buf = await readBody(req);
  } catch (e) {
    if (e instanceof BodyTooLarge) {
      if (!res.headersSent)
        sendJson(res, 413, { detail: "Request body too large", error_type: "bad_request" });
    } else if (!res.destroyed) {
      res.destroy();
    }
    return { ok: false };
  }
  const text = buf.toString("utf8").trim();
  if (!text) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    const message = `Malformed JSON body: ${(e as Error).message}`;
    if (envelope) sendJson(res, 400, { error: { type: "validation_error", message } });
    else
      sendJson(
        res,
        400,
        { detail: message, error_type: "bad_request" },
        { "X-Fal-Error-Type": "bad_request" },
      );
    return { ok: false };
  }
}

/** decodeURIComponent that leaves a malformed escape as it is. */
export const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function platformError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { error: { type, message, docs_url: "https://fal.ai/docs/platform-apis" } });
}

export const NGINX_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out",
};

export function nginxPage(status: number): string {
  const text = `${status} ${NGINX_TEXT[status] ?? "Error"}`;
  return `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}
