// Queue jobs: the state machine on the fake clock, status bodies, and output generation (real
// media bytes registered on the fake CDN). Input validation lives in validate.ts.
import { randomInt } from "node:crypto";
import type { Behavior, Job, ModelSpec, QueueState, ValidationDetail } from "./types.js";
import { isObject } from "./http.js";
import { type MediaStore, makeGlb, makeSafetensors, makeWav, mp4Head, pngFor } from "./media.js";
import { generateHostile, hostileLogLines } from "./hostile.js";

export { validateInput } from "./validate.js";

// ---------------------------------------------------------------- jobs

export class FakeJob implements Job {
  output?: unknown;
  billableUnits?: number;
  cancelled = false;
  cancelledAt?: number;
  invalid?: ValidationDetail[];
  /** The cancel actually stopped the job (false when running jobs complete on cancel). */
  cancelEffective = false;
  /** The key the submit carried, kept only for hostile echo-key outputs (never logged). */
  callerKey?: string;

  constructor(
    private readonly clock: () => number,
    readonly requestId: string,
    readonly endpointId: string,
    readonly root: string,
    readonly input: unknown,
    readonly via: "queue" | "run",
    readonly createdAt: number,
    public startAt: number,
    public endAt: number,
    readonly behavior: Behavior,
    readonly headers: Record<string, string>,
  ) {}

  get storeIo(): boolean {
    return this.headers["x-fal-store-io"] !== "0";
  }

  get lifecycle(): Record<string, unknown> | null {
    const raw = this.headers["x-fal-object-lifecycle-preference"];
    if (raw === undefined) return null;
    try {
      const v: unknown = JSON.parse(raw);
      return isObject(v) ? v : null;
    } catch {
      return null; // [unverified] what fal does with a malformed value; the fake ignores it
    }
  }

  get state(): QueueState {
    const now = this.clock();
    if (now < this.startAt) return "IN_QUEUE";
    if (now < this.endAt) return "IN_PROGRESS";
    return "COMPLETED";
  }

  /** The failure this job ends with, if any (invalid input, a failing model, an effective cancel). */
  failure(): {
    status: number;
    body: unknown;
    error: string;
    errorType: string;
    headers: Record<string, string>;
  } | null {
    if (this.cancelEffective) {
      const msg = "Request was cancelled by the client";
      return {
        status: 499,
        body: { detail: msg, error_type: "client_cancelled" },
        error: msg,
        errorType: "client_cancelled",
        headers: { "X-Fal-Error-Type": "client_cancelled" },
      };
    }
    if (this.invalid?.length) {
      const first = this.invalid[0]!;
      return {
        status: 422,
        body: { detail: this.invalid },
        error: first.msg,
        errorType: first.type,
        headers: { "X-Fal-Retryable": "false" },
      };
    }
    if (this.behavior.output === "fail") {
      const f = this.behavior.failure ?? {
        kind: "flat" as const,
        status: 500,
        detail: "Internal server error",
        errorType: "internal_error",
      };
      if (f.kind === "flat") {
        return {
          status: f.status,
          body: { detail: f.detail, error_type: f.errorType },
          error: f.detail,
          errorType: f.errorType,
          headers: { "X-Fal-Error-Type": f.errorType },
        };
      }
      const prompt = isObject(this.input) ? this.input.prompt : undefined;
      const d = f.detail.map((x) => ({ ...x, input: x.input ?? prompt }));
      return {
        status: 422,
        body: { detail: d },
        error: f.error ?? d[0]?.msg ?? "Unprocessable Entity",
        errorType: f.errorType ?? d[0]?.type ?? "validation_error",
        headers: { "X-Fal-Retryable": "false" },
      };
    }
    return null;
  }

