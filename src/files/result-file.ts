import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { removeTemp, tempName, trackTemp } from "../util/temp-files.js";
import { sanitizeName } from "./download.js";

/**
 * A tool result too large for the client, written in full to a JSON file in the output folder
 * (the summary the client gets names it). The caller redacts the text first; the name is built
 * from sanitised parts only (never a request id that could carry the key).
 */
export async function writeResultFile(
  outputDir: string,
  label: string,
  json: string,
  now = new Date(),
): Promise<string> {
  const directory = path.resolve(outputDir);
  await fsp.mkdir(directory, { recursive: true });
  const name = `${now.toISOString().slice(0, 10)}_${sanitizeName(label, 40)}_${randomBytes(4).toString("hex")}_result.json`;
  const target = path.join(directory, name);
  const temp = path.join(directory, tempName(name, randomBytes(6).toString("hex"), ".tmp"));
  const forget = trackTemp(temp);
  try {
    await fsp.writeFile(temp, json, { flag: "wx", mode: 0o644 });
    await fsp.rename(temp, target);
    return target;
  } catch (error) {
    await removeTemp(temp);
    throw error;
  } finally {
    forget();
  }
}
