import type { CatalogModel } from "./catalog.js";

/**
 * Model recommendation: a category inferred from the task's words (keyword rules in the spirit
 * of fal's CLI, genmedia-cli `src/lib/modality.ts`), then catalog models ranked by how well their
 * name, tags and description match the task, fal's own highlights, and recency.
 */

/** fal's model categories (GET /v1/models `category`). */
export const CATEGORIES = [
  "text-to-image",
  "image-to-image",
  "text-to-video",
  "image-to-video",
  "video-to-video",
  "text-to-audio",
  "audio-to-audio",
  "text-to-speech",
  "speech-to-text",
  "image-to-3d",
  "text-to-3d",
  "training",
] as const;

export type Category = (typeof CATEGORIES)[number];

export interface CategoryInference {
  category: Category;
  /** The words of the task that decided it, for the reason line. */
  matched: string;
}

// An existing picture the task refers to ("this photo", "my selfie", "from an image").
const EXISTING_IMAGE =
  /\b(?:this|that|these|my|our|an? existing|uploaded|attached|given|input|source|from (?:an?|my|this|the|a))\s+(?:\w+\s+)?(?:image|images|photo|photos|picture|pictures|pic|pics|selfie|portrait|still|drawing|screenshot|logo|png|jpe?g)\b|\bimage[- ]to[- ]|\bfrom (?:an? )?(?:image|photo|picture)\b/;
const EXISTING_VIDEO =
  /\b(?:this|that|my|our|the|your|an? existing|uploaded|attached|given|input|source)\s+(?:\w+\s+)?(?:video|clip|footage|movie)\b|\bvideo[- ]to[- ]video\b/;
const IMAGE_WORD =
  /\b(?:image|images|photo|photos|picture|pictures|pic|selfie|portrait|still|drawing|screenshot)\b/;

interface Rule {
  category: Category | ((task: string) => Category);
  pattern: RegExp;
}

// First match wins: the more specific intents come first.
const RULES: Rule[] = [
  {
    category: "training",
    pattern:
      /\b(?:train(?:ing)?\s+(?:an?\s+|my\s+|own\s+)?(?:lora|model|style)|fine[- ]?tun\w*|dreambooth|lora training|train a lora)\b/,
  },
  {
    category: "speech-to-text",
    pattern:
      /\b(?:transcrib\w*|transcription|speech[- ]to[- ]text|stt|subtitles?\s+(?:for|from)|dictation|diariz\w*|what (?:is|was) said)\b/,
  },
  {
    category: "text-to-speech",
    pattern:
      /\b(?:read (?:this|it|that|the \w+)?\s*(?:aloud|out loud|out)|aloud|out loud|voice[- ]?over|narrat\w*|text[- ]to[- ]speech|tts|speak|say (?:this|it)|spoken|audiobook)\b/,
  },
  {
    category: (task) =>
      IMAGE_WORD.test(task) || /\bfrom (?:a|an|my|this)\b/.test(task) ? "image-to-3d" : "text-to-3d",
    pattern: /\b(?:3d|3-d|mesh|glb|obj model|three[- ]dimensional)\b/,
  },
  {
    category: "text-to-audio",
    pattern:
      /\b(?:music|song|songs|soundtrack|sound effects?|sfx|jingle|beat|melody|ambient sound|audio clip|foley)\b/,
  },
  {
    category: "audio-to-audio",
    pattern:
      /\b(?:denois\w*|remove (?:the )?noise|voice (?:changer|conversion|clone|cloning)|change (?:the|my) voice|separate (?:the )?(?:vocals|stems)|stem separation)\b/,
  },
  {
    category: "video-to-video",
    pattern:
      /\b(?:upscale|restyle|edit|enhance|extend|retime|interpolate|lip ?sync)\s+(?:this|that|my|the|a)\s+(?:\w+\s+)?(?:video|clip|footage)\b|\bvideo[- ]to[- ]video\b/,
  },
  {
    category: (task) =>
      EXISTING_VIDEO.test(task)
        ? "video-to-video"
        : EXISTING_IMAGE.test(task) || /\banimat\w*\b/.test(task)
          ? "image-to-video"
          : "text-to-video",
    pattern: /\b(?:video|videos|animat\w*|clip|movie|film|footage|motion|cinematic shot|gif)\b/,
  },
  {
    category: "image-to-image",
    pattern:
      /\b(?:upscal\w*|super[- ]?resolution|remove (?:the )?background|background remov\w*|cut ?out|inpaint\w*|outpaint\w*|retouch\w*|restyle|style transfer|colori[sz]\w*|relight\w*|face ?swap|image[- ]to[- ]image|edit (?:this|that|my|the|an?)\b|enhance (?:this|that|my|the)|variations? of (?:this|my))/,
  },
  { category: "image-to-image", pattern: EXISTING_IMAGE },
  {
    category: "text-to-image",
    pattern:
      /\b(?:image|images|picture|pictures|logo|photo|photos|illustration|poster|drawing|painting|icon|portrait|wallpaper|artwork|render|sticker|avatar|sketch|banner|thumbnail|text[- ]to[- ]image)\b/,
  },
];

