/** Deciding which changes of an `update_config` command may be applied (protocol 7). */
import type { z } from "zod";
import {
  type AgentConfig,
  AgentConfigSchema,
  CONFIG_FIXES,
  CONFIG_KEYS,
} from "../config/schema.ts";
import {
  RegisterRequestSchema,
  REMOTELY_UPDATABLE_KEYS,
  type RemotelyUpdatableKey,
} from "../protocol/mod.ts";

/** What {@linkcode planConfigUpdate} decided. */
export interface ConfigUpdatePlan {
  /** Accepted keys with their `[old, new]` values. */
  applied: Record<string, [unknown, unknown]>;
  /** Refused keys with the reason. */
  rejected: Record<string, string>;
  /** `current` with the accepted changes; `current` itself is left untouched. */
  next: AgentConfig;
}

/**
 * Splits `changes` into what may be applied and what is refused. Only the keys of
 * protocol 7 (`REMOTELY_UPDATABLE_KEYS`) are accepted, each within the bounds of
 * `AgentConfigSchema`; `max_concurrency` also stays within the local
 * `max_concurrency_limit`. Values are never coerced (`"60"` is not `60`). Pure: reads
 * nothing, writes nothing.
 *
 * @example
 * ```ts
 * const plan = planConfigUpdate(config, { heartbeat_interval_seconds: 60, api_key: "x" });
 * plan.applied; // { heartbeat_interval_seconds: [30, 60] }
 * plan.rejected; // { api_key: "not remotely updatable (protocol section 7) …" }
 * ```
 */
export function planConfigUpdate(
  current: AgentConfig,
  changes: Record<string, unknown>,
): ConfigUpdatePlan {
  const applied: Record<string, [unknown, unknown]> = {};
  const rejected: Record<string, string> = {};
  const next: AgentConfig = structuredClone(current);
  for (const [key, value] of Object.entries(changes)) {
    const problem = describeProblem(current, key, value);
    if (problem !== undefined) {
      rejected[key] = problem;
      continue;
    }
    const updatable = key as RemotelyUpdatableKey;
    applied[key] = [structuredClone(current[updatable]), structuredClone(value)];
    (next as Record<RemotelyUpdatableKey, unknown>)[updatable] = structuredClone(value);
  }
  return { applied, rejected, next };
}

/** Extra bounds for keys that travel in the register request too. */
const WIRE_SCHEMAS: Partial<Record<RemotelyUpdatableKey, z.ZodType>> = {
  capabilities: RegisterRequestSchema.shape.capabilities.unwrap(),
};

function describeProblem(current: AgentConfig, key: string, value: unknown): string | undefined {
  if (!isUpdatable(key)) {
    return CONFIG_KEYS.includes(key) || key.startsWith("trading.")
      ? "not remotely updatable (protocol section 7); change it in the local config file"
      : "not a config key";
  }
  if (value === undefined || value === null) return `a value is required; ${CONFIG_FIXES[key]}`;
  for (const schema of [AgentConfigSchema.shape[key], WIRE_SCHEMAS[key]]) {
    if (schema === undefined) continue;
    const checked = schema.safeParse(value);
    if (!checked.success) {
      const message = checked.error.issues[0]?.message.replace(/^Invalid input: /, "") ??
        "invalid";
      return `${message}; ${CONFIG_FIXES[key]}`;
    }
  }
  if (key === "max_concurrency" && (value as number) > current.max_concurrency_limit) {
    return `above the local max_concurrency_limit (${current.max_concurrency_limit})`;
  }
  return undefined;
}

function isUpdatable(key: string): key is RemotelyUpdatableKey {
  return (REMOTELY_UPDATABLE_KEYS as readonly string[]).includes(key);
}
