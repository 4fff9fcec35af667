import pLimit from "p-limit";

/**
 * Runs `task` for every item with at most `concurrency` running at once; results keep the
 * items' order. The one concurrency limiter (p-limit), for downloads and upload parts alike.
 */
export function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(Math.max(1, concurrency));
  return Promise.all(items.map((item, index) => limit(() => task(item, index))));
}
