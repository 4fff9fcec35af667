import { describe, expect, it } from "vitest";
import { isFalCdnUrl } from "../../src/fal/cdn.js";
import { viewJob } from "../../src/viewer/model.js";
import {
  FAL_CDN_ORIGINS,
  RESULT_VIEWER_MIME_TYPE,
  RESULT_VIEWER_TOOL_META,
  RESULT_VIEWER_URI,
  viewerHtml,
  viewerResourceContents,
  viewerResourceMeta,
} from "../../src/viewer/resource.js";

const completed = {
  request_id: "req-123",
  endpoint_id: "fal-ai/flux/dev",
  status: "COMPLETED",
  output_dir: "/Users/me/fal-mcp",
  billable_units: 1,
  files: [
    {
      url: "https://v3.fal.media/files/a/cat.png",
      field: "images[0]",
      content_type: "image/png",
      size: 2048,
      path: "/Users/me/fal-mcp/cat.png",
      error: null,
    },
    {
      url: "https://v3b.fal.media/files/b/clip.mp4",
      field: "video",
      content_type: null,
      size: null,
      path: null,
      error: "disk full",
    },
    {
      url: "https://fal.media/files/c/voice.wav",
      field: "audio",
      content_type: "audio/wav",
      size: 32044,
      path: null,
      error: null,
    },
    {
      url: "https://evil.example/x.png",
      field: "images[1]",
      content_type: "image/png",
      size: 1,
      path: null,
      error: null,
    },
    {
      url: "javascript:alert(1)",
      field: "images[2]",
      content_type: "image/png",
      size: 1,
      path: null,
      error: null,
    },
    {
      url: "data:image/png;base64,AAAA",
      field: "images[3]",
      content_type: "image/png",
      size: 3,
      path: null,
      error: null,
    },
  ],
};

describe("the viewer's model of a job result", () => {
  it("lists every file with its kind, saved path and why it was not saved", () => {
    const job = viewJob(completed, {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a red fox in the snow" },
    });
    expect(job).toMatchObject({
      requestId: "req-123",
      endpointId: "fal-ai/flux/dev",
      status: "COMPLETED",
      prompt: "a red fox in the snow",
      cost: "1 billed unit",
      outputDir: "/Users/me/fal-mcp",
      note: undefined,
    });
    expect(job.files.map((file) => [file.kind, file.field, file.size, file.path, file.error])).toEqual([
      ["image", "images[0]", "2.0 KiB", "/Users/me/fal-mcp/cat.png", undefined],
      ["video", "video", undefined, undefined, "disk full"],
      ["audio", "audio", "31.3 KiB", undefined, undefined],
      ["image", "images[1]", "1 B", undefined, undefined],
      ["image", "images[2]", "1 B", undefined, undefined],
      ["image", "images[3]", "3 B", undefined, undefined],
    ]);
  });

  it("loads media from fal's CDN only: other hosts, javascript: and data: URIs are shown as text", () => {
    const sources = viewJob(completed, undefined).files.map((file) => file.src);
    expect(sources).toEqual([
      "https://v3.fal.media/files/a/cat.png",
      "https://v3b.fal.media/files/b/clip.mp4",
      "https://fal.media/files/c/voice.wav",
      undefined,
      undefined,
      undefined,
    ]);
    expect(viewJob(completed, undefined).files[5]!.url).toBe("(inline data)");
    for (const url of [
      "http://v3.fal.media/x.png",
      "https://fal.media.evil.example/x",
      "https://notfal.media/x",
      "nonsense",
    ])
      expect(isFalCdnUrl(url, { httpsOnly: true }), url).toBe(false);
  });

  it("follows FAL_MCP_BASE_URL the way the server's requests do", () => {
    const job = viewJob(completed, undefined, { baseUrl: "http://127.0.0.1:4010/" });
    expect(job.files[0]!.src).toBe("http://127.0.0.1:4010/v3.fal.media/files/a/cat.png");
    expect(job.files[0]!.url).toBe("https://v3.fal.media/files/a/cat.png");
    expect(job.files[3]!.src).toBeUndefined();
  });

  it("reads a reported cost, shortens long prompts, and explains a job that is not finished", () => {
    expect(viewJob({ ...completed, cost_usd: 0.025 }, undefined).cost).toBe("$0.0250");
    expect(viewJob({ ...completed, cost: { amount: 1.5, currency: "USD" } }, undefined).cost).toBe("1.5 USD");
    const long = viewJob(completed, {
      input: { prompt: "one two three four five six seven eight nine ten eleven twelve thirteen" },
    });
    expect(long.prompt).toBe("one two three four five six seven eight nine ten eleven twelve…");
    const queued = viewJob({ request_id: "r", endpoint_id: "e", status: "IN_QUEUE" }, undefined);
    expect(queued.files).toEqual([]);
    expect(queued.note).toContain("IN_QUEUE");
    expect(viewJob("garbage", 42).note).toBe("No job result yet.");
    expect(viewJob({ files: [null, 7, { url: 5 }] }, undefined).files.map((file) => file.src)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("the viewer resource", () => {
  it("is a ui:// resource of MCP Apps' HTML type that run_model and get_job_result point at", () => {
    const contents = viewerResourceContents();
    expect(contents.uri).toBe("ui://fal-mcp/result-viewer.html");
    expect(contents.mimeType).toBe("text/html;profile=mcp-app");
    expect(RESULT_VIEWER_MIME_TYPE).toBe(contents.mimeType);
    expect(RESULT_VIEWER_TOOL_META).toEqual({
      ui: { resourceUri: RESULT_VIEWER_URI },
      "ui/resourceUri": RESULT_VIEWER_URI,
    });
    expect(contents.text).toMatch(/^<!doctype html>/);
    expect(contents.text).toContain('<main id="root">');
  });

  it("is one self-contained file: no external script, style or font", () => {
    const html = viewerHtml();
    // Booleans, not toMatch: a failure message must not print 600 KB of minified script.
    expect(/<script[^>]+src=/i.test(html)).toBe(false);
    expect(/<link[^>]+href=/i.test(html)).toBe(false);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    expect(style).toContain(".gallery");
    expect(/@import|url\(/i.test(style)).toBe(false);
  });

  it("allows fal's CDN only, no network calls; a FAL_MCP_BASE_URL adds its origin", () => {
    expect(FAL_CDN_ORIGINS).toEqual(["https://*.fal.media", "https://fal.media"]);
    expect(viewerResourceMeta()).toEqual({
      ui: {
        csp: { resourceDomains: ["https://*.fal.media", "https://fal.media"], connectDomains: [] },
        prefersBorder: true,
      },
    });
    expect(viewerResourceMeta({ baseUrl: "http://127.0.0.1:4010/prefix" }).ui.csp.resourceDomains).toEqual([
      "https://*.fal.media",
      "https://fal.media",
      "http://127.0.0.1:4010",
    ]);
  });

  it("passes the redirect to the view as inert JSON that cannot close its element", () => {
    expect(viewerHtml()).toContain('<script type="application/json" id="fal-mcp-viewer-options">{}</script>');
    const html = viewerHtml({ baseUrl: "http://127.0.0.1:1/</script><script>alert(1)//" });
    expect(html).toContain(
      '{"baseUrl":"http://127.0.0.1:1/\\u003c/script>\\u003cscript>alert(1)//"}</script>',
    );
    expect(html).not.toContain("</script><script>alert(1)");
  });
});
