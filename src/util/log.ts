/**
 * The one logger. stdout belongs to the MCP protocol, so every line goes to stderr.
 * Secrets registered with `redactSecret` are masked in every line, whatever logged them.
 */
export type LogLevel = "debug" | "info" | "warning" | "error";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };
const secrets = new Set<string>();
let threshold: LogLevel = "info";
let sink: (line: string) => void = (line) => process.stderr.write(line + "\n");

/** Masks `value` (an API key, a key secret) in everything this module writes. */
export function redactSecret(value: string | undefined): void {
  // Very short strings would mask ordinary words; real keys are long.
  if (value && value.length >= 6) secrets.add(value);
}

/** Replaces every registered secret in `text` by `<redacted>`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("<redacted>");
  return out;
}

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** For tests: capture log lines instead of writing them to stderr. Returns the previous sink. */
export function setLogSink(next: (line: string) => void): (line: string) => void {
  const previous = sink;
  sink = next;
  return previous;
}

function write(level: LogLevel, message: string, details?: unknown): void {
  if (LEVEL_RANK[level] < LEVEL_RANK[threshold]) return;
  let line = `[fal-mcp] ${level}: ${message}`;
  if (details !== undefined) {
    line += " " + (details instanceof Error ? details.message : safeStringify(details));
  }
  sink(redact(line));
}

function safeStringify(value: unknown): string {
  try {
    return typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export const log = {
  debug: (message: string, details?: unknown) => write("debug", message, details),
  info: (message: string, details?: unknown) => write("info", message, details),
  warn: (message: string, details?: unknown) => write("warning", message, details),
  error: (message: string, details?: unknown) => write("error", message, details),
};

/**
 * Routes console.log/info/debug to stderr. Called first thing by the entry point so that a
 * dependency printing to the console can never corrupt the protocol stream.
 */
export function guardStdout(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(
      redact(args.map((a) => (typeof a === "string" ? a : safeStringify(a))).join(" ")) + "\n",
    );
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}
