import { describe, expect, it } from "vitest";
import { groupCommit } from "../../src/util/group-commit.js";

/** A sync whose runs finish when the test says so; records when each run started. */
function controlledSync() {
  const runs: { startedAt: number; finish(): void }[] = [];
  let clock = 0;
  const sync = () =>
    new Promise<void>((resolve) => {
      runs.push({ startedAt: clock, finish: resolve });
    });
  return { runs, sync, tick: () => ++clock, now: () => clock };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("groupCommit", () => {
  it("runs at once when idle, and every caller waits for a run that started after it called", async () => {
    const { runs, sync, tick, now } = controlledSync();
    const commit = groupCommit(sync);
    const done: string[] = [];
    const calledAt = new Map<string, number>();
    const call = (name: string) => {
      tick();
      calledAt.set(name, now());
      return commit().then(() => done.push(name));
    };
    const a = call("a");
    expect(runs).toHaveLength(1);
    // b and c arrive while a's run is in flight: they must not ride on it (it began before them).
    const b = call("b");
    const c = call("c");
    await settle();
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await a;
    await settle();
    expect(done).toEqual(["a"]);
    expect(runs).toHaveLength(2); // one shared run for b and c
    expect(runs[1]!.startedAt).toBeGreaterThanOrEqual(calledAt.get("c")!);
    const d = call("d"); // arrives during the shared run: waits for a third
    runs[1]!.finish();
    await Promise.all([b, c]);
    await settle();
    expect(done).toEqual(["a", "b", "c"]);
    expect(runs).toHaveLength(3);
    expect(runs[2]!.startedAt).toBeGreaterThanOrEqual(calledAt.get("d")!);
    runs[2]!.finish();
    await d;
    expect(done).toEqual(["a", "b", "c", "d"]);
    // Idle again: the next caller starts its own run at once.
    void call("e");
    expect(runs).toHaveLength(4);
    runs[3]!.finish();
  });
});
