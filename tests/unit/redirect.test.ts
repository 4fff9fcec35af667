import { describe, expect, it } from "vitest";
import { redirectingFetch } from "../../bench/lib/redirecting-fetch.js";
import { isFalHost, redirectUrl } from "../../src/fal/redirect.js";

const base = "http://127.0.0.1:8787";

describe("upstream redirect (FAL_MCP_BASE_URL)", () => {
  it("maps fal hosts to ${base}/${host}${path}${query} exactly", () => {
    expect(redirectUrl("https://queue.fal.run/fal-ai/flux/dev", base)).toBe(
      "http://127.0.0.1:8787/queue.fal.run/fal-ai/flux/dev",
    );
    expect(redirectUrl("https://api.fal.ai/v1/models?q=cat", base)).toBe(
      "http://127.0.0.1:8787/api.fal.ai/v1/models?q=cat",
    );
    expect(redirectUrl("https://fal.run/fal-ai/flux/dev", base)).toBe(
      "http://127.0.0.1:8787/fal.run/fal-ai/flux/dev",
    );
    expect(redirectUrl("https://v3.fal.media/files/a/b.png", base)).toBe(
      "http://127.0.0.1:8787/v3.fal.media/files/a/b.png",
    );
    expect(redirectUrl("https://fal.ai/docs/llms.txt", base)).toBe(
      "http://127.0.0.1:8787/fal.ai/docs/llms.txt",
    );
    expect(
      redirectUrl("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", base + "/"),
    ).toBe("http://127.0.0.1:8787/rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3");
  });

  it("leaves other hosts, look-alikes included, untouched", () => {
    for (const url of [
      "https://example.com/x",
      "https://notfal.ai/x",
      "https://fal.ai.evil.com/x",
      "https://storage.googleapis.com/f",
    ]) {
      expect(redirectUrl(url, base)).toBe(url);
    }
    expect(isFalHost("FAL.RUN")).toBe(true);
    expect(isFalHost("v3b.fal.media")).toBe(true);
    expect(isFalHost("xfal.run")).toBe(false);
  });

  it("is the identity without a base URL", () => {
    expect(redirectUrl("https://queue.fal.run/a/b", undefined)).toBe("https://queue.fal.run/a/b");
  });

  it("keeps method, headers and body when redirecting a fetch", async () => {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const inner = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input instanceof Request ? input.url : input), init });
      return new Response("{}");
    }) as typeof fetch;
    const fetch = redirectingFetch(base, inner);
    await fetch("https://queue.fal.run/fal-ai/flux/dev", {
      method: "POST",
      headers: { authorization: "Key k" },
      body: "{}",
    });
    await fetch("https://example.com/a?b=1");
    expect(seen[0]?.url).toBe("http://127.0.0.1:8787/queue.fal.run/fal-ai/flux/dev");
    expect(seen[0]?.init?.method).toBe("POST");
    expect(seen[0]?.init?.body).toBe("{}");
    expect(seen[1]?.url).toBe("https://example.com/a?b=1");
  });
});

describe("redirects in fal's answers (falRedirectsOnly)", () => {
  it.each(["node:http", "fetch"])(
    "follows within the origin and to fal's hosts (through the base), never elsewhere; the key never changes origin (over %s)",
    async (way) => {
      const http = await import("node:http");
      const { sendOverFetch, sendOverNodeHttp } = await import("../../src/fal/transport.js");
      const direct = sendOverNodeHttp();
      const transport = way === "fetch" ? sendOverFetch(globalThis.fetch) : direct.send;
      const { falRedirectsOnly, FalRedirectRefusedError, redirectingSend } =
        await import("../../src/fal/fal-redirects.js");
      let otherConnections = 0;
      const other = http.createServer((_req, res) => res.end("secret"));
      other.on("connection", () => otherConnections++);
      const seen: string[] = [];
      const fal = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
        if (req.url === "/api.fal.ai/v1/moved")
          res.writeHead(302, { location: "https://api.fal.ai/v1/here" }).end();
        else if (req.url === "/queue.fal.run/x")
          res.writeHead(303, { location: "/queue.fal.run/x/status" }).end();
        else if (req.url === "/api.fal.ai/v1/away")
          res
            .writeHead(302, { location: `http://127.0.0.1:${(other.address() as { port: number }).port}/` })
            .end();
        else if (req.url?.startsWith("/loop")) res.writeHead(307, { location: `/loop${seen.length}` }).end();
        else res.end(`ok ${req.url}`);
      });
      await Promise.all([fal, other].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
      const base = `http://127.0.0.1:${(fal.address() as { port: number }).port}`;
      const chain = redirectingSend(base, falRedirectsOnly(transport, base));
      const send = (
        url: string,
        init: { method?: string; headers?: Record<string, string>; body?: string } = {},
      ) =>
        chain(url, {
          method: init.method ?? "GET",
          headers: init.headers ?? {},
          body: init.body,
          maxBytes: 1024,
          what: "test",
        });
      try {
        const moved = await send("https://api.fal.ai/v1/moved", { headers: { authorization: "Key k" } });
        expect(moved.body.toString()).toBe("ok /api.fal.ai/v1/here");
        const posted = await send("https://queue.fal.run/x", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        expect(posted.body.toString()).toBe("ok /queue.fal.run/x/status");
        expect(seen).toContain("GET /queue.fal.run/x/status -");
        await expect(send("https://api.fal.ai/v1/away")).rejects.toBeInstanceOf(FalRedirectRefusedError);
        expect(otherConnections).toBe(0);
        await expect(send(`${base}/loop0`)).rejects.toThrow(/more than 5 redirects/);
      } finally {
        direct.destroy();
        await Promise.all([fal, other].map((s) => new Promise((r) => s.close(r))));
      }
    },
  );
});