/** The category a task most likely needs, or undefined when nothing in it hints at one. */
export function inferCategory(task: string): CategoryInference | undefined {
  const text = task.toLowerCase();
  for (const rule of RULES) {
    const match = rule.pattern.exec(text);
    if (!match) continue;
    const category = typeof rule.category === "function" ? rule.category(text) : rule.category;
    return { category, matched: match[0].trim() };
  }
  return undefined;
}

const TASK_STOP_WORDS = new Set(
  (
    "a an and are as at be by can could do does for from how i in is it its of on or the to with my me we our you your " +
    "this that these those into onto make makes making create creating generate generating get want need please some " +
    "model models using use good best high quality new one out up like would should will just very really about"
  ).split(" "),
);

/** Content words of a task, lower-cased, without stop words and duplicates. */
export function taskKeywords(task: string): string[] {
  return [
    ...new Set(
      task
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((word) => word.length > 1 && !TASK_STOP_WORDS.has(word)),
    ),
  ];
}

/** A crude stem so "animate" meets "animation" and "upscale" meets "upscaler". */
export function stem(word: string): string {
  const cut = word.replace(/(?:ations?|ings?|ers?|ed|es|s|e)$/, "");
  return cut.length >= 3 ? cut : word;
}

export interface RankedModel {
  model: CatalogModel;
  score: number;
  reason: string;
}

export interface RankOptions {
  keywords: readonly string[];
  category: string | undefined;
  /** How the category was chosen, for the reason line. */
  categoryNote: string | undefined;
  limit: number;
}

/** Ranks candidates (deduplicated by id, in fal's listing order) for a task. */
export function rankModels(candidates: readonly CatalogModel[], options: RankOptions): RankedModel[] {
  const unique = new Map<string, CatalogModel>();
  for (const model of candidates) if (!unique.has(model.endpoint_id)) unique.set(model.endpoint_id, model);
  let models = [...unique.values()];
  const active = models.filter((model) => model.status !== "deprecated");
  if (active.length > 0) models = active;

  // Recency as a rank among the candidates: the newest gets the full bonus.
  const dated = models.filter((model) => model.date && !Number.isNaN(Date.parse(model.date)));
  dated.sort((a, b) => Date.parse(b.date ?? "") - Date.parse(a.date ?? ""));
  const recencyRank = new Map(
    dated.map((model, index) => [model.endpoint_id, dated.length > 1 ? 1 - index / (dated.length - 1) : 1]),
  );
  // Words naming the category itself ("video" for text-to-video) match every candidate: no signal.
  const categoryWords = new Set(options.category?.split("-") ?? []);
  const stems = options.keywords
    .filter((word) => !categoryWords.has(word) && !categoryWords.has(stem(word)))
    .map((word) => ({ word, stem: stem(word) }));

  const ranked = models.map((model, index) => {
    const name = model.display_name.toLowerCase();
    const id = model.endpoint_id.toLowerCase();
    const tags = model.tags.join(" ").toLowerCase();
    const description = model.description.toLowerCase();
    let score = 0;
    const matched: string[] = [];
    for (const { word, stem: root } of stems) {
      let hit = 0;
      if (name.includes(root)) hit += 3;
      if (id.includes(root)) hit += 2;
      if (tags.includes(root)) hit += 2;
      if (description.includes(root)) hit += 1;
      if (hit > 0) matched.push(word);
      score += hit;
    }
    const inCategory = options.category !== undefined && model.category === options.category;
    if (inCategory) score += 4;
    if (model.highlighted) score += 3;
    if (model.pinned) score += 2;
    const recency = recencyRank.get(model.endpoint_id) ?? 0;
    score += recency * 1.5;
    // fal's own listing order carries its popularity signal: a small tie-breaker.
    score += models.length > 1 ? 1 - index / models.length : 1;
    if (model.status === "deprecated") score -= 10;
    if (model.kind === "training" && options.category !== "training") score -= 3;

    const reasons: string[] = [];
    if (model.category)
      reasons.push(
        inCategory && options.categoryNote ? `${model.category} (${options.categoryNote})` : model.category,
      );
    if (matched.length > 0)
      reasons.push(
        `matches ${matched
          .slice(0, 4)
          .map((word) => `'${word}'`)
          .join(", ")}`,
      );
    if (model.highlighted) reasons.push("highlighted by fal");
    if (model.pinned) reasons.push("pinned by fal");
    if (recency >= 0.75 && model.date) reasons.push(`recent (${model.date.slice(0, 7)})`);
    if (model.status === "deprecated") reasons.push("deprecated");
    return { model, score: Math.round(score * 100) / 100, reason: reasons.join(", ") || "listed by fal" };
  });
  ranked.sort((a, b) => b.score - a.score);
  return ranked.slice(0, options.limit);
}
