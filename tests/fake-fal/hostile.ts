// Hostile model outputs (issue 11): what fal, or anything between us and fal, could answer. Each is
// switched on per endpoint with `setBehavior(id, {hostile: {...}})`; see README.md.
import { randomBytes } from "node:crypto";
import type { HostileOutput } from "./hostile-types.js";
import { RawJson } from "./http.js";
import { type MediaStore, mp4Head, pngFor } from "./media.js";
import type { Job } from "./types.js";

/**
 * Media URLs a client must refuse without connecting. Only the `{canary}` ones are loopback (the
 * fake's canary listener counts connections to them); the rest are private, link-local, CGNAT or
 * metadata addresses that no test may ever reach, so a client must refuse them before connecting.
 */
export const PRIVATE_MEDIA_URLS: readonly string[] = [
  "http://{canary}/image.png",
  "http://localhost:{port}/image.png",
  "http://[::1]:{port}/image.png",
  "http://[::ffff:127.0.0.1]:{port}/image.png",
  "http://[::ffff:7f00:1]:{port}/image.png",
  "http://2130706433:{port}/image.png", // decimal 127.0.0.1
  "http://0x7f000001:{port}/image.png", // hex 127.0.0.1
  "http://0.0.0.0:{port}/image.png", // reaches loopback on Linux
  "http://10.0.0.1/image.png",
  "http://172.16.0.1/image.png",
  "http://192.168.1.1/image.png",
  "http://100.64.0.1/image.png", // CGNAT
  "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
  "http://[fd00:ec2::254]/latest/meta-data/", // AWS IPv6 metadata
  "http://[::ffff:169.254.169.254]/latest/meta-data/",
  "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
  "http://[::ffff:10.0.0.1]/image.png",
  "http://[fe80::1]/image.png",
  "http://[fc00::1]/image.png",
];

/** The default private URLs with the canary's host:port filled in. */
export function privateUrls(canaryUrl: string): string[] {
  const host = new URL(canaryUrl).host;
  const port = new URL(canaryUrl).port;
  return PRIVATE_MEDIA_URLS.map((u) => u.replace("{canary}", host).replace("{port}", port));
}

const HTML_PAGE =
  "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1>" +
  "<script>document.location='https://example.invalid/'</script></body></html>\n";

const echoPlaces = (h: Extract<HostileOutput, { kind: "echo-key" }>): Set<string> =>
  new Set(h.in ?? ["output", "logs", "signed-url"]);

/** Extra status log lines of a hostile job (the echo-key log line). */
export function hostileLogLines(job: Job & { callerKey?: string }): string[] {
  const h = job.behavior.hostile;
  if (h?.kind !== "echo-key" || !echoPlaces(h).has("logs")) return [];
  return [`Authenticated with Authorization: Key ${job.callerKey ?? ""}`];
}

/** The output of a job with a hostile behaviour, and its billed units (always 1). */
export function generateHostile(
  h: HostileOutput,
  job: Job & { callerKey?: string },
  media: MediaStore,
  canaryUrl: string,
): { output: unknown; units: number } {
  const seed = 42;
  const png = (): Buffer => pngFor(64, 64, null).data;
  switch (h.kind) {
    case "deep": {
      const depth = Math.max(1, h.depth ?? 6000);
      return {
        output: new RawJson(`{"data":${"[".repeat(depth)}${"]".repeat(depth)},"seed":${seed}}`),
        units: 1,
      };
    }
    case "large": {
      const bytes = Math.max(1, h.bytes ?? 3 * 1024 * 1024);
      if (h.as === "data-uri") {
        const p = pngFor(0, 0, Math.floor((bytes * 3) / 4));
        const url = `data:image/png;base64,${p.data.toString("base64")}`;
        return {
          output: { images: [{ url, width: p.width, height: p.height, content_type: "image/png" }], seed },
          units: 1,
        };
      }
      const line = "All work and no play makes a very large model output. ";
      return {
        output: { text: line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes), seed },
        units: 1,
      };
    }
    case "echo-key": {
      const at = echoPlaces(h);
      const key = job.callerKey ?? "";
      let url = media.add("signed.png", {
        kind: "buffer",
        contentType: "image/png",
        data: png(),
        source: "generated",
      });
      if (at.has("signed-url"))
        url += `?token=${encodeURIComponent(key)}&X-Amz-Signature=${randomBytes(8).toString("hex")}`;
      const output: Record<string, unknown> = {
        images: [{ url, width: 64, height: 64, content_type: "image/png" }],
        seed,
      };
      if (at.has("output")) output.debug = { authorization: `Key ${key}`, note: `used key ${key}` };
      return { output, units: 1 };
    }
    case "private-urls": {
      const urls = h.urls ?? privateUrls(canaryUrl);
      return {
        output: {
          images: urls.map((url) => ({ url, width: 64, height: 64, content_type: "image/png" })),
          seed,
        },
        units: urls.length,
      };
    }
    case "bad-facts": {
      const image = (name: string, side: number) => {
        const p = pngFor(side, side, null);
        return media.add(name, {
          kind: "buffer",
          contentType: "image/png",
          data: p.data,
          source: "generated",
        });
      };
      const video = media.add("output.mp4", {
        kind: "synthetic",
        contentType: "video/mp4",
        head: mp4Head(4096),
        size: 4096,
        source: "generated",
      });
      return {
        output: {
          images: [
            { url: image("a.png", 48), width: 1e12, height: "768", content_type: "image/png" },
            { url: image("b.png", 32), width: "wide\n\u001b[31mRED", height: -5, content_type: "image/png" },
          ],
          video: { url: video, content_type: "video/mp4", duration: "forever", fps: 0, num_frames: 1e12 },
          prompt: "\u001b[2J\u001b[31mwiped\nscreen\r\n".repeat(4000),
          seed,
        },
        units: 1,
      };
    }
    case "html-as-png": {
      const data = Buffer.from(HTML_PAGE, "utf8");
      const url = media.add("image.png", {
        kind: "buffer",
        contentType: "image/png",
        data,
        source: "generated",
      });
      return {
        output: { images: [{ url, width: 1024, height: 1024, content_type: "image/png" }], seed },
        units: 1,
      };
    }
  }
}
