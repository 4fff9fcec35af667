// The fixture catalog of the fake: hand-written, realistic fal models (metadata as in
// `GET api.fal.ai/v1/models`, a compact input field list that openapi.ts turns into fal's OpenAPI
// shape, a unit price and a behaviour), plus the `fake/...` family built for tests.
import type { Behavior, FieldSpec, ModelMetadata, ModelSpec, OutputKind, Price } from "./types.js";

const NAMESPACES = new Set(["workflows", "comfy"]);

/** App root used by status/result/cancel: `owner/app`, or three segments for workflows/comfy. */
export function appRoot(endpointId: string): string {
  const parts = endpointId.split("/");
  return parts.slice(0, NAMESPACES.has(parts[0] ?? "") ? 3 : 2).join("/");
}

// ---------------------------------------------------------------- field building blocks

const f = {
  prompt: (description = "The prompt to generate an image from.", required = true): FieldSpec => ({
    name: "prompt",
    type: "string",
    required,
    description,
    examples: ["A serene lake at dawn, mist over the water, photorealistic"],
  }),
  negativePrompt: (): FieldSpec => ({
    name: "negative_prompt",
    type: "string",
    default: "",
    description: "The negative prompt to use. Use it to address details that you don't want in the image.",
  }),
  imageSize: (def = "landscape_4_3"): FieldSpec => ({
    name: "image_size",
    type: "string",
    imageSize: true,
    default: def,
    enum: ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"],
    description: "The size of the generated image.",
  }),
  steps: (def = 28, max = 50): FieldSpec => ({
    name: "num_inference_steps",
    type: "integer",
    default: def,
    min: 1,
    max,
    description: "The number of inference steps to perform.",
  }),
  seed: (): FieldSpec => ({
    name: "seed",
    type: "integer",
    nullable: true,
    description:
      "The same seed and the same prompt given to the same version of the model will output the same image every time.",
  }),
  guidance: (def = 3.5, max = 20): FieldSpec => ({
    name: "guidance_scale",
    type: "number",
    default: def,
    min: 1,
    max,
    description: "How closely the model should stick to your prompt (CFG scale).",
  }),
  numImages: (max = 4): FieldSpec => ({
    name: "num_images",
    type: "integer",
    default: 1,
    min: 1,
    max,
    description: "The number of images to generate.",
  }),
  safety: (): FieldSpec => ({
    name: "enable_safety_checker",
    type: "boolean",
    default: true,
    description: "If set to true, the safety checker will be enabled.",
  }),
  outputFormat: (): FieldSpec => ({
    name: "output_format",
    type: "string",
    default: "jpeg",
    enum: ["jpeg", "png"],
    description: "The format of the generated image.",
  }),
  syncMode: (): FieldSpec => ({
    name: "sync_mode",
    type: "boolean",
    default: false,
    description:
      "If set to true, the media will be returned as a data URI and the output data won't be available in the request history.",
  }),
  imageUrl: (description = "The URL of the image to use."): FieldSpec => ({
    name: "image_url",
    type: "string",
    required: true,
    description,
    examples: ["https://v3.fal.media/files/example/input.png"],
  }),
  strength: (): FieldSpec => ({
    name: "strength",
    type: "number",
    default: 0.95,
    min: 0.01,
    max: 1,
    description: "The strength of the initial image. Higher strength values are better for this model.",
  }),
  aspectRatio: (values: string[], def: string): FieldSpec => ({
    name: "aspect_ratio",
    type: "string",
    default: def,
    enum: values,
    description: "The aspect ratio of the generated media.",
  }),
  duration: (values: string[], def: string): FieldSpec => ({
    name: "duration",
    type: "string",
    default: def,
    enum: values,
    description: "The duration of the generated video in seconds.",
  }),
  audioUrl: (): FieldSpec => ({
    name: "audio_url",
    type: "string",
    required: true,
    description:
      "URL of the audio file to transcribe. Supported formats: mp3, mp4, mpeg, mpga, m4a, wav or webm.",
  }),
  text: (): FieldSpec => ({
    name: "text",
    type: "string",
    required: true,
    description: "The text to convert to speech.",
    examples: ["Hello! This is a test of the text to speech system."],
  }),
};

// ---------------------------------------------------------------- behaviours

const STEPS_LOGS = [
  "Loading model",
  "Model loaded",
  "Step 7/28",
  "Step 14/28",
  "Step 21/28",
  "Step 28/28",
  "Uploading results",
];

