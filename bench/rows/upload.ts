// Row 3: upload_file of a 100 MiB and a 1 GiB file against `curl -T` of the same file to the same
// fake (the limit on this machine) and against a bare Node script sending it the way fal-mcp does
// (bench/floors/node-upload.mjs: what Node itself needs), with the server's peak RSS. The fake runs
// in its own process.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { KEY, type FakeProcess } from "../lib/fake.js";
import { readCpu, readMemory, sampleRss } from "../lib/proc.js";
import { ROOT, missingTools, serverEnv, startServer } from "../lib/rpc.js";
import { skipped, verdict, type RowContext, type RowResult, type TableLine } from "../lib/row.js";
import { median, mib, mibps, ratio } from "../lib/stats.js";

const MiB = 1024 * 1024;

/** Writes `size` bytes of incompressible data (a random 8 MiB block, each MiB tagged) and returns its sha256. */
async function makeFile(file: string, size: number): Promise<string> {
  const block = randomBytes(8 * MiB);
  const hash = createHash("sha256");
  const out = createWriteStream(file);
  for (let offset = 0; offset < size; offset += MiB) {
    const chunk = Buffer.from(
      block.subarray(offset % (8 * MiB), (offset % (8 * MiB)) + Math.min(MiB, size - offset)),
    );
    chunk.writeUInt32BE(offset / MiB, 0); // no two MiB alike
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return hash.digest("hex");
}

/** Samples a process's CPU seconds every 20 ms, with wall-clock times, to read its busy share over a window. */
function sampleCpu(pid: number): { stop(): void; between(from: number, to: number): number } {
  const samples: { time: number; cpu: number }[] = [];
  const tick = () => samples.push({ time: Date.now(), cpu: readCpu(pid).self });
  tick();
  const timer = setInterval(tick, 20);
  const at = (time: number) => samples.filter((s) => s.time <= time).pop() ?? samples[0]!;
  return {
    stop() {
      clearInterval(timer);
      tick();
    },
    /** CPU seconds used from `from` to `to` (wall-clock ms). */
    between: (from, to) => at(to).cpu - at(from).cpu,
  };
}

interface ServerUpload {
  /** The whole upload_file call, including the fake assembling the parts on complete. */
  seconds: number;
  /** Call start → the complete request reached the fake: every byte sent and acknowledged. */
  transferSeconds: number;
  /** Largest VmRSS sampled during the call, bytes. */
  peakRss: number;
  /** VmHWM at the end: the kernel's own peak for the whole process life. */
  hwm: number;
  /** VmRSS after the handshake, before the upload. */
  idleRss: number;
  /** The server's user + system CPU seconds for the whole call. */
  cpuSeconds: number;
  /** The receiver's (the fake's) CPU seconds from the call start to the last part acknowledged. */
  receiverCpuSeconds: number;
}

/** Checks that the fake holds `size` bytes with `sha256` at `fileUrl` (what arrived is the file). */
async function checkArrived(fake: FakeProcess, fileUrl: unknown, size: number, sha256: string, who: string) {
  const record = typeof fileUrl === "string" ? (await fake.summary()).uploads[fileUrl] : undefined;
  if (!record) throw new Error(`${who} returned ${String(fileUrl)}, which the fake has no upload for`);
  if (record.size !== size || record.sha256 !== sha256)
    throw new Error(
      `${who}: the fake received ${record.size} bytes (sha256 ${record.sha256}), expected ${size} (${sha256})`,
    );
}

async function uploadThroughServer(
  context: RowContext,
  fake: FakeProcess,
  file: string,
  warmUp: string,
  size: number,
  sha256: string,
): Promise<ServerUpload> {
  const { server } = await startServer(serverEnv(context.env));
  try {
    const idleRss = readMemory(server.pid).rss;
    // A 1 KiB upload first: the first upload of a session also loads the upload code, the HTTP stack
    // and mime-db and opens connections (~0.1–0.2 s, paid once); the figure here is throughput.
    await server.callTool("upload_file", { path: warmUp });
    const sampler = sampleRss(server.pid, 10);
    const receiver = sampleCpu(fake.pid);
    const cpuBefore = readCpu(server.pid).self;
    const start = performance.now();
    const startedAt = Date.now(); // the fake logs wall-clock times (its clock is never advanced here)
    const result = await server.callTool("upload_file", { path: file }, 600_000);
    const seconds = (performance.now() - start) / 1000;
    const cpuSeconds = readCpu(server.pid).self - cpuBefore;
    const peakRss = sampler.stop();
    receiver.stop();
    const { hwm } = readMemory(server.pid);
    await checkArrived(fake, result.structuredContent?.url, size, sha256, "upload_file");
    // A single PUT is done when it is answered; a multipart upload when its complete request
    // arrives (what follows is the fake joining the parts, a step fal's storage does on its side).
    const requests = await fake.requests();
    const complete = requests
      .filter((r) => r.method === "POST" && r.path.endsWith("/complete") && r.time >= startedAt)
      .pop();
    const transferSeconds = complete ? (complete.time - startedAt) / 1000 : seconds;
    const receiverCpuSeconds = receiver.between(startedAt, startedAt + transferSeconds * 1000);
    return { seconds, transferSeconds, peakRss, hwm, idleRss, cpuSeconds, receiverCpuSeconds };
  } finally {
    await server.close();
  }
}

/** The floor script's own report (bench/floors/node-upload.mjs). */
interface FloorUpload {
  /** Wall seconds of the measured upload (initiate → complete answered). */
  seconds: number;
  /** Wall seconds from initiate to the last part acknowledged (a single PUT: answered). */
  transferSeconds: number;
  /** process.cpuUsage() user + system seconds of the measured upload only. */
  cpuSeconds: number;
}

const FLOOR_SCRIPT = path.join(ROOT, "bench/floors/node-upload.mjs");

/** The same upload by a bare Node script in a fresh process, after the same 1 KiB warm-up. */
async function uploadWithNodeFloor(
  fake: FakeProcess,
  file: string,
  warmUp: string,
  size: number,
  sha256: string,
): Promise<FloorUpload> {
  const child = spawn(
    process.execPath,
    [FLOOR_SCRIPT, JSON.stringify({ baseUrl: fake.url, key: KEY, warmUp, file })],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the Node floor failed (exit ${code}): ${stderr.trim()}`);
  const report = JSON.parse(stdout) as FloorUpload & { fileUrl: string };
  await checkArrived(fake, report.fileUrl, size, sha256, "the Node floor");
  return { seconds: report.seconds, transferSeconds: report.transferSeconds, cpuSeconds: report.cpuSeconds };
}

interface CurlUpload {
  seconds: number;
  /** curl's own peak RSS from /usr/bin/time, bytes (NaN when unavailable). */
  peakRss: number;
  /** curl's user + system CPU seconds from /usr/bin/time (NaN when unavailable). */
  cpuSeconds: number;
  /** The receiver's (the fake's) CPU seconds during curl's upload. */
  receiverCpuSeconds: number;
}

async function uploadWithCurl(
  fake: FakeProcess,
  file: string,
  size: number,
  sha256: string,
): Promise<CurlUpload> {
  // The same route the server uses: initiate on rest.fal.ai, then PUT to the signed URL.
  const initiate = await fetch(`${fake.url}/rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    method: "POST",
    headers: { authorization: `Key ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ content_type: "application/octet-stream", file_name: path.basename(file) }),
  });
  const { upload_url: uploadUrl, file_url: fileUrl } = (await initiate.json()) as {
    upload_url: string;
    file_url: string;
  };
  const signed = new URL(uploadUrl);
  const target = `${fake.url}/${signed.host}${signed.pathname}${signed.search}`;
  const timed = existsSync("/usr/bin/time");
  // `Expect:` off: no 100-continue round trip, the fastest curl can go.
  const curlArgs = [
    "-sS",
    "--fail",
    "-H",
    "Expect:",
    "-H",
    "Content-Type: application/octet-stream",
    "-T",
    file,
    "-o",
    "/dev/null",
    target,
  ];
  const receiverBefore = readCpu(fake.pid).self;
  const start = performance.now();
  const child = timed
    ? spawn("/usr/bin/time", ["-f", "%M %U %S", "curl", ...curlArgs])
    : spawn("curl", curlArgs);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  const seconds = (performance.now() - start) / 1000;
  const receiverCpuSeconds = readCpu(fake.pid).self - receiverBefore;
  if (code !== 0) throw new Error(`curl failed (exit ${code}): ${stderr.trim()}`);
  await checkArrived(fake, fileUrl, size, sha256, "curl");
  const timing = timed ? /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr.trim()) : null;
  return {
    seconds,
    peakRss: timing ? Number(timing[1]) * 1024 : Number.NaN,
    cpuSeconds: timing ? Number(timing[2]) + Number(timing[3]) : Number.NaN,
    receiverCpuSeconds,
  };
}

export async function upload(context: RowContext, fake: FakeProcess): Promise<RowResult> {
  const id = "upload";
  const title = "Upload (upload_file vs curl -T)";
  const { server, tools } = await startServer(serverEnv(context.env));
  await server.close();
  const missing = missingTools(tools, ["upload_file"]);
  if (missing) return skipped(id, title, missing);
  const hasCurl = await new Promise<boolean>((resolve) => {
    const probe = spawn("curl", ["--version"], { stdio: "ignore" });
    probe.on("error", () => resolve(false));
    probe.on("exit", (code) => resolve(code === 0));
  });
  if (!hasCurl) return skipped(id, title, "curl is not installed: the comparison needs it");

  const folder = path.join(context.scratch, "files");
  await mkdir(folder, { recursive: true });
  const warmUp = path.join(folder, "warm-up.txt");
  await writeFile(warmUp, "x".repeat(1024));
  const sizes = context.quick
    ? [
        { size: 16 * MiB, runs: 2 },
        { size: 128 * MiB, runs: 1 },
      ]
    : [
        { size: 100 * MiB, runs: 5 },
        { size: 1024 * MiB, runs: 2 }, // the fake keeps every upload on disk until it stops: 6 GiB here
      ];
  const lines: TableLine[] = [];
  const figures: Record<string, unknown> = {};
  const peaks: number[] = [];
  let worstRatio = Infinity;
  let worstCpuRatio = 0;
  for (const { size, runs } of sizes) {
    const file = path.join(folder, `bench-${size / MiB}MiB.bin`);
    context.log(`  writing ${mib(size)} test file`);
    const sha256 = await makeFile(file, size);
    const server: ServerUpload[] = [];
    const curl: CurlUpload[] = [];
    const floor: FloorUpload[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved: a burst of load elsewhere hits all three alike.
      curl.push(await uploadWithCurl(fake, file, size, sha256));
      floor.push(await uploadWithNodeFloor(fake, file, warmUp, size, sha256));
      server.push(await uploadThroughServer(context, fake, file, warmUp, size, sha256));
      await fake.reset();
    }
    const serverSeconds = median(server.map((s) => s.seconds));
    const transferSeconds = median(server.map((s) => s.transferSeconds));
    const curlSeconds = median(curl.map((c) => c.seconds));
    const throughputRatio = curlSeconds / transferSeconds;
    worstRatio = Math.min(worstRatio, throughputRatio);
    const peak = Math.max(...server.map((s) => Math.max(s.peakRss, s.hwm)));
    peaks.push(peak);
    const multipart = size > 90 * MiB;
    lines.push({
      measure: `${mib(size)}: throughput${multipart ? " (parts sent and acknowledged)" : ""}`,
      falMcp: mibps(size / transferSeconds),
      baseline: `${mibps(size / curlSeconds)} (curl -T)`,
      comparison: ratio(throughputRatio) + " of curl",
      target: verdict(throughputRatio >= 0.8, "≥ 0.8× curl", `${ratio(throughputRatio)}`),
    });
    // The same transfer by the bare Node script: whether the receiver and Node let any sender reach 0.8×.
    const floorTransfer = median(floor.map((f) => f.transferSeconds));
    lines.push({
      measure: `${mib(size)}: throughput, Node floor (bare script, same parts${multipart ? ", to the last part acknowledged" : ""})`,
      falMcp: `${ratio(floorTransfer / transferSeconds)} of the floor`,
      baseline: `${mibps(size / floorTransfer)} (Node floor)`,
      comparison: `floor ${ratio(curlSeconds / floorTransfer)} of curl`,
      target: "(reported)",
    });
    if (multipart) {
      lines.push({
        measure: `${mib(size)}: whole upload_file call`,
        falMcp: mibps(size / serverSeconds),
        baseline: `${mibps(size / curlSeconds)} (curl -T)`,
        comparison: `${ratio(curlSeconds / serverSeconds)} of curl; ${(serverSeconds - transferSeconds).toFixed(2)} s of it the fake joining ${Math.ceil(size / (10 * MiB))} parts`,
        target: "(reported)",
      });
    }
    const gib = size / 1024 / MiB;
    const serverCpu = median(server.map((s) => s.cpuSeconds)) / gib;
    const curlCpu = median(curl.map((c) => c.cpuSeconds)) / gib;
    const floorCpu = median(floor.map((f) => f.cpuSeconds)) / gib;
    const cpuRatio = serverCpu / curlCpu;
    const floorRatio = floorCpu / curlCpu;
    worstCpuRatio = Math.max(worstCpuRatio, cpuRatio);
    // The receiver's limit: the share of one core the fake used while receiving (1.0 = it was the bottleneck).
    const receiverBusyCurl = median(curl.map((c) => c.receiverCpuSeconds / c.seconds));
    const receiverBusyServer = median(server.map((s) => s.receiverCpuSeconds / s.transferSeconds));
    lines.push({
      measure: `${mib(size)}: CPU-seconds per GiB (user + system)`,
      falMcp: `${serverCpu.toFixed(2)} s/GiB`,
      baseline: `${curlCpu.toFixed(2)} s/GiB (curl)`,
      comparison: ratio(cpuRatio) + " of curl",
      target: verdict(cpuRatio <= 2, "≤ 2× curl", ratio(cpuRatio)),
    });
    // What Node itself needs for the same parts: if this is above 2× curl, so is any Node uploader.
    lines.push({
      measure: `${mib(size)}: CPU-seconds per GiB, Node floor (bare script, same parts, same warm-up)`,
      falMcp: `${ratio(serverCpu / floorCpu)} of the floor`,
      baseline: `${floorCpu.toFixed(2)} s/GiB (Node floor)`,
      comparison: `floor ${ratio(floorRatio)} of curl`,
      target:
        floorRatio <= 2
          ? "floor ≤ 2× curl: the target is within Node's reach"
          : `floor > 2× curl: the target is out of Node's reach (${ratio(floorRatio)})`,
    });
    lines.push({
      measure: `${mib(size)}: receiver (the fake, one core) busy while receiving`,
      falMcp: `${(receiverBusyServer * 100).toFixed(0)}% of a core`,
      baseline: `${(receiverBusyCurl * 100).toFixed(0)}% during curl`,
      comparison: "100% = the receiver is the limit",
      target: "(the receiver's limit)",
    });
    lines.push({
      measure: `${mib(size)}: peak RSS`,
      falMcp: mib(peak),
      baseline: `${mib(median(curl.map((c) => c.peakRss)))} (curl) · idle server ${mib(median(server.map((s) => s.idleRss)))}`,
      comparison: `+${mib(peak - median(server.map((s) => s.idleRss)))} over idle`,
      target: "",
    });
    figures[`${size / MiB}MiB`] = {
      runs,
      serverSeconds,
      transferSeconds,
      curlSeconds,
      throughputRatio,
      floorTransferSeconds: floorTransfer,
      cpuSecondsPerGiB: {
        server: serverCpu,
        curl: curlCpu,
        nodeFloor: floorCpu,
        ratio: cpuRatio,
        floorToCurl: floorRatio,
        serverToFloor: serverCpu / floorCpu,
      },
      receiverBusy: { server: receiverBusyServer, curl: receiverBusyCurl },
      peakRss: peak,
      server,
      curl,
      floor,
    };
  }
  const growth = peaks[peaks.length - 1]! - peaks[0]!;
  const flat = growth < 32 * MiB;
  lines.push({
    measure: "peak RSS growth, smallest → largest file",
    falMcp: `${growth >= 0 ? "+" : ""}${mib(growth)}`,
    baseline: "",
    comparison: `file ×${(sizes[sizes.length - 1]!.size / sizes[0]!.size).toFixed(0)}`,
    target: verdict(flat, "flat (< 32 MiB growth)", mib(growth)),
  });
  figures.peakGrowthBytes = growth;
  return {
    id,
    title,
    status: "ok",
    lines,
    figures: { ...figures, worstThroughputRatio: worstRatio, worstCpuRatio },
    notes: [
      "Throughput: file size / time from the tools/call to the last byte acknowledged (for multipart: the complete request reaching the fake), against curl's single PUT to a signed URL from the same initiate route. Files over 90 MiB go up in 10 MiB parts, 3 at a time; on complete the fake copies and re-hashes every part into one file (fal's storage joins parts on its side), which the 'whole call' line includes.",
      "CPU: user + system seconds of the server process for the whole upload_file call (/proc/<pid>/stat, 10 ms ticks) and of curl (/usr/bin/time, 10 ms steps: about 0.03–0.04 s at 100 MiB, so its figure there moves by a quarter between runs), per GiB sent. Receiver: the fake's CPU seconds over the transfer window divided by its length.",
      "Node floor: bench/floors/node-upload.mjs in a fresh `node` with no flags, after the same 1 KiB warm-up upload: initiate-multipart, 10 MiB parts, 3 in flight on keep-alive node:http sockets, each part read with FileHandle.read into two reused 2 MiB buffers and written as the socket takes them, then complete; process.cpuUsage() around that upload only. Cheapest of the plain Node ways measured (100 MiB, 7 interleaved runs, medians): this 0.65 s/GiB; sync reads 1 MiB 0.65, 256 KiB 0.69; the whole part in one buffer 0.71; createReadStream(...).pipe(request) 2.07.",
      "Peak RSS: the larger of VmRSS sampled every 10 ms and VmHWM, from /proc/<pid>/status of a fresh server per upload (after a 1 KiB warm-up upload, so the one-time loading of the upload path is not counted as throughput).",
    ],
  };
}
