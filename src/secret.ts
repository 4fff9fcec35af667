import { inspect } from "node:util";

/**
 * Holds the fal key. Every way an object is usually turned into text (String(), JSON,
 * util.inspect, template literals) yields `<redacted>`; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return "<redacted>";
  }

  toJSON(): string {
    return "<redacted>";
  }

  [inspect.custom](): string {
    return "Secret(<redacted>)";
  }
}