function behavior(output: OutputKind, queueMs: number, runMs: number, logs: string[] = STEPS_LOGS): Behavior {
  return { output, queueMs, runMs, logs, queuePosition: 0 };
}

const IMAGE = (): Behavior => behavior("image", 100, 400);
const VIDEO = (): Behavior =>
  behavior("video", 2_000, 300_000, [
    "Loading model",
    "Encoding prompt",
    "Denoising 25%",
    "Denoising 50%",
    "Denoising 75%",
    "Decoding video",
    "Uploading video",
  ]);

// ---------------------------------------------------------------- model builder

interface ModelInit {
  id: string;
  name: string;
  category: string;
  description: string;
  tags: string[];
  inputs: FieldSpec[];
  price: [number, string];
  typicalUnits?: number;
  behavior: Behavior;
  status?: "active" | "deprecated";
  date?: string;
  highlighted?: boolean;
  pinned?: boolean;
  durationEstimate?: number;
  kind?: "inference" | "training";
  openapi?: "ok" | "expansion_failed";
}

export function model(init: ModelInit): ModelSpec {
  const date = init.date ?? "2025-06-01T12:00:00.000Z";
  const metadata: ModelMetadata = {
    display_name: init.name,
    category: init.category,
    description: init.description,
    status: init.status ?? "active",
    tags: init.tags,
    updated_at: new Date(Date.parse(date) + 86_400_000 * 30).toISOString(),
    is_favorited: null,
    thumbnail_url: `https://v3.fal.media/files/thumbnails/${init.id.replace(/[^a-z0-9]+/gi, "-")}.webp`,
    model_url: `https://fal.ai/models/${init.id}`,
    date,
    highlighted: init.highlighted ?? false,
    pinned: init.pinned ?? false,
    kind: init.kind ?? "inference",
  };
  if (init.durationEstimate !== undefined) metadata.duration_estimate = init.durationEstimate;
  const price: Price = { unit_price: init.price[0], unit: init.price[1], currency: "USD" };
  return {
    endpoint_id: init.id,
    metadata,
    inputs: init.inputs,
    price,
    typicalUnits: init.typicalUnits ?? 1,
    behavior: init.behavior,
    openapi: init.openapi ?? "ok",
  };
}

const T2I_FLUX = (): FieldSpec[] => [
  f.prompt(),
  f.imageSize(),
  f.steps(),
  f.seed(),
  f.guidance(),
  f.syncMode(),
  f.numImages(),
  f.safety(),
  f.outputFormat(),
];

/** Optional media URL fields, so the test models take local files (fal-mcp refuses fields a schema lacks). */
function optionalMediaUrls(): FieldSpec[] {
  return ["image_url", "video_url", "audio_url", "mask_url"].map((name) => ({
    name,
    type: "string" as const,
    description: `Optional ${name.replace("_url", "")} URL.`,
  }));
}

// ---------------------------------------------------------------- the catalog

