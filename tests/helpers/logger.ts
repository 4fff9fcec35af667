import { Logger, type LogLevel } from "../../src/util/log.js";

/** A logger writing to the test's stderr, as the entry point's does. */
export function stderrLogger(level: LogLevel = "info"): Logger {
  return new Logger({ level, sink: (line) => process.stderr.write(line + "\n") });
}

/** A logger that collects its lines into `lines`. */
export function captureLogger(lines: string[], level: LogLevel = "info"): Logger {
  return new Logger({ level, sink: (line) => lines.push(line) });
}
