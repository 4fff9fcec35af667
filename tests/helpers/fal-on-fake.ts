import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { createFal, type Fal } from "../../src/fal/index.js";
import { startFakeFal, type FakeFal } from "../fake-fal/server.js";
import { TEST_KEY } from "./harness.js";

/** The fal connection alone (no MCP server) pointed at a fresh fake of fal, with its own home folder. */
export async function startFalOnFake(): Promise<{ fake: FakeFal; fal: Fal; close(): Promise<void> }> {
  const fake = await startFakeFal();
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "fal-mcp-fal-test-"));
  const config = loadConfig({ env: { FAL_KEY: TEST_KEY, FAL_MCP_BASE_URL: fake.url }, homeDir: home });
  return {
    fake,
    fal: createFal({ config }),
    async close() {
      await fake.close();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