export const CATALOG: ModelSpec[] = [
  // text-to-image
  model({
    id: "fal-ai/flux/dev",
    name: "FLUX.1 [dev]",
    category: "text-to-image",
    description:
      "FLUX.1 [dev] is a 12 billion parameter flow transformer that generates high-quality images from text. It is suitable for personal and commercial use.",
    tags: ["flux", "photorealistic", "typography"],
    inputs: T2I_FLUX(),
    price: [0.025, "megapixels"],
    behavior: IMAGE(),
    date: "2024-08-01T00:00:00.000Z",
    highlighted: true,
    pinned: true,
  }),
  model({
    id: "fal-ai/flux/schnell",
    name: "FLUX.1 [schnell]",
    category: "text-to-image",
    description:
      "FLUX.1 [schnell] is a 12 billion parameter flow transformer that generates high-quality images from text in 1 to 4 steps, suitable for fast previews.",
    tags: ["flux", "fast", "turbo"],
    inputs: [
      f.prompt(),
      f.imageSize(),
      f.steps(4, 12),
      f.seed(),
      f.syncMode(),
      f.numImages(),
      f.safety(),
      f.outputFormat(),
    ],
    price: [0.003, "megapixels"],
    behavior: behavior("image", 50, 150),
    date: "2024-08-01T00:00:00.000Z",
    highlighted: true,
  }),
  model({
    id: "fal-ai/flux-pro/v1.1-ultra",
    name: "FLUX1.1 [pro] ultra",
    category: "text-to-image",
    description: "FLUX1.1 [pro] ultra generates images up to 2K resolution with improved photo realism.",
    tags: ["flux", "pro", "high-resolution", "2k"],
    inputs: [
      f.prompt(),
      f.seed(),
      f.syncMode(),
      f.numImages(),
      f.safety(),
      f.outputFormat(),
      f.aspectRatio(["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"], "16:9"),
      {
        name: "raw",
        type: "boolean",
        default: false,
        description: "Generate less processed, more natural-looking images.",
      },
    ],
    price: [0.06, "image"],
    behavior: IMAGE(),
    date: "2024-11-06T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/fast-sdxl",
    name: "Stable Diffusion XL",
    category: "text-to-image",
    description: "Run SDXL at the speed of light. Stable Diffusion XL with fast inference and LoRA support.",
    tags: ["sdxl", "stable-diffusion", "lora"],
    inputs: [
      f.prompt(),
      f.negativePrompt(),
      f.imageSize("square_hd"),
      f.steps(25, 65),
      f.seed(),
      f.guidance(7.5),
      f.numImages(8),
      f.safety(),
      f.syncMode(),
    ],
    price: [0.00111, "compute seconds"],
    typicalUnits: 2,
    behavior: IMAGE(),
    date: "2023-11-01T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/recraft-v3",
    name: "Recraft V3",
    category: "text-to-image",
    description:
      "Recraft V3 is a text-to-image model with the ability to generate long texts, vector art, images in brand style, and much more.",
    tags: ["vector", "typography", "style", "design"],
    inputs: [
      f.prompt(),
      f.imageSize("square_hd"),
      {
        name: "style",
        type: "string",
        default: "realistic_image",
        enum: ["any", "realistic_image", "digital_illustration", "vector_illustration"],
        description: "The style of the generated images. Vector images cost 2X as much.",
      },
      {
        name: "colors",
        type: "array",
        items: "object",
        default: [],
        description: "An array of preferable colors.",
      },
    ],
    price: [0.04, "image"],
    behavior: IMAGE(),
    date: "2024-10-30T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/ideogram/v3",
    name: "Ideogram V3",
    category: "text-to-image",
    description:
      "Generate high-quality images, posters, and logos with Ideogram V3. Features exceptional typography handling and realistic outputs.",
    tags: ["typography", "logo", "poster"],
    inputs: [
      f.prompt(),
      f.imageSize("square_hd"),
      {
        name: "rendering_speed",
        type: "string",
        default: "BALANCED",
        enum: ["TURBO", "BALANCED", "QUALITY"],
        description: "The rendering speed to use.",
      },
      f.numImages(8),
      f.seed(),
      f.negativePrompt(),
    ],
    price: [0.06, "image"],
    behavior: IMAGE(),
    date: "2025-03-26T00:00:00.000Z",
  }),
  // image-to-image
  model({
    id: "fal-ai/flux/dev/image-to-image",
    name: "FLUX.1 [dev] Image-to-Image",
    category: "image-to-image",
    description: "FLUX.1 [dev] image-to-image: transform an input image guided by a text prompt.",
    tags: ["flux", "image-to-image", "editing"],
    inputs: [
      f.imageUrl("The URL of the image to generate an image from."),
      f.prompt(),
      f.strength(),
      f.steps(40),
      f.seed(),
      f.guidance(),
      f.syncMode(),
      f.numImages(),
      f.safety(),
      f.outputFormat(),
    ],
    price: [0.03, "megapixels"],
    behavior: IMAGE(),
    date: "2024-08-01T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/clarity-upscaler",
    name: "Clarity Upscaler",
    category: "image-to-image",
    description: "Clarity upscaler for upscaling images with very high fidelity.",
    tags: ["upscaling", "high-res", "enhance"],
    inputs: [
      f.imageUrl("The URL of the image to upscale."),
      f.prompt(
        "The prompt to use for generating the image. Be as descriptive as possible for best results.",
        false,
      ),
      {
        name: "upscale_factor",
        type: "number",
        default: 2,
        min: 1,
        max: 4,
        description: "The upscale factor.",
      },
      {
        name: "creativity",
        type: "number",
        default: 0.35,
        min: 0,
        max: 1,
        description: "The creativity of the model.",
      },
      f.seed(),
    ],
    price: [0.03, "megapixels"],
    typicalUnits: 4,
    behavior: {
      ...behavior("image-single", 200, 1_500),
      logs: ["Loading model", "Tiling image", "Upscaling tile 1/4", "Upscaling tile 4/4", "Merging"],
    },
    date: "2024-06-01T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/birefnet",
    name: "BiRefNet Background Removal",
    category: "image-to-image",
    description:
      "bilateral reference framework (BiRefNet) for high-resolution dichotomous image segmentation: remove the background of an image.",
    tags: ["background removal", "segmentation", "utility"],
    inputs: [
      f.imageUrl("URL of the image to remove background from"),
      {
        name: "model",
        type: "string",
        default: "General Use (Light)",
        enum: ["General Use (Light)", "General Use (Heavy)", "Portrait"],
        description: "Model to use for background removal.",
      },
      {
        name: "output_mask",
        type: "boolean",
        default: false,
        description: "Whether to output the mask used to remove the background.",
      },
    ],
    price: [0, "compute seconds"],
    behavior: behavior("image-single", 50, 300, ["Removing background"]),
    date: "2024-07-01T00:00:00.000Z",
  }),
  // image-to-video
  model({
    id: "fal-ai/kling-video/v2.1/master/image-to-video",
    name: "Kling 2.1 Master Image to Video",
    category: "image-to-video",
    description:
      "Kling 2.1 Master: the premium endpoint for Kling 2.1, designed for top-tier image-to-video generation with unparalleled motion fluidity.",
    tags: ["kling", "video", "motion"],
    inputs: [
      f.prompt("The prompt describing the motion."),
      f.imageUrl("URL of the image to be used for the video."),
      f.duration(["5", "10"], "5"),
      f.negativePrompt(),
      { name: "cfg_scale", type: "number", default: 0.5, min: 0, max: 1, description: "The CFG scale." },
    ],
    price: [0.28, "second"],
    typicalUnits: 5,
    behavior: VIDEO(),
    date: "2025-05-29T00:00:00.000Z",
    durationEstimate: 6,
    highlighted: true,
  }),
  model({
    id: "fal-ai/minimax/hailuo-02/standard/image-to-video",
    name: "MiniMax Hailuo 02 [Standard] (Image to Video)",
    category: "image-to-video",
    description: "Create videos from your images with MiniMax Hailuo-02 Standard, 768p, 6 or 10 seconds.",
    tags: ["minimax", "hailuo", "video"],
    inputs: [
      f.prompt("The prompt describing the motion."),
      f.imageUrl(),
      f.duration(["6", "10"], "6"),
      {
        name: "prompt_optimizer",
        type: "boolean",
        default: true,
        description: "Whether to use the model's prompt optimizer.",
      },
    ],
    price: [0.045, "second"],
    typicalUnits: 6,
    behavior: VIDEO(),
    date: "2025-06-18T00:00:00.000Z",
    durationEstimate: 5,
  }),
  // text-to-video
  model({
    id: "fal-ai/veo3",
    name: "Veo 3",
    category: "text-to-video",
    description: "Veo 3 by Google, the most advanced AI video generation model in the world. With sound on!",
    tags: ["google", "veo", "audio", "video"],
    inputs: [
      f.prompt("The text prompt describing the video you want to generate."),
      f.aspectRatio(["16:9", "9:16", "1:1"], "16:9"),
      f.duration(["8s"], "8s"),
      {
        name: "generate_audio",
        type: "boolean",
        default: true,
        description: "Whether to generate audio for the video. If false, 33% less credits will be used.",
      },
      f.negativePrompt(),
      f.seed(),
    ],
    price: [0.75, "second"],
    typicalUnits: 8,
    behavior: VIDEO(),
    date: "2025-05-20T00:00:00.000Z",
    durationEstimate: 4,
    highlighted: true,
  }),
  model({
    id: "fal-ai/wan/v2.2-a14b/text-to-video",
    name: "Wan 2.2 A14B Text to Video",
    category: "text-to-video",
    description:
      "Wan 2.2 A14B text-to-video generates high-quality videos with strong motion and prompt following. Open weights.",
    tags: ["wan", "open-source", "video"],
    inputs: [
      f.prompt(),
      f.negativePrompt(),
      {
        name: "num_frames",
        type: "integer",
        default: 81,
        min: 17,
        max: 161,
        description: "Number of frames to generate.",
      },
      {
        name: "frames_per_second",
        type: "integer",
        default: 16,
        min: 4,
        max: 60,
        description: "Frames per second of the generated video.",
      },
      {
        name: "resolution",
        type: "string",
        default: "720p",
        enum: ["480p", "580p", "720p"],
        description: "Resolution of the generated video.",
      },
      f.seed(),
    ],
    price: [0.08, "second"],
    typicalUnits: 5,
    behavior: VIDEO(),
    date: "2025-07-28T00:00:00.000Z",
  }),
  // video-to-video
  model({
    id: "fal-ai/topaz/upscale/video",
    name: "Topaz Video Upscale",
    category: "video-to-video",
    description:
      "Professional-grade video upscaling using Topaz technology. Enhance your videos with high-quality upscaling.",
    tags: ["upscaling", "video", "enhance"],
    inputs: [
      { name: "video_url", type: "string", required: true, description: "URL of the video to upscale." },
      {
        name: "upscale_factor",
        type: "number",
        default: 2,
        min: 1,
        max: 4,
        description: "Factor to upscale the video by.",
      },
      {
        name: "target_fps",
        type: "integer",
        nullable: true,
        min: 16,
        max: 60,
        description: "Target FPS for frame interpolation. If set, frame interpolation will be enabled.",
      },
    ],
    price: [0.1, "second"],
    typicalUnits: 10,
    behavior: VIDEO(),
    date: "2025-05-01T00:00:00.000Z",
  }),
  // text-to-speech
  model({
    id: "fal-ai/elevenlabs/tts/multilingual-v2",
    name: "ElevenLabs TTS Multilingual v2",
    category: "text-to-speech",
    description: "Generate multilingual text-to-speech audio using ElevenLabs TTS Multilingual v2.",
    tags: ["elevenlabs", "tts", "speech", "multilingual"],
    inputs: [
      f.text(),
      {
        name: "voice",
        type: "string",
        default: "Rachel",
        enum: ["Rachel", "Aria", "Roger", "Sarah", "Laura", "Charlie"],
        description: "The voice to use for speech generation.",
      },
      { name: "stability", type: "number", default: 0.5, min: 0, max: 1, description: "Voice stability." },
      { name: "speed", type: "number", default: 1, min: 0.7, max: 1.2, description: "Speech speed." },
    ],
    price: [0.1, "1000 characters"],
    behavior: behavior("audio", 100, 600, ["Synthesizing speech"]),
    date: "2025-02-01T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/kokoro/american-english",
    name: "Kokoro TTS (American English)",
    category: "text-to-speech",
    description:
      "Kokoro is a lightweight text-to-speech model that delivers comparable quality to larger models while being significantly faster.",
    tags: ["tts", "speech", "lightweight"],
    inputs: [
      {
        ...f.prompt("The text to convert to speech."),
        examples: ["The quick brown fox jumped over the lazy dog."],
      },
      {
        name: "voice",
        type: "string",
        default: "af_heart",
        enum: ["af_heart", "af_alloy", "af_bella", "am_adam", "am_echo"],
        description: "Voice ID for the desired voice.",
      },
      {
        name: "speed",
        type: "number",
        default: 1,
        min: 0.1,
        max: 5,
        description: "Speed of the generated audio.",
      },
    ],
    price: [0.02, "1000 characters"],
    behavior: behavior("audio", 50, 300, ["Synthesizing speech"]),
    date: "2025-01-20T00:00:00.000Z",
  }),
  // speech-to-text
  model({
    id: "fal-ai/whisper",
    name: "Whisper",
    category: "speech-to-text",
    description: "Whisper is a model for speech transcription and translation.",
    tags: ["transcription", "speech", "openai"],
    inputs: [
      f.audioUrl(),
      {
        name: "task",
        type: "string",
        default: "transcribe",
        enum: ["transcribe", "translate"],
        description: "Task to perform on the audio file.",
      },
      {
        name: "language",
        type: "string",
        nullable: true,
        description: "Language of the audio file. If not set, it will be detected.",
      },
      {
        name: "chunk_level",
        type: "string",
        default: "segment",
        enum: ["none", "segment", "word"],
        description: "Level of the chunks to return.",
      },
    ],
    price: [0.00111, "compute seconds"],
    typicalUnits: 10,
    behavior: behavior("text", 100, 500, ["Loading audio", "Transcribing"]),
    date: "2024-01-01T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/wizper",
    name: "Wizper (Whisper v3 -- fal.ai edition)",
    category: "speech-to-text",
    description: "Whisper v3 large, optimized by fal: 2x faster transcription with the same word error rate.",
    tags: ["transcription", "speech", "fast"],
    inputs: [
      f.audioUrl(),
      {
        name: "task",
        type: "string",
        default: "transcribe",
        enum: ["transcribe", "translate"],
        description: "Task to perform on the audio file.",
      },
      { name: "language", type: "string", default: "en", description: "Language of the audio file." },
    ],
    price: [0.0005, "compute seconds"],
    typicalUnits: 10,
    behavior: behavior("text", 100, 300, ["Transcribing"]),
    date: "2024-06-01T00:00:00.000Z",
  }),
  // text-to-audio
  model({
    id: "fal-ai/stable-audio",
    name: "Stable Audio Open",
    category: "text-to-audio",
    description:
      "Open source text-to-audio model from Stability AI: generate music and sound effects from a prompt.",
    tags: ["music", "sound effects", "stability"],
    inputs: [
      f.prompt("The prompt to generate audio from."),
      {
        name: "seconds_start",
        type: "integer",
        default: 0,
        min: 0,
        max: 47,
        description: "The start point of the audio clip to generate.",
      },
      {
        name: "seconds_total",
        type: "integer",
        default: 30,
        min: 0,
        max: 47,
        description: "The duration of the audio clip to generate.",
      },
      {
        name: "steps",
        type: "integer",
        default: 100,
        min: 1,
        max: 1000,
        description: "The number of steps to denoise the audio for.",
      },
    ],
    price: [0.00111, "compute seconds"],
    typicalUnits: 10,
    behavior: behavior("audio-file", 100, 800),
    date: "2024-06-05T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/lyria2",
    name: "Lyria 2",
    category: "text-to-audio",
    description:
      "Lyria 2 is Google's latest music generation model: high-quality 30-second instrumental clips from text.",
    tags: ["music", "google"],
    inputs: [
      f.prompt("The text prompt describing the music you want to generate."),
      f.negativePrompt(),
      f.seed(),
    ],
    price: [0.1, "30 seconds"],
    behavior: behavior("audio", 200, 2_000, ["Generating music"]),
    date: "2025-05-20T00:00:00.000Z",
  }),
  // image-to-3d
  model({
    id: "fal-ai/trellis",
    name: "Trellis",
    category: "image-to-3d",
    description:
      "Generate 3D models from your images using Trellis. A native 3D generative model enabling versatile and high-quality 3D asset creation.",
    tags: ["3d", "mesh", "glb"],
    inputs: [
      f.imageUrl("URL of the input image to convert to 3D"),
      {
        name: "ss_guidance_strength",
        type: "number",
        default: 7.5,
        min: 0,
        max: 10,
        description: "Guidance strength for sparse structure generation.",
      },
      {
        name: "texture_size",
        type: "string",
        default: "1024",
        enum: ["512", "1024", "2048"],
        description: "Texture resolution.",
      },
      f.seed(),
    ],
    price: [0.02, "generations"],
    behavior: behavior("mesh", 200, 1_500, [
      "Loading model",
      "Sparse structure sampling",
      "Structured latent sampling",
      "Exporting GLB",
    ]),
    date: "2024-12-10T00:00:00.000Z",
  }),
  model({
    id: "fal-ai/hunyuan3d/v2",
    name: "Hunyuan3D v2",
    category: "image-to-3d",
    description:
      "Generate 3D models from your images using Hunyuan 3D. A native 3D generative model enabling versatile and high-quality 3D asset creation.",
    tags: ["3d", "mesh", "tencent"],
    inputs: [
      {
        name: "input_image_url",
        type: "string",
        required: true,
        description: "URL of image to use while generating the 3D model.",
      },
      {
        name: "textured_mesh",
        type: "boolean",
        default: false,
        description:
          "If set true, textured mesh will be generated and the price charged would be 3 times that of white mesh.",
      },
      f.steps(50, 50),
      f.seed(),
    ],
    price: [0.16, "generations"],
    behavior: behavior("mesh", 200, 2_000, ["Loading model", "Generating shape", "Exporting GLB"]),
    date: "2025-01-21T00:00:00.000Z",
  }),
  // training
  model({
    id: "fal-ai/flux-lora-fast-training",
    name: "Train Flux LoRA",
    category: "training",
    description:
      "FLUX LoRA training optimized for portrait generation, with bright highlights, excellent prompt following and highly detailed results.",
    tags: ["lora", "training", "personalization"],
    inputs: [
      {
        name: "images_data_url",
        type: "string",
        required: true,
        description:
          "URL to zip archive with images. Try to use at least 4 images in general the more the better.",
      },
      {
        name: "trigger_word",
        type: "string",
        nullable: true,
        description: "Trigger word to be used in the captions.",
      },
      {
        name: "steps",
        type: "integer",
        default: 1000,
        min: 1,
        max: 10000,
        description: "Number of steps to train the LoRA on.",
      },
      {
        name: "is_style",
        type: "boolean",
        default: false,
        description: "If True, the training will be for a style.",
      },
    ],
    price: [2, "runs"],
    behavior: behavior("lora", 1_000, 600_000, [
      "Preparing dataset",
      "Captioning images",
      "Training step 250/1000",
      "Training step 500/1000",
      "Training step 750/1000",
      "Training step 1000/1000",
      "Saving LoRA",
    ]),
    date: "2024-08-20T00:00:00.000Z",
    kind: "training",
    durationEstimate: 10,
  }),
  // deprecated
  model({
    id: "fal-ai/stable-diffusion-v15",
    name: "Stable Diffusion v1.5",
    category: "text-to-image",
    description:
      "Stable Diffusion v1.5, the classic latent diffusion text-to-image model. Deprecated: use a newer model.",
    tags: ["stable-diffusion", "legacy"],
    inputs: [
      f.prompt(),
      f.negativePrompt(),
      f.imageSize("square"),
      f.steps(25),
      f.seed(),
      f.guidance(7.5),
      f.numImages(),
    ],
    price: [0.0005, "image"],
    behavior: IMAGE(),
    status: "deprecated",
    date: "2023-01-01T00:00:00.000Z",
  }),
  // schema expansion fails
  model({
    id: "fal-ai/broken-schema",
    name: "Broken Schema",
    category: "text-to-image",
    description: "A model whose OpenAPI expansion fails on fal's side (schema generation error).",
    tags: ["test"],
    inputs: [f.prompt()],
    price: [0.01, "image"],
    behavior: IMAGE(),
    openapi: "expansion_failed",
  }),
  // namespaced app: root is the first three segments
  model({
    id: "workflows/alice/my-flow",
    name: "Alice's workflow",
    category: "text-to-image",
    description: "A user workflow chaining a prompt enhancer and a text-to-image model.",
    tags: ["workflow"],
    inputs: [f.prompt(), f.imageSize()],
    price: [0.05, "image"],
    behavior: IMAGE(),
  }),
  // test family
  model({
    id: "fake/instant",
    name: "Fake Instant",
    category: "text-to-image",
    description: "Test model: completes immediately with one image.",
    tags: ["test", "fake"],
    inputs: [f.prompt(), f.imageSize("square"), f.numImages(), f.seed(), ...optionalMediaUrls()],
    price: [0.01, "image"],
    behavior: behavior("image", 0, 0, ["Done"]),
  }),
  model({
    id: "fake/echo",
    name: "Fake Echo",
    category: "text-to-image",
    description: "Test model: returns its input verbatim as output, no media.",
    tags: ["test", "fake"],
    inputs: [{ name: "prompt", type: "string", description: "Any text." }, ...optionalMediaUrls()],
    price: [0.001, "requests"],
    behavior: behavior("echo", 0, 0, []),
  }),
  model({
    id: "fake/fails",
    name: "Fake Fails",
    category: "text-to-image",
    description: "Test model: every job completes with an error; the result is a 422 with detail[].",
    tags: ["test", "fake"],
    inputs: [f.prompt()],
    price: [0.01, "image"],
    behavior: {
      ...behavior("fail", 0, 0, ["Checking content"]),
      failure: {
        kind: "validation",
        detail: [
          {
            loc: ["body", "prompt"],
            msg: "The content could not be processed because it contained material flagged by a content checker.",
            type: "content_policy_violation",
            url: "https://docs.fal.ai/errors/#content_policy_violation",
          },
        ],
      },
    },
  }),
  model({
    id: "fake/slow-video",
    name: "Fake Slow Video",
    category: "text-to-video",
    description: "Test model: a 5-minute video job (queue 2 s, run 5 min on the fake clock).",
    tags: ["test", "fake", "video"],
    inputs: [f.prompt(), f.duration(["5", "10"], "5")],
    price: [0.1, "second"],
    typicalUnits: 5,
    behavior: VIDEO(),
    durationEstimate: 5,
  }),
  model({
    id: "fake/text",
    name: "Fake Text",
    category: "text-to-text",
    description: "Test model: returns {text}.",
    tags: ["test", "fake", "llm"],
    inputs: [f.prompt("The prompt.")],
    price: [0.0001, "requests"],
    behavior: behavior("text", 0, 0, []),
  }),
];

