/**
 * The agent's logger: levels, text or JSON lines, to stderr or a size-rotated file.
 * Every line, message and field value passes through `redactSecrets` before it is written,
 * so an API key or bearer token never reaches a log, whatever the caller hands in.
 *
 * @module
 */
import { redactSecrets } from "../protocol/api_key.ts";
import { RotatingFile } from "./rotating_file.ts";

/** Log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
/** Line formats. */
export type LogFormat = "text" | "json";

/** Structured logger handed to every part of the agent. */
export interface Logger {
  /** Logs at `debug`. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at `info`. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at `warn`. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at `error`. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line and shares this one's level and output. */
  child(fields: Record<string, unknown>): Logger;
  /** Changes the level of this logger and every child (used by `update_config`). */
  setLevel(level: LogLevel): void;
  /** The current level. */
  readonly level: LogLevel;
}

/** Options of {@linkcode createLogger}. */
export interface CreateLoggerOptions {
  /** Lowest level written. @default {"info"} */
  level?: LogLevel;
  /** Line format. @default {"text"} */
  format?: LogFormat;
  /** Append to this file (rotated by size) instead of stderr; "" means stderr. */
  file?: string;
  /** Rotate the file when it would grow past this many bytes. @default {10485760} */
  maxBytes?: number;
  /** Rotated files kept (`log.1` … `log.N`). @default {5} */
  maxFiles?: number;
  /** Where each finished line (with its newline) goes; overrides `file` and stderr. */
  write?: (line: string) => void;
  /** Clock for timestamps. @default {Date.now} */
  now?: () => number;
}

/** Default size of one log file before it is rotated: 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Default number of rotated log files kept. */
export const DEFAULT_LOG_MAX_FILES = 5;

/** Whether `value` is one of {@linkcode LOG_LEVELS}. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: "debug", format: "json" });
 * logger.child({ component: "heartbeat" }).info("sent", { status: 200 });
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const shared: SharedState = {
    level: options.level ?? "info",
    format: options.format ?? "text",
    now: options.now ?? Date.now,
    write: options.write ?? outputFor(options),
  };
  return new LoggerImpl(shared, {});
}

interface SharedState {
  level: LogLevel;
  format: LogFormat;
  now: () => number;
  write: (line: string) => void;
}

function outputFor(options: CreateLoggerOptions): (line: string) => void {
  const encoder = new TextEncoder();
  const toStderr = (line: string) => {
    try {
      Deno.stderr.writeSync(encoder.encode(line));
    } catch {
      // stderr closed: nothing sensible left to do with a log line.
    }
  };
  if (options.file) {
    const file = new RotatingFile(options.file, {
      maxBytes: options.maxBytes ?? DEFAULT_LOG_MAX_BYTES,
      maxFiles: options.maxFiles ?? DEFAULT_LOG_MAX_FILES,
    });
    let failing = false;
    // A log line never throws into the caller (a full disk must not stop a loop): while the
    // file cannot be written, lines go to stderr, with one note when that starts.
    return (line) => {
      try {
        file.write(line);
        failing = false;
      } catch (error) {
        file.close();
        if (!failing) {
          failing = true;
          toStderr(
            redactSecrets(
              `log file ${options.file} cannot be written (${String(error)}); logging to stderr\n`,
            ),
          );
        }
        toStderr(line);
      }
    };
  }
  return toStderr;
}

class LoggerImpl implements Logger {
  #shared: SharedState;
  #fields: Record<string, unknown>;

  constructor(shared: SharedState, fields: Record<string, unknown>) {
    this.#shared = shared;
    this.#fields = fields;
  }

  get level(): LogLevel {
    return this.#shared.level;
  }

  setLevel(level: LogLevel): void {
    if (!isLogLevel(level)) throw new RangeError(`Unknown log level: ${String(level)}`);
    this.#shared.level = level;
  }

  child(fields: Record<string, unknown>): Logger {
    return new LoggerImpl(this.#shared, { ...this.#fields, ...fields });
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.#shared.level)) return;
    const all = { ...this.#fields, ...fields };
    const line = formatLine(this.#shared.format, this.#shared.now(), level, msg, all);
    this.#shared.write(redactSecrets(line) + "\n");
  }
}

/** Formats one log line (without the newline and before redaction). */
export function formatLine(
  format: LogFormat,
  now: number,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown>,
): string {
  const ts = new Date(now).toISOString();
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) plain[key] = plainValue(value);
  if (format === "json") {
    return safeStringify({ ts, level, msg, ...plain });
  }
  let line = `${ts} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [key, value] of Object.entries(plain)) {
    line += ` ${key}=${textValue(value)}`;
  }
  return line;
}

function plainValue(value: unknown): unknown {
  if (value instanceof Error) {
    const cause = value.cause === undefined ? "" : ` (cause: ${String(plainValue(value.cause))})`;
    return `${value.name}: ${value.message}${cause}`;
  }
  return value;
}

function textValue(value: unknown): string {
  if (typeof value === "string") {
    return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  }
  if (value === undefined) return "undefined";
  return safeStringify(value);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)) ??
      String(value);
  } catch {
    return String(value);
  }
}
