/**
 * The agent's configuration: every key of interfaces.md section 2 with its default and
 * bounds, and for each key the one-line fix shown when a value is wrong.
 *
 * @module
 */
import { z } from "zod";
import { COMMAND_TYPES } from "../protocol/command_types.ts";
import {
  HEARTBEAT_INTERVAL_BOUNDS,
  METRICS_INTERVAL_BOUNDS,
  SIGNATURE_ALGS,
} from "../protocol/constants.ts";
import { isApiKey } from "../protocol/api_key.ts";
import { fromBase64 } from "../protocol/encoding.ts";
import { isLoopbackHost } from "../protocol/loopback.ts";
import { LOG_LEVELS } from "../log/logger.ts";
import { VERSION } from "../version.ts";

/** Default control plane. */
export const DEFAULT_BASE_URL = "https://app.finetunelab.ai";
/** Bounds of `max_concurrency_limit`. */
export const MAX_CONCURRENCY_LIMIT_BOUNDS = { min: 1, max: 64 } as const;
/** Bounds of `state_max_mb` (and of its deprecated alias `spool_max_mb`). */
export const STATE_MAX_MB_BOUNDS = { min: 1, max: 4096 } as const;
/** Bounds of `trading.stop_timeout_seconds`. */
export const STOP_TIMEOUT_BOUNDS = { min: 1, max: 600 } as const;

/**
 * Checks a control plane URL: http(s), no query or fragment, `https` unless the host is a
 * loopback address. Returns the problem, or `undefined` when it is fine.
 */
export function describeBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `scheme ${url.protocol.slice(0, -1)} is not http or https`;
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return "plain http is allowed only for loopback hosts (127.0.0.1, localhost, ::1)";
  }
  if (url.search || url.hash) return "a query or fragment is not allowed";
  if (url.username || url.password) return "credentials in the URL are not allowed";
  return undefined;
}

/**
 * The mistake of a `base_url` that ends in `/api` (the agent adds `/api/workers/…` itself,
 * so every call would answer 404), with the URL to use instead; `undefined` when it does
 * not end so.
 */
export function describeBaseUrlApiSuffix(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (!/\/api$/i.test(path)) return undefined;
  return `base_url ends in /api, but the agent adds /api/workers/… itself: set base_url to ${url.origin}${
    path.slice(0, -4)
  }`;
}