// ---------------------------------------------------------------- synthetic padding

const SYNTH_CATEGORIES: {
  category: string;
  output: OutputKind;
  unit: [number, string];
  inputs: () => FieldSpec[];
  slow: boolean;
}[] = [
  { category: "text-to-image", output: "image", unit: [0.02, "image"], inputs: T2I_FLUX, slow: false },
  {
    category: "image-to-image",
    output: "image",
    unit: [0.03, "megapixels"],
    inputs: () => [f.imageUrl(), f.prompt(), f.strength(), f.seed()],
    slow: false,
  },
  {
    category: "image-to-video",
    output: "video",
    unit: [0.1, "second"],
    inputs: () => [f.prompt(), f.imageUrl(), f.duration(["5", "10"], "5")],
    slow: true,
  },
  {
    category: "text-to-video",
    output: "video",
    unit: [0.2, "second"],
    inputs: () => [f.prompt(), f.aspectRatio(["16:9", "9:16", "1:1"], "16:9"), f.duration(["5", "10"], "5")],
    slow: true,
  },
  {
    category: "text-to-speech",
    output: "audio",
    unit: [0.05, "1000 characters"],
    inputs: () => [f.text()],
    slow: false,
  },
  {
    category: "speech-to-text",
    output: "text",
    unit: [0.001, "compute seconds"],
    inputs: () => [f.audioUrl()],
    slow: false,
  },
  {
    category: "text-to-audio",
    output: "audio",
    unit: [0.05, "audio"],
    inputs: () => [f.prompt()],
    slow: false,
  },
  {
    category: "image-to-3d",
    output: "mesh",
    unit: [0.1, "generations"],
    inputs: () => [f.imageUrl()],
    slow: false,
  },
  {
    category: "video-to-video",
    output: "video",
    unit: [0.1, "second"],
    inputs: () => [
      { name: "video_url", type: "string", required: true, description: "URL of the source video." },
      f.prompt(),
    ],
    slow: true,
  },
];
const SYNTH_FAMILIES = [
  "nova",
  "aurora",
  "lumen",
  "vertex",
  "prism",
  "zephyr",
  "cobalt",
  "ember",
  "halo",
  "quartz",
  "sable",
  "tidal",
  "orbit",
  "pixel",
  "canvas",
  "drift",
];
const SYNTH_ADJ = [
  "fast",
  "high quality",
  "photorealistic",
  "stylized",
  "cinematic",
  "open-weights",
  "efficient",
  "detailed",
];

