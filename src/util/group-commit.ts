/**
 * Group commit: wraps `sync` (an fsync, say) so that every caller waits for a run that STARTED after
 * it called, which therefore covers whatever the caller did before; callers that arrive while a run
 * is in flight share the next one. `sync` must not reject.
 */
export function groupCommit(sync: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const current = sync().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  };
  return () => {
    if (!running) return start();
    next ??= running.then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
}
