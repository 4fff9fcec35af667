/**
 * Submit-and-record sections in flight. Between sending a submit and writing its record, a paid
 * job exists that only this process knows about; shutdown (stdin closed, a signal) must not lose
 * it. Each section is registered before the submit is sent and ended once the record is written
 * (or the submit is known not to have been sent). Shutdown waits, bounded, for the open sections;
 * for any still open when time runs out, the caller writes an unconfirmed record synchronously,
 * from what the section knows (the request id, if fal answered in time).
 */

export interface SectionFacts {
  endpointId: string;
  tool: string;
  input: unknown;
  uploads?: readonly { path: string; url: string; size: number; content_type: string }[] | undefined;
  /** The estimate made before the submit (the daily cap counts it). */
  estimate?: { usd: number | null; basis: string } | undefined;
  /** When the submit started. */
  submittedAt?: Date | undefined;
  /** Set once fal answered the submit. */
  requestId?: string | undefined;
  /** True once the POST may have reached fal (it was handed to the network). */
  sent: boolean;
}

export interface Section {
  readonly facts: SectionFacts;
  /** The POST is being sent: from here on the job may exist. */
  markSent(): void;
  /** fal answered with a request id. */
  setRequestId(requestId: string): void;
  /** The record is written, or nothing was sent: shutdown need not wait for this section. */
  end(): void;
}

export class InFlightSubmits {
  readonly #open = new Set<Section>();
  readonly #waiters = new Set<() => void>();

  begin(facts: Omit<SectionFacts, "sent">): Section {
    const state: SectionFacts = { ...facts, sent: false };
    const section: Section = {
      facts: state,
      markSent: () => {
        state.sent = true;
      },
      setRequestId: (requestId) => {
        state.requestId = requestId;
      },
      end: () => {
        if (!this.#open.delete(section)) return;
        if (this.#open.size === 0) for (const wake of this.#waiters) wake();
      },
    };
    this.#open.add(section);
    return section;
  }

  /** The open sections whose submit may have been sent: what shutdown must record if it cannot wait. */
  pendingSent(): SectionFacts[] {
    return [...this.#open].map((section) => section.facts).filter((facts) => facts.sent);
  }

  /** How many sections are open. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Waits until every open section has ended, or `timeoutMs` passed. Returns the sections still
   * open whose submit may have been sent (those need an unconfirmed record).
   */
  async drain(timeoutMs: number): Promise<SectionFacts[]> {
    if (this.#open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
      this.#waiters.clear();
    }
    return this.pendingSent();
  }
}