/** The fixture catalog padded with synthetic but plausible models up to `n` entries (for benchmarks). */
export function generateCatalog(n: number): ModelSpec[] {
  const out = CATALOG.slice(0, Math.max(0, n));
  for (let i = 0; out.length < n; i++) {
    const c = SYNTH_CATEGORIES[i % SYNTH_CATEGORIES.length]!;
    const family = SYNTH_FAMILIES[Math.floor(i / SYNTH_CATEGORIES.length) % SYNTH_FAMILIES.length]!;
    const version = Math.floor(i / (SYNTH_CATEGORIES.length * SYNTH_FAMILIES.length)) + 1;
    const adj = SYNTH_ADJ[i % SYNTH_ADJ.length]!;
    const id = `fal-ai/${family}/v${version}/${c.category}`;
    const name = `${family[0]!.toUpperCase()}${family.slice(1)} v${version} ${c.category.replace(/-/g, " ")}`;
    out.push(
      model({
        id,
        name,
        category: c.category,
        description: `${name}: a ${adj} ${c.category.replace(/-/g, " ")} model from the ${family} family.`,
        tags: [family, adj, c.category.split("-to-")[1] ?? c.category],
        inputs: c.inputs(),
        price: [Math.round(c.unit[0] * (1 + (i % 5) / 10) * 10000) / 10000, c.unit[1]],
        behavior: c.slow ? VIDEO() : behavior(c.output, 100, 400),
        date: new Date(Date.UTC(2024, 0, 1) + (i % 700) * 86_400_000).toISOString(),
        status: i % 37 === 36 ? "deprecated" : "active",
      }),
    );
  }
  return out;
}
