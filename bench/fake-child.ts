// The fake of fal in its own process, so its CPU does not compete with the measuring client's
// event loop. Prints one JSON line {url, models} on stdout when listening; stops when stdin closes
// or on SIGTERM. Argument: JSON {models?: number} (catalog size; default: the fixture catalog).
import { generateCatalog, startFakeFal } from "../tests/fake-fal/server.js";

const options = JSON.parse(process.argv[2] ?? "{}") as { models?: number };
// Single PUTs of any size: curl's one PUT of the 1 GiB file is the upload floor (fal-mcp itself
// still sends files over 90 MiB in parts, as fal requires).
// Parts hashed with sha256 like the single PUT, so both uploads cost the receiver the same per byte
// (with md5 etags the fake's one core limited multipart uploads at ~540 MiB/s of hashing alone).
const fake = await startFakeFal({
  maxSinglePutBytes: Number.MAX_SAFE_INTEGER,
  partDigest: "sha256",
  ...(options.models ? { catalog: generateCatalog(options.models) } : {}),
});
process.stdout.write(JSON.stringify({ url: fake.url, models: fake.catalog.length, pid: process.pid }) + "\n");

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
