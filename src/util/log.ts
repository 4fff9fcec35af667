import { liveRedactor, type Redactor } from "./redact-deep.js";
/**
 * The logger. stdout belongs to the MCP protocol, so the entry point hands every logger a sink
 * that writes to stderr. Secrets registered with `redactSecret` are masked in every line, whatever
 * logged them. Each server gets its own instance (created by the entry point, passed down with
 * the services): two servers in one process share neither redaction state nor level.
 */
export type LogLevel = "debug" | "info" | "warning" | "error";

/** Where finished (redacted) lines go, one line per call, without a trailing newline. */
export type LogSink = (line: string) => void;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export interface LoggerOptions {
  sink: LogSink;
  /** Lines below this level are dropped (FAL_MCP_LOG_LEVEL); default info. */
  level?: LogLevel | undefined;
}

export class Logger {
  readonly #secrets = new Set<string>();
  #threshold: LogLevel;
  #sink: LogSink;

  constructor(options: LoggerOptions) {
    this.#sink = options.sink;
    this.#threshold = options.level ?? "info";
  }

  /** A logger that drops everything (for code used without a server, e.g. a test's job store). */
  static silent(): Logger {
    return new Logger({ sink: () => undefined, level: "error" });
  }

  /** Masks `value` (an API key, a key secret) in everything this logger writes. */
  redactSecret(value: string | undefined): void {
    // Very short strings would mask ordinary words; real keys are long.
    if (value && value.length >= 6) this.#secrets.add(value);
  }

  /** The redactor of this logger's secrets (every form: encoded, halves), following later registrations. */
  readonly redactor: Redactor = liveRedactor(() => [...this.#secrets]);

  /** Replaces every form of every registered secret in `text` by `<redacted>`. */
  redact(text: string): string {
    return this.redactor.text(text);
  }

  /** A logger with the same sink, level and secrets, plus its own (e.g. one HTTP caller's key). */
  child(): Logger {
    const child = new Logger({ sink: this.#sink, level: this.#threshold });
    for (const secret of this.#secrets) child.redactSecret(secret);
    return child;
  }

  setLevel(level: LogLevel): void {
    this.#threshold = level;
  }

  /** Writes `text` as it is (redacted, no prefix, no level check): for console output routed here. */
  raw(text: string): void {
    this.#sink(this.redact(text));
  }

  debug(message: string, details?: unknown): void {
    this.#write("debug", message, details);
  }
  info(message: string, details?: unknown): void {
    this.#write("info", message, details);
  }
  warn(message: string, details?: unknown): void {
    this.#write("warning", message, details);
  }
  error(message: string, details?: unknown): void {
    this.#write("error", message, details);
  }

  #write(level: LogLevel, message: string, details?: unknown): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.#threshold]) return;
    let line = `[fal-mcp] ${level}: ${message}`;
    if (details !== undefined) {
      line += " " + (details instanceof Error ? details.message : safeStringify(details));
    }
    this.#sink(this.redact(line));
  }
}

function safeStringify(value: unknown): string {
  try {
    return typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Routes console.log/info/debug to `logger` (stderr). Called first thing by the entry point so
 * that a dependency printing to the console can never corrupt the protocol stream.
 */
export function guardStdout(logger: Logger): void {
  const toStderr = (...args: unknown[]) =>
    logger.raw(args.map((a) => (typeof a === "string" ? a : safeStringify(a))).join(" "));
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}
