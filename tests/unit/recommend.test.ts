import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../../src/fal/catalog.js";
import { inferCategory, rankModels, stem, taskKeywords } from "../../src/fal/recommend.js";
import { searchWords } from "../../src/tools/recommend-model.js";

describe("inferCategory", () => {
  const table: [string, string | undefined][] = [
    ["animate this photo", "image-to-video"],
    ["Animate my selfie so she waves", "image-to-video"],
    ["make a video of a cat", "text-to-video"],
    ["a cinematic clip of waves crashing on rocks", "text-to-video"],
    ["turn this picture into a short video", "image-to-video"],
    ["upscale this video to 4k", "video-to-video"],
    ["restyle my clip as anime", "video-to-video"],
    ["upscale this image", "image-to-image"],
    ["remove background from my product photo", "image-to-image"],
    ["edit this image so the sky is purple", "image-to-image"],
    ["transcribe this podcast episode", "speech-to-text"],
    ["read this aloud", "text-to-speech"],
    ["a voiceover for my ad", "text-to-speech"],
    ["compose background music for a game", "text-to-audio"],
    ["sound effect of a door creaking", "text-to-audio"],
    ["3D model from image of a chair", "image-to-3d"],
    ["a 3d mesh of a dragon", "text-to-3d"],
    ["train a LoRA on my face", "training"],
    ["fine-tune flux on my style", "training"],
    ["a logo for a coffee shop", "text-to-image"],
    ["picture of a red fox in snow", "text-to-image"],
    ["photo of a golden retriever", "text-to-image"],
    ["hello there", undefined],
    ["", undefined],
  ];
  it.each(table)("%j → %s", (task, expected) => {
    expect(inferCategory(task)?.category).toBe(expected);
  });

  it("reports the words that decided", () => {
    expect(inferCategory("Please animate this photo")?.matched).toBe("animate");
    expect(inferCategory("transcribe the meeting")?.matched).toBe("transcribe");
  });
});

describe("taskKeywords and stem", () => {
  it("drops stop words and duplicates", () => {
    expect(taskKeywords("Make a video of a cat, a CAT on the moon!")).toEqual(["video", "cat", "moon"]);
  });
  it("stems so animate meets animation and upscale meets upscaler", () => {
    expect("animation".includes(stem("animate"))).toBe(true);
    expect("upscaler".includes(stem("upscale"))).toBe(true);
    expect(stem("cats")).toBe("cat");
    expect(stem("go")).toBe("go");
  });
  it("searches with the distinctive words first", () => {
    expect(searchWords(["animate", "photo", "kling", "portrait"])).toEqual(["kling", "portrait"]);
    expect(searchWords(["video", "photo"])).toEqual(["video", "photo"]);
  });
});

function model(partial: Partial<CatalogModel> & { endpoint_id: string }): CatalogModel {
  return {
    display_name: partial.endpoint_id,
    category: "image-to-video",
    description: "",
    status: "active",
    tags: [],
    model_url: `https://fal.ai/models/${partial.endpoint_id}`,
    thumbnail_url: null,
    highlighted: false,
    pinned: false,
    date: "2025-01-01T00:00:00.000Z",
    updated_at: null,
    kind: "inference",
    has_metadata: true,
    ...partial,
  };
}

describe("rankModels", () => {
  const candidates = [
    model({ endpoint_id: "a/plain", date: "2024-01-01T00:00:00.000Z" }),
    model({
      endpoint_id: "b/animator",
      display_name: "Photo Animator",
      tags: ["animation"],
      description: "Animate a photo.",
    }),
    model({ endpoint_id: "c/star", highlighted: true, date: "2025-06-01T00:00:00.000Z" }),
    model({
      endpoint_id: "d/old",
      status: "deprecated",
      display_name: "Animate Photo Legacy",
      tags: ["animation"],
    }),
    model({ endpoint_id: "e/other", category: "text-to-image", display_name: "Photo maker" }),
  ];

  it("puts keyword matches and fal's highlights first, and drops deprecated models when others exist", () => {
    const ranked = rankModels(candidates, {
      keywords: ["animate", "photo"],
      category: "image-to-video",
      categoryNote: "inferred from 'animate'",
      limit: 10,
    });
    const ids = ranked.map((entry) => entry.model.endpoint_id);
    expect(ids[0]).toBe("b/animator");
    expect(ids).not.toContain("d/old");
    expect(ids.indexOf("c/star")).toBeLessThan(ids.indexOf("a/plain"));
    // In-category models beat an off-category one that matches only 'photo'.
    expect(ids.indexOf("e/other")).toBeGreaterThan(ids.indexOf("c/star"));
  });

  it("explains each pick in one line", () => {
    const ranked = rankModels(candidates, {
      keywords: ["animate", "photo"],
      category: "image-to-video",
      categoryNote: "inferred from 'animate'",
      limit: 3,
    });
    expect(ranked).toHaveLength(3);
    expect(ranked[0]?.reason).toBe("image-to-video (inferred from 'animate'), matches 'animate', 'photo'");
    const star = ranked.find((entry) => entry.model.endpoint_id === "c/star");
    expect(star?.reason).toContain("highlighted by fal");
    expect(star?.reason).toContain("recent (2025-06)");
    expect(ranked.every((entry) => !entry.reason.includes("\n"))).toBe(true);
  });

  it("deduplicates candidates that came from several searches", () => {
    const ranked = rankModels([...candidates, ...candidates], {
      keywords: [],
      category: undefined,
      categoryNote: undefined,
      limit: 20,
    });
    expect(ranked.map((entry) => entry.model.endpoint_id).sort()).toEqual([
      "a/plain",
      "b/animator",
      "c/star",
      "e/other",
    ]);
  });

  it("keeps deprecated models when nothing else is there, and says so", () => {
    const ranked = rankModels([candidates[3]!], {
      keywords: [],
      category: undefined,
      categoryNote: undefined,
      limit: 5,
    });
    expect(ranked[0]?.reason).toContain("deprecated");
  });
});

describe("rankModels ignores words that name the category", () => {
  it("does not let 'video' decide among text-to-video models", () => {
    const candidates = [
      model({
        endpoint_id: "x/video-maker",
        category: "text-to-video",
        display_name: "Video Maker",
        tags: ["video"],
        date: "2025-01-01T00:00:00.000Z",
      }),
      model({
        endpoint_id: "y/star",
        category: "text-to-video",
        display_name: "Star",
        highlighted: true,
        date: "2025-01-01T00:00:00.000Z",
      }),
    ];
    const ranked = rankModels(candidates, {
      keywords: ["video", "cat"],
      category: "text-to-video",
      categoryNote: undefined,
      limit: 2,
    });
    expect(ranked[0]?.model.endpoint_id).toBe("y/star");
    expect(ranked.every((entry) => !entry.reason.includes("matches 'video'"))).toBe(true);
  });
});