  /** Log lines emitted so far (evenly spread over the run). */
  logs(): { message: string; level: string; source: string; timestamp: string }[] {
    const now = Math.min(
      this.clock(),
      this.cancelEffective && this.cancelledAt !== undefined ? this.cancelledAt : Infinity,
    );
    const lines = [...this.behavior.logs, ...hostileLogLines(this)];
    const out = [];
    const run = Math.max(0, this.endAt - this.startAt);
    for (let i = 0; i < lines.length; i++) {
      const at = this.startAt + (lines.length > 1 ? (run * i) / lines.length : 0);
      if (at > now || now < this.startAt) break;
      out.push({ message: lines[i]!, level: "INFO", source: "USER", timestamp: new Date(at).toISOString() });
    }
    return out;
  }
}

/** Queue position: real jobs ahead on the same endpoint plus the synthetic backlog of the behaviour. */
export function queuePosition(job: FakeJob, all: Iterable<FakeJob>, now: number): number {
  let ahead = 0;
  for (const other of all) {
    if (other === job || other.endpointId !== job.endpointId || other.via !== "queue") continue;
    if (other.createdAt <= job.createdAt && other.state === "IN_QUEUE" && other.startAt <= job.startAt)
      ahead++;
  }
  const { queuePosition: backlog, queueMs } = job.behavior;
  const synthetic =
    backlog > 0 && queueMs > 0 ? Math.ceil((backlog * Math.max(0, job.startAt - now)) / queueMs) : 0;
  return ahead + synthetic;
}

/** The URLs a submit (and status) answers, in the form `settings.queueUrlStyle` selects. */
export function queueUrls(
  job: Pick<Job, "root" | "requestId" | "endpointId">,
  style: "app-root" | "response-suffix" | "full-id" = "app-root",
): { response_url: string; status_url: string; cancel_url: string } {
  const base = `https://queue.fal.run/${style === "full-id" ? job.endpointId : job.root}/requests/${encodeURIComponent(job.requestId)}`;
  return {
    response_url: style === "response-suffix" ? `${base}/response` : base,
    status_url: `${base}/status`,
    cancel_url: `${base}/cancel`,
  };
}

// ---------------------------------------------------------------- outputs

const IMAGE_SIZES: Record<string, [number, number]> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

function dimensions(input: Record<string, unknown>): [number, number] {
  const size = input.image_size;
  if (typeof size === "string" && IMAGE_SIZES[size]) return IMAGE_SIZES[size];
  if (isObject(size) && typeof size.width === "number" && typeof size.height === "number")
    return [size.width, size.height];
  const ar = input.aspect_ratio;
  if (typeof ar === "string" && /^\d+:\d+$/.test(ar)) {
    const [a, b] = ar.split(":").map(Number) as [number, number];
    return a >= b ? [1024, Math.round((1024 * b) / a)] : [Math.round((1024 * a) / b), 1024];
  }
  return [1024, 768];
}

const rid = (): string => randomInt(0, 2 ** 31).toString(36);

interface GenSettings {
  imageBytes: number | null;
  videoBytes: number;
  /** The loopback canary's URL, for hostile private-urls outputs. */
  canaryUrl?: string;
}

