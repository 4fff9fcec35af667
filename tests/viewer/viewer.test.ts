import { build } from "esbuild";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Frame } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { viewerResourceContents } from "../../src/viewer/resource.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { initialize, minimalEnv, startStdioSession, type StdioSession } from "../release/stdio-session.js";
import type { HostedView } from "./host/host.js";

const root = path.resolve(import.meta.dirname, "../..");
// CHROMIUM_PATH: another Chromium build (the release workflow uses the runner's Google Chrome).
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = path.join(root, "test-output", "viewer.png");
const KEY = "test-key-id:test-key-secret";
const VIDEO_MODEL = "fal-ai/wan/v2.2-a14b/text-to-video";
const AUDIO_MODEL = "fal-ai/elevenlabs/tts/multilingual-v2";

let fake: FakeFal;
let tempDir: string;
let server: StdioSession;
let context: BrowserContext;
/** A loopback origin the CSP does not allow: the view must not be able to load from it. */
let outsider: Server;
const outsiderHits: string[] = [];
/** Requests the browser tried to send off this machine (aborted): must stay empty. */
const offMachine: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the viewer test needs Debian's chromium. Install it with \`apt-get update && apt-get install -y chromium\` (scripts/ci-setup.sh does this).`,
    );
  fake = await startFakeFal();
  fake.setBehavior(VIDEO_MODEL, { queueMs: 0, runMs: 0 });
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-viewer-"));
  outsider = createServer((request, response) => {
    outsiderHits.push(request.url ?? "");
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => outsider.listen(0, "127.0.0.1", resolve));
  server = startStdioSession(process.execPath, [path.join(root, "bin", "fal-mcp.js")], {
    cwd: tempDir,
    env: minimalEnv({
      HOME: tempDir,
      FAL_KEY: KEY,
      FAL_MCP_BASE_URL: fake.url,
      FAL_MCP_OUTPUT_DIR: path.join(tempDir, "out"),
      FAL_MCP_STATE_DIR: path.join(tempDir, "state"),
      FAL_MCP_COMPILE_CACHE: "0",
    }),
  });
  await initialize(server);
  context = await chromium.launchPersistentContext(path.join(tempDir, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1100, height: 900 },
  });
  // Nothing may leave the machine: every non-loopback request is aborted and recorded.
  await context.route(
    (url) =>
      !["127.0.0.1", "localhost"].includes(url.hostname) && !["about:", "data:"].includes(url.protocol),
    async (route) => {
      offMachine.push(route.request().url());
      await route.abort();
    },
  );
}, 90_000);

afterAll(async () => {
  await context?.close();
  if (server) await server.close();
  await new Promise((resolve) => outsider?.close(resolve));
  await fake?.close();
  if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
});

/** A real tools/call through the built server against the fake: what a host would hand the view. */
async function runModel(endpointId: string, input: Record<string, unknown>) {
  const toolInput = { endpoint_id: endpointId, input };
  const result = (await server.request(
    "tools/call",
    { name: "run_model", arguments: toolInput },
    60_000,
  )) as HostedView["toolResult"];
  expect(result.isError ?? false, JSON.stringify(result).slice(0, 500)).toBe(false);
  return { toolInput, toolResult: result };
}

