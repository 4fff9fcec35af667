// Child process for the crash-safety suite: writes job records as fast as it can through the job
// store's API (creates and full-record updates with sizeable outputs) until it is killed. After each
// create has resolved it prints "created <request id>", so the parent knows which records must survive.
// "blocking" as the second argument writes the way a lone call does (blocking calls, no thread pool).
import { randomUUID } from "node:crypto";
import { JobStore } from "../../src/jobs/store.js";

const stateDir = process.argv[2];
if (!stateDir) throw new Error("usage: crash-writer.ts <stateDir> [blocking|pool]");
const store = new JobStore(stateDir, undefined, undefined, {
  mayBlock: () => process.argv[3] === "blocking",
});
const output = {
  images: Array.from({ length: 200 }, (_, i) => ({
    url: `https://v3.fal.media/files/x/${i}.png`,
    width: 1024,
    height: 1024,
  })),
  seed: 42,
};

async function main(): Promise<void> {
  const ids: string[] = [];
  for (let n = 0; ; n++) {
    const requestId = randomUUID();
    await store.create({
      requestId,
      endpointId: "fal-ai/flux/dev",
      tool: "run_model",
      input: { prompt: `fox ${n}`, api_key: "must-not-be-kept" },
    });
    ids.push(requestId);
    process.stdout.write(`created ${requestId}\n`);
    // Rewrite an earlier record in full, as status updates and result saving do.
    const target = ids[n % ids.length];
    if (target)
      await store.update(target, { status: n % 2 ? "IN_PROGRESS" : "COMPLETED", output: { ...output, n } });
  }
}

void main();
