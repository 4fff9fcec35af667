import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressRefusal, type Resolver } from "../../src/files/address-policy.js";
import { guardedGet, HttpStatusError, RedirectRefusedError } from "../../src/files/guarded-get.js";
import type { ProxyConfig } from "../../src/config.js";
import { startLoopbackProxy, type LoopbackProxy } from "../helpers/loopback-proxy.js";
import { BodyTooLargeError } from "../../src/util/bounded-body.js";
import { startTransferDeadline, TransferTimeoutError } from "../../src/util/transfer-deadline.js";

let server: http.Server;
let port = 0;
let connections = 0;
let socketClosed: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    socketClosed = new Promise((resolve) => req.socket.once("close", () => resolve()));
    const route = req.url ?? "/";
    if (route === "/image.png") {
      res.writeHead(200, { "content-type": "image/png", "content-length": "4" });
      res.end("PNG!");
    } else if (route === "/to-metadata") {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    } else if (route === "/to-private-name") {
      res.writeHead(301, { location: "http://intranet.test/secret" });
      res.end();
    } else if (route === "/to-file") {
      res.writeHead(302, { location: "file:///etc/passwd" });
      res.end();
    } else if (route.startsWith("/loop")) {
      res.writeHead(302, { location: `/loop${Number(route.slice(5) || 0) + 1}` });
      res.end();
    } else if (route === "/bomb") {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(zlib.gzipSync(Buffer.alloc(32 * 1024 * 1024)));
    } else if (route === "/trickle") {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x"), 40);
      res.on("close", () => clearInterval(timer));
    } else if (route === "/gone") {
      res.writeHead(404);
      res.end("not here");
    } else res.end("ok");
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Test names resolve to loopback (media.test) or to addresses that must never be connected to. */
const resolve: Resolver = async (hostname) => {
  const answers: Record<string, string> = {
    "media.test": "127.0.0.1",
    "intranet.test": "10.0.0.1",
    "meta.test": "169.254.169.254",
    // A public answer: only ever reached through the loopback proxy, which maps it to loopback.
    "cdn.public.test": "93.184.216.34",
  };
  const address = answers[hostname];
  if (!address) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return [{ address, family: 4 }];
};

async function get(
  url: string,
  allowPrivate: boolean,
  extra: {
    stallMs?: number;
    totalMs?: number;
    maxBytes?: number;
    rewrite?: (u: URL) => URL | undefined;
    proxy?: ProxyConfig;
  } = {},
) {
  const deadline = startTransferDeadline({ stallMs: extra.stallMs ?? 2000, totalMs: extra.totalMs ?? 5000 });
  try {
    const response = await guardedGet({
      url,
      policy: { allowPrivate },
      deadline,
      maxBytes: extra.maxBytes ?? 1024 * 1024,
      resolve,
      rewrite: extra.rewrite,
      proxy: extra.proxy,
    });
    let text = "";
    await pipeline(
      response.body,
      new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) }),
    );
    return { text, contentType: response.contentType, url: response.url.href };
  } catch (error) {
    throw deadline.explain(error);
  } finally {
    deadline.dispose();
  }
}

