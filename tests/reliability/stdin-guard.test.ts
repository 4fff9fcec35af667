import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { setLogSink } from "../../src/log.js";
import { LineLengthGuard } from "../../src/mcp/stdin-guard.js";

async function through(
  chunks: string[],
  max: number,
): Promise<{ out: string; dropped: number; warnings: string[] }> {
  const warnings: string[] = [];
  const previous = setLogSink((line) => warnings.push(line));
  try {
    const guard = new LineLengthGuard(max);
    const parts: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      Readable.from(chunks.map((chunk) => Buffer.from(chunk)))
        .pipe(guard)
        .on("data", (chunk: Buffer) => parts.push(chunk))
        .on("end", resolve)
        .on("error", reject);
    });
    return { out: Buffer.concat(parts).toString(), dropped: guard.dropped, warnings };
  } finally {
    setLogSink(previous);
  }
}

describe("LineLengthGuard", () => {
  it("passes lines through unchanged, even split across chunks", async () => {
    const result = await through(['{"a":', '1}\n{"b"', ":2}\n", '{"c":3}\n'], 100);
    expect(result.out).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(result.dropped).toBe(0);
  });

  it("drops an oversized line, split or not, and keeps the lines around it", async () => {
    const long = "x".repeat(250);
    const result = await through(
      ["ok1\n" + long.slice(0, 120), long.slice(120) + "\nok2\n", "y".repeat(101) + "\nok3\n"],
      100,
    );
    expect(result.out).toBe("ok1\nok2\nok3\n");
    expect(result.dropped).toBe(2);
    expect(result.warnings.filter((line) => line.includes("dropped an incoming message"))).toHaveLength(2);
  });

  it("keeps a last line without a newline", async () => {
    expect((await through(["a\nb"], 10)).out).toBe("a\nb");
  });
});
