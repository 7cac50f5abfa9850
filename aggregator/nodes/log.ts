// Structured logs of a daemon (pino): one JSON line per event on standard output, human-readable
// when that is a terminal (pino-pretty). Every round step logs its round, federation and duration;
// written synchronously, so the last lines before an exit are never lost.
import { pino, type Logger } from "pino";
import PinoPretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  name: string;
  level: string;
  /** Default: when standard output is a terminal. */
  pretty?: boolean;
  /** Fields on every line (role, federation, account). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const settings = {
    name: options.name,
    level: options.level,
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pretty
    ? pino(settings, PinoPretty({ colorize: true, sync: true, destination: 1 }))
    : pino(settings, pino.destination({ dest: 1, sync: true }));
}

/** Milliseconds since `start` (performance.now()), rounded for logs. */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