describe("guardedGet", () => {
  it("refuses a private literal without connecting", async () => {
    const before = connections;
    const error = await get(`http://127.0.0.1:${port}/image.png`, false).catch((e: unknown) => e);
    expect(addressRefusal(error)?.verdict).toBe("private");
    expect(connections).toBe(before);
  });

  it("refuses a name that resolves privately at the connect-time lookup", async () => {
    const error = await get(`http://intranet.test:${port}/`, false).catch((e: unknown) => e);
    expect(addressRefusal(error)?.address).toBe("10.0.0.1");
  });

  it("fetches an allowed host and reports the content type", async () => {
    expect(await get(`http://media.test:${port}/image.png`, true)).toMatchObject({
      text: "PNG!",
      contentType: "image/png",
    });
  });

  it("checks every redirect hop: metadata is refused even with private URLs allowed", async () => {
    const before = connections;
    const error = await get(`http://media.test:${port}/to-metadata`, true).catch((e: unknown) => e);
    expect(addressRefusal(error)?.verdict).toBe("metadata");
    expect(connections).toBe(before + 1);
  });

  it("refuses redirects to other schemes and redirect loops", async () => {
    await expect(get(`http://media.test:${port}/to-file`, true)).rejects.toBeInstanceOf(RedirectRefusedError);
    await expect(get(`http://media.test:${port}/loop0`, true)).rejects.toThrow(/more than 5 redirects/);
  });

  it("caps a gzip bomb by decoded bytes and closes the connection", async () => {
    await expect(get(`http://media.test:${port}/bomb`, true)).rejects.toBeInstanceOf(BodyTooLargeError);
    await socketClosed;
  });

  it("stops a trickling peer at the total deadline and closes the connection", async () => {
    const error = await get(`http://media.test:${port}/trickle`, true, { stallMs: 500, totalMs: 700 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransferTimeoutError);
    expect((error as TransferTimeoutError).kind).toBe("deadline");
    await socketClosed;
  });

  it("reports an error status", async () => {
    const error = await get(`http://media.test:${port}/gone`, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
  });

  it("sends fal hosts to the configured base without the address check", async () => {
    const rewrite = (url: URL) =>
      url.hostname.endsWith("fal.media") ? new URL(`http://127.0.0.1:${port}${url.pathname}`) : undefined;
    expect((await get("https://v3.fal.media/image.png", false, { rewrite })).text).toBe("PNG!");
    // ...but a redirect from there to a private host is still checked.
    const error = await get("https://v3.fal.media/to-private-name", false, { rewrite }).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(error)?.address).toBe("10.0.0.1");
  });
});

describe("guardedGet behind a proxy (HTTP_PROXY)", () => {
  let proxy: LoopbackProxy;
  let config: ProxyConfig;
  beforeAll(async () => {
    // The proxy forwards these targets to the local server only: nothing leaves the machine.
    proxy = await startLoopbackProxy({
      [`cdn.public.test:${port}`]: port,
      [`93.184.216.34:${port}`]: port,
      [`intranet.test:${port}`]: port,
      [`nowhere.test:${port}`]: port,
      [`10.0.0.7:${port}`]: port,
      [`v3.fal.media:${port}`]: port,
    });
    config = { httpProxy: proxy.url, httpsProxy: undefined, noProxy: "" };
  });
  afterAll(() => proxy.close());
  const reset = () => {
    proxy.passed.length = 0;
    proxy.refused.length = 0;
  };

  it("a public name goes through the proxy's tunnel after its addresses were checked", async () => {
    reset();
    expect((await get(`http://cdn.public.test:${port}/image.png`, false, { proxy: config })).text).toBe(
      "PNG!",
    );
    expect(proxy.passed).toContain(`CONNECT cdn.public.test:${port}`);
    expect((await get(`http://93.184.216.34:${port}/image.png`, false, { proxy: config })).text).toBe("PNG!");
    expect(proxy.passed).toContain(`CONNECT 93.184.216.34:${port}`);
  });

  it("a private name, a private literal or a name that does not resolve here never reaches the proxy", async () => {
    reset();
    const privateName = await get(`http://intranet.test:${port}/`, false, { proxy: config }).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(privateName)?.address).toBe("10.0.0.1");
    const literal = await get(`http://10.0.0.7:${port}/`, false, { proxy: config }).catch((e: unknown) => e);
    expect(addressRefusal(literal)?.verdict).toBe("private");
    await expect(get(`http://nowhere.test:${port}/`, false, { proxy: config })).rejects.toThrow(
      /could not be resolved here .*before sending the request through the proxy/,
    );
    expect(proxy.passed).toEqual([]);
    expect(proxy.refused).toEqual([]);
  });

  it("fal's CDN goes to the proxy without a local lookup (behind a proxy this machine may have no DNS)", async () => {
    reset();
    // The test resolver knows no v3.fal.media: a local lookup would refuse it.
    expect((await get(`http://v3.fal.media:${port}/image.png`, false, { proxy: config })).text).toBe("PNG!");
    expect(proxy.passed).toContain(`CONNECT v3.fal.media:${port}`);
  });

  it("a redirect hop to a metadata address is refused before it reaches the proxy", async () => {
    reset();
    const error = await get(`http://cdn.public.test:${port}/to-metadata`, true, { proxy: config }).catch(
      (e: unknown) => e,
    );
    expect(addressRefusal(error)?.verdict).toBe("metadata");
    expect(proxy.passed).toEqual([
      `CONNECT cdn.public.test:${port}`,
      `TUNNEL cdn.public.test:${port} GET /to-metadata`,
    ]);
  });

  it("a gzip bomb through the tunnel is capped and its connection closed", async () => {
    await expect(get(`http://cdn.public.test:${port}/bomb`, false, { proxy: config })).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
    await socketClosed;
  });
});