/** Produces the output JSON of a successful job and its billed units. Media go to the CDN store. */
export function generateOutput(
  spec: ModelSpec,
  job: FakeJob,
  media: MediaStore,
  settings: GenSettings,
): { output: unknown; units: number } {
  if (job.behavior.hostile)
    return generateHostile(job.behavior.hostile, job, media, settings.canaryUrl ?? "");
  const input = isObject(job.input) ? job.input : {};
  const b = job.behavior;
  const inference = Math.round(Math.max(job.endAt - job.startAt, 1)) / 1000;
  const seed = typeof input.seed === "number" ? input.seed : randomInt(0, 2 ** 31);
  const file = (name: string, contentType: string, data: Buffer): Record<string, unknown> => ({
    url: media.add(name, { kind: "buffer", contentType, data, source: "generated" }),
    content_type: contentType,
    file_name: name,
    file_size: data.length,
  });
  const image = (w: number, h: number): Record<string, unknown> & { width: number; height: number } => {
    const png = pngFor(w, h, b.imageBytes ?? settings.imageBytes);
    const name = `${rid()}.png`;
    const url =
      input.sync_mode === true
        ? `data:image/png;base64,${png.data.toString("base64")}`
        : media.add(name, { kind: "buffer", contentType: "image/png", data: png.data, source: "generated" });
    return {
      url,
      width: png.width,
      height: png.height,
      content_type: "image/png",
      file_name: name,
      file_size: png.data.length,
    };
  };

  let output: unknown;
  let count = 1;
  let pixels = 0;
  let seconds = 0;
  switch (b.output) {
    case "image": {
      count =
        typeof input.num_images === "number" && input.num_images >= 1 ? Math.floor(input.num_images) : 1;
      const [w, h] = dimensions(input);
      const images = Array.from({ length: count }, () => image(w, h));
      pixels = images.reduce((s, i) => s + i.width * i.height, 0);
      output = {
        images: images.map(({ url, width, height, content_type }) => ({ url, width, height, content_type })),
        timings: { inference },
        seed,
        has_nsfw_concepts: images.map(() => false),
        prompt: typeof input.prompt === "string" ? input.prompt : "",
      };
      break;
    }
    case "image-single": {
      const factor = typeof input.upscale_factor === "number" ? input.upscale_factor : 1;
      const side = Math.min(2048, Math.round(512 * factor));
      const img = image(side, side);
      pixels = img.width * img.height;
      output = { image: img, seed, timings: { inference } };
      break;
    }
    case "video": {
      const size = b.videoBytes ?? settings.videoBytes;
      const head = mp4Head(size);
      const name = "output.mp4";
      const url = media.add(name, {
        kind: "synthetic",
        contentType: "video/mp4",
        head,
        size,
        source: "generated",
      });
      const d =
        typeof input.duration === "string" || typeof input.duration === "number"
          ? parseFloat(String(input.duration))
          : NaN;
      seconds = Number.isFinite(d) ? d : spec.typicalUnits;
      // fal's VideoFile states its frame size and length when the model reports them.
      const [width, height] = [1280, 720];
      output = {
        video: {
          url,
          content_type: "video/mp4",
          file_name: name,
          file_size: size,
          width,
          height,
          fps: 24,
          duration: seconds,
        },
        seed,
      };
      break;
    }
    case "audio":
    case "audio-file": {
      const wav = file(`${rid()}.wav`, "audio/wav", makeWav(1));
      seconds = 1;
      output = b.output === "audio" ? { audio: wav } : { audio_file: wav };
      break;
    }
    case "mesh":
      output = { model_mesh: file("model.glb", "model/gltf-binary", makeGlb()), timings: { inference } };
      break;
    case "text": {
      if (typeof input.audio_url === "string") {
        const text = "This is a fake transcription of the audio.";
        output = { text, chunks: [{ timestamp: [0, 2.5], text }] };
      } else {
        output = {
          text: `Fake response to: ${typeof input.prompt === "string" ? input.prompt : ""}`,
          chunks: [],
        };
      }
      break;
    }
    case "lora":
      output = {
        diffusers_lora_file: file(
          "pytorch_lora_weights.safetensors",
          "application/octet-stream",
          makeSafetensors(),
        ),
        config_file: file(
          "config.json",
          "application/json",
          Buffer.from(
            JSON.stringify({ trigger_word: input.trigger_word ?? null, steps: input.steps ?? 1000 }),
          ),
        ),
      };
      break;
    case "echo":
      output = structuredClone(job.input);
      break;
    case "fail":
      output = null;
      break;
  }

  let units: number;
  const unit = spec.price.unit;
  if (unit.startsWith("image")) units = count;
  else if (unit === "megapixels") units = Math.round((pixels / 1e6) * 100) / 100;
  else if (unit.startsWith("second")) units = seconds || spec.typicalUnits;
  else if (unit === "1000 characters") {
    const text =
      typeof input.text === "string" ? input.text : typeof input.prompt === "string" ? input.prompt : "";
    units = Math.round((text.length / 1000) * 1000) / 1000;
  } else if (unit === "compute seconds") units = inference;
  else units = 1;
  return { output, units };
}