async function hostPage(): Promise<string> {
  const bundled = await build({
    entryPoints: [path.join(import.meta.dirname, "host", "host.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    logLevel: "warning",
  });
  const script = bundled.outputFiles[0]!.text.replace(/<\/(script)/gi, "<\\/$1");
  return `<!doctype html><html><head><meta charset="utf-8"><title>fal-mcp viewer test host</title>
<style>body{font:13px system-ui;margin:16px;background:#e8e8ed}iframe{width:100%;border:0;border-radius:12px;background:#fff;height:200px}h2{font-size:13px;margin:12px 0 4px}</style>
</head><body><div id="views"></div><script>${script}</script></body></html>`;
}

async function viewFrame(index: number): Promise<Frame> {
  const page = context.pages()[0]!;
  for (let attempt = 0; attempt < 100; attempt++) {
    const frame = page.frames().find((candidate) => candidate.name() === `view-${index}`);
    if (frame) return frame;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no frame view-${index}`);
}

describe("the MCP Apps result viewer in headless Chromium", () => {
  it("renders real results from the fake (image, video, audio) with media loaded from the fake's CDN", async () => {
    const image = await runModel("fake/instant", { prompt: "a red fox in the snow at dawn" });
    const video = await runModel(VIDEO_MODEL, { prompt: "waves rolling onto a beach" });
    const audio = await runModel(AUDIO_MODEL, { text: "Hello from fal." });
    const resource = viewerResourceContents({ baseUrl: fake.url });
    const views: HostedView[] = [
      { title: "run_model fake/instant", ...image },
      { title: `run_model ${VIDEO_MODEL}`, ...video },
      { title: `run_model ${AUDIO_MODEL}`, ...audio },
    ].map((view) => ({ ...view, html: resource.text, csp: resource._meta.ui.csp }));

    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.setContent(await hostPage());
    await page.evaluate((hosted) => window.hostViews(hosted), views);

    const fileOf = (view: HostedView) =>
      (view.toolResult.structuredContent as { files: { url: string; path: string | null }[] }).files[0]!;

    // Image: decoded pixels, fetched from the fake's CDN through the redirect.
    const imageFrame = await viewFrame(0);
    await imageFrame.waitForFunction(
      () => {
        const img = document.querySelector("img");
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 15_000 },
    );
    const imageSrc = await imageFrame.$eval("img", (img) => img.currentSrc);
    expect(imageSrc).toBe(`${fake.url}/${fileOf(views[0]!).url.replace("https://", "")}`);
    expect(await imageFrame.textContent(".request-id")).toBe(
      (views[0]!.toolResult.structuredContent as { request_id: string }).request_id,
    );
    expect(await imageFrame.textContent(".saved-path")).toBe(fileOf(views[0]!).path);
    expect(await imageFrame.textContent(".prompt")).toContain("a red fox in the snow");

    // Audio: the fake's WAV is real PCM, so Chromium reads its metadata (duration 1 s).
    const audioFrame = await viewFrame(2);
    await audioFrame.waitForFunction(
      () => (document.querySelector("audio")?.readyState ?? 0) >= 1,
      undefined,
      {
        timeout: 15_000,
      },
    );
    expect(await audioFrame.$eval("audio", (element) => Math.round(element.duration))).toBe(1);

    // Video: a player pointed at the fake's CDN. The fake's MP4 is a header and zeros that no
    // decoder accepts, so what is asserted is the browser's request for it, from the fake's log.
    const videoFrame = await viewFrame(1);
    await videoFrame.waitForSelector("video", { timeout: 15_000 });
    const videoPath = new URL(fileOf(views[1]!).url).pathname;
    await expect
      .poll(
        () =>
          fake.requests.some(
            (request) => request.path === videoPath && /Chrome/.test(request.headers["user-agent"] ?? ""),
          ),
        {
          timeout: 15_000,
        },
      )
      .toBe(true);
    for (const view of views) {
      const mediaPath = new URL(fileOf(view).url).pathname;
      expect(
        fake.requests.some(
          (request) => request.path === mediaPath && /Chrome/.test(request.headers["user-agent"] ?? ""),
        ),
      ).toBe(true);
    }

    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    // Out-of-process (sandboxed) iframes below the viewport are not painted in a full-page
    // screenshot: grow the viewport to the whole page instead.
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1100, height: Math.min(height + 16, 4000) });
    await audioFrame.waitForSelector("audio");
    await page.screenshot({ path: SCREENSHOT });
    expect((await fs.stat(SCREENSHOT)).size).toBeGreaterThan(10_000);
    expect(offMachine).toEqual([]);
    expect(consoleErrors.filter((text) => !/video|media|MEDIA_ERR|DEMUXER|format/i.test(text))).toEqual([]);
  }, 120_000);

  it("its CSP stops the view loading from any origin it does not declare", async () => {
    const frame = await viewFrame(0);
    const outsiderUrl = `http://127.0.0.1:${(outsider.address() as AddressInfo).port}/tracker.png`;
    const violated = await frame.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          document.addEventListener("securitypolicyviolation", (event) => resolve(event.violatedDirective), {
            once: true,
          });
          const probe = document.createElement("img");
          probe.src = url;
          document.body.append(probe);
          setTimeout(() => resolve("no violation"), 3_000);
        }),
      outsiderUrl,
    );
    expect(violated).toBe("img-src");
    expect(outsiderHits).toEqual([]);
  });
});