/** `base_url` without trailing slashes. */
export function normalizeBaseUrl(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function isEd25519PublicKey(value: string): boolean {
  try {
    return fromBase64(value).length === 32;
  } catch {
    return false;
  }
}

const intIn = (bounds: { min: number; max: number }) =>
  z.number().int().min(bounds.min).max(bounds.max);

/** The `trading` section. */
export const TradingConfigSchema = z.object({
  command: z.array(z.string().min(1)).default([]),
  working_dir: z.string().default(""),
  env: z.record(z.string(), z.string()).default({}),
  stop_timeout_seconds: intIn(STOP_TIMEOUT_BOUNDS).default(10),
  restart_on_crash: z.boolean().default(false),
});
/** The `trading` section, defaults filled in. */
export type TradingConfig = z.infer<typeof TradingConfigSchema>;

/**
 * Every config key with its default and bounds. `hostname` and `state_dir` default to ""
 * here; `loadConfig` fills in the system hostname and the OS default state dir.
 */
export const AgentConfigSchema = z.object({
  api_key: z.string().refine(isApiKey, { message: "not a worker API key" }),
  base_url: z.string().default(DEFAULT_BASE_URL).check((ctx) => {
    const problem = describeBaseUrlProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }).transform(normalizeBaseUrl),
  hostname: z.string().default(""),
  version: z.string().default(VERSION),
  heartbeat_interval_seconds: intIn(HEARTBEAT_INTERVAL_BOUNDS).default(30),
  metrics_interval_seconds: intIn(METRICS_INTERVAL_BOUNDS).default(10),
  max_concurrency: z.number().int().min(1).default(1),
  max_concurrency_limit: intIn(MAX_CONCURRENCY_LIMIT_BOUNDS).default(4),
  capabilities: z.array(z.string().min(1)).default(["metrics", "trading"]),
  allowed_commands: z.array(z.enum(COMMAND_TYPES)).default([...COMMAND_TYPES]),
  command_signature: z.enum(SIGNATURE_ALGS).default("hmac-sha256"),
  server_public_key: z.string().default("").refine((v) => v === "" || isEd25519PublicKey(v), {
    message: "not base64 of a 32-byte Ed25519 public key",
  }),
  log_level: z.enum(LOG_LEVELS).default("info"),
  log_file: z.string().default(""),
  log_format: z.enum(["text", "json"]).default("text"),
  state_dir: z.string().default(""),
  state_max_mb: intIn(STATE_MAX_MB_BOUNDS).default(64),
  /** Deprecated alias of `state_max_mb` (it bounded the spool alone); `loadConfig` maps it. */
  spool_max_mb: intIn(STATE_MAX_MB_BOUNDS).optional(),
  ca_file: z.string().default(""),
  proxy: z.string().default("").refine((v) => v === "" || isProxyUrl(v), {
    message: "not an http:// or https:// proxy URL",
  }),
  trading_enabled: z.boolean().default(false),
  trading: TradingConfigSchema.prefault({}),
}).check((ctx) => {
  const c = ctx.value;
  if (c.max_concurrency > c.max_concurrency_limit) {
    ctx.issues.push({
      code: "custom",
      path: ["max_concurrency"],
      message: `above max_concurrency_limit (${c.max_concurrency_limit})`,
      input: c.max_concurrency,
    });
  }
  if (c.command_signature === "ed25519" && c.server_public_key === "") {
    ctx.issues.push({
      code: "custom",
      path: ["server_public_key"],
      message: "required when command_signature is ed25519",
      input: c.server_public_key,
    });
  }
});
/** The agent's configuration, every key filled in. */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

function isProxyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Top-level keys of the config file. */
export const CONFIG_KEYS: readonly string[] = Object.keys(AgentConfigSchema.shape);
/** Keys of the `trading` section. */
export const TRADING_KEYS: readonly string[] = Object.keys(TradingConfigSchema.shape);

/** What to do when a key's value is wrong, by dotted key. */
export const CONFIG_FIXES: Readonly<Record<string, string>> = {
  api_key:
    "set api_key to the worker key from the FineTuneLab dashboard (Workers > API keys): wak_ followed by 32 letters and digits",
  base_url:
    "use https://host[:port] (http:// only for 127.0.0.1, localhost or ::1), e.g. https://app.finetunelab.ai",
  hostname: "use a text value, or leave hostname empty for the system hostname",
  version: "remove the version key; the binary reports its own version",
  heartbeat_interval_seconds:
    `use a whole number of seconds from ${HEARTBEAT_INTERVAL_BOUNDS.min} to ${HEARTBEAT_INTERVAL_BOUNDS.max}`,
  metrics_interval_seconds:
    `use a whole number of seconds from ${METRICS_INTERVAL_BOUNDS.min} to ${METRICS_INTERVAL_BOUNDS.max}`,
  max_concurrency: "use a whole number from 1 up to max_concurrency_limit",
  max_concurrency_limit:
    `use a whole number from ${MAX_CONCURRENCY_LIMIT_BOUNDS.min} to ${MAX_CONCURRENCY_LIMIT_BOUNDS.max}`,
  capabilities: "use a list of names, e.g. [metrics, trading]",
  allowed_commands: `use a list of command types from: ${COMMAND_TYPES.join(", ")}`,
  command_signature: `use one of: ${SIGNATURE_ALGS.join(", ")}`,
  server_public_key:
    "set server_public_key to the base64 of the server's raw 32-byte Ed25519 public key",
  log_level: `use one of: ${LOG_LEVELS.join(", ")}`,
  log_file: 'use a file path, or "" to log to stderr',
  log_format: "use text or json",
  state_dir: "use a directory path the agent can write, or leave it empty for the OS default",
  state_max_mb:
    `use a whole number of MiB from ${STATE_MAX_MB_BOUNDS.min} to ${STATE_MAX_MB_BOUNDS.max}`,
  spool_max_mb:
    `rename it to state_max_mb, a whole number of MiB from ${STATE_MAX_MB_BOUNDS.min} to ${STATE_MAX_MB_BOUNDS.max}`,
  ca_file: 'point ca_file at a readable PEM file, or set it to ""',
  proxy:
    'use a URL such as http://proxy.example:3128, or "" to use HTTPS_PROXY from the environment',
  trading_enabled: "use true or false",
  trading:
    "make trading a mapping with keys: command, working_dir, env, stop_timeout_seconds, restart_on_crash",
  "trading.command": 'use a list: the program and its arguments, e.g. ["python3", "bot.py"]',
  "trading.working_dir": "use a directory path, or leave it empty",
  "trading.env": "use a mapping of NAME: value strings",
  "trading.stop_timeout_seconds":
    `use a whole number of seconds from ${STOP_TIMEOUT_BOUNDS.min} to ${STOP_TIMEOUT_BOUNDS.max}`,
  "trading.restart_on_crash": "use true or false",
};
