import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Config } from "./config.js";
import { FalApiError } from "./errors.js";
import type { Services } from "./services.js";

/** `fal-mcp doctor`: checks the set-up and says, in plain words, what is wrong and how to fix it. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const anyJson = z.unknown();

async function check(name: string, run: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function writable(folder: string): Promise<string> {
  await fs.mkdir(folder, { recursive: true });
  const probe = path.join(folder, `.fal-mcp-doctor-${randomBytes(6).toString("hex")}`);
  await fs.writeFile(probe, "ok");
  await fs.rm(probe, { force: true });
  return `${folder} is writable`;
}

export async function runDoctor(
  config: Config,
  { fal, logger }: Services,
  nodeVersion: string,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const major = Number(nodeVersion.replace(/^v/, "").split(".")[0]);
  checks.push({
    name: "Node.js",
    ok: major >= 20,
    detail:
      major >= 20
        ? `${nodeVersion} (20 or newer is required)`
        : `${nodeVersion} is too old: install Node.js 20 or newer`,
  });
  checks.push(
    config.falKey
      ? { name: "API key", ok: true, detail: `set through ${config.falKeySource}` }
      : {
          name: "API key",
          ok: false,
          detail:
            'FAL_KEY is not set: add it to the "env" block of this server in your MCP client config (key from https://fal.ai/dashboard/keys)',
        },
  );
  if (config.baseUrl)
    checks.push({
      name: "Upstream redirect",
      ok: true,
      detail: `FAL_MCP_BASE_URL sends fal traffic to ${config.baseUrl}`,
    });

  const reach = (host: string, url: string) =>
    check(`Reach ${host}`, async () => {
      const started = Date.now();
      try {
        await fal.http.request({
          method: "GET",
          url,
          what: host,
          idempotent: true,
          schema: anyJson,
          timeoutMs: 10_000,
        });
      } catch (error) {
        // Any HTTP answer proves the host is reachable; only network failures count here.
        if (!(error instanceof FalApiError)) throw error;
      }
      return `answered in ${Date.now() - started} ms`;
    });
  checks.push(await reach("api.fal.ai", "https://api.fal.ai/v1/models?limit=1"));
  checks.push(
    await reach(
      "queue.fal.run",
      "https://queue.fal.run/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status",
    ),
  );
  checks.push(
    await reach("rest.fal.ai", "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3"),
  );

  if (config.falKey) {
    const key = config.falKey;
    checks.push(
      await check("Key accepted by fal", async () => {
        try {
          await fal.http.request({
            method: "GET",
            url: "https://api.fal.ai/v1/models/pricing",
            query: { endpoint_id: "fal-ai/flux/dev" },
            what: "pricing",
            key,
            idempotent: true,
            schema: anyJson,
            timeoutMs: 10_000,
          });
          return "fal accepted the key";
        } catch (error) {
          if (error instanceof FalApiError && error.status === 401) {
            throw new Error(
              "fal rejected the key (HTTP 401): check FAL_KEY; create a key at https://fal.ai/dashboard/keys",
            );
          }
          if (error instanceof FalApiError && error.status === 403) {
            throw new Error(`fal refused the key (HTTP 403): ${error.message}`);
          }
          throw error;
        }
      }),
    );
  }
  checks.push(await check("Output folder (FAL_MCP_OUTPUT_DIR)", () => writable(config.outputDir)));
  checks.push(await check("State folder (FAL_MCP_STATE_DIR)", () => writable(config.stateDir)));
  // A failure's message may quote what fal sent back: masked like every log line.
  return checks.map((entry) => ({ ...entry, detail: logger.redact(entry.detail) }));
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const lines = checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push("", failed === 0 ? "Everything looks good." : `${failed} check(s) failed: see above.`);
  return lines.join("\n");
}
