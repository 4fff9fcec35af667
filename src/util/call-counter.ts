/**
 * The tool calls a server is running. The job store asks it before each record write: with one
 * call in flight (or none) nothing else waits on the process, so the write may block the thread
 * for its half millisecond instead of taking thread-pool round trips (see JobStore).
 */
export class CallCounter {
  #running = 0;

  /** Counts one call until the returned function is called; calling it again does nothing. */
  enter(): () => void {
    this.#running += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#running -= 1;
    };
  }

  get running(): number {
    return this.#running;
  }
}
