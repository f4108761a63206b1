/**
 * What `doctor` reports about Deno permissions: per category, what this process holds (all,
 * some names, none), whether that covers what the config needs to start, and what `run`
 * would then revoke (`src/permissions/revoke_permissions.ts`).
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import {
  PERMISSION_CATEGORIES,
  type PermissionCategory,
  permissionDescriptor,
  type PermissionNeeds,
  runningPermissionNeeds,
  startPermissionNeeds,
} from "../permissions/permission_needs.ts";
import {
  DENO_SYS_NAMES,
  describeRevokeReport,
  planRevocation,
} from "../permissions/revoke_permissions.ts";
import { AGENT_ENV_VARS } from "../permissions/permission_flags.ts";
import type { CheckResult } from "./check_result.ts";

/** What this process holds in one category. */
export interface EffectivePermission {
  /** The category. */
  category: PermissionCategory;
  /** Granted whole, for some names, or not at all. */
  scope: "all" | "some" | "none";
  /** The names granted, where `scope` is `some` (of those the agent knows about). */
  granted: string[];
  /** Names the config needs to start that are not granted. */
  missing: string[];
}

/** Options of {@linkcode effectivePermissions}. */
export interface EffectivePermissionOptions {
  /** The permissions API. @default {Deno.permissions} */
  permissions?: Pick<Deno.Permissions, "querySync">;
}

/** Queries every category against `needs` (what the config needs to start). */
export function effectivePermissions(
  needs: PermissionNeeds,
  options: EffectivePermissionOptions = {},
): EffectivePermission[] {
  const permissions = options.permissions ?? Deno.permissions;
  const known: Partial<PermissionNeeds> = { env: [...AGENT_ENV_VARS], sys: [...DENO_SYS_NAMES] };
  return PERMISSION_CATEGORIES.map((category) => {
    if (
      permissions.querySync({ name: category } as Deno.PermissionDescriptor).state === "granted"
    ) {
      return { category, scope: "all", granted: [], missing: [] };
    }
    const names = [...new Set([...needs[category], ...(known[category] ?? [])])];
    const granted = names.filter((name) => {
      const descriptor = permissionDescriptor(category, name);
      return descriptor !== undefined && permissions.querySync(descriptor).state === "granted";
    });
    return {
      category,
      scope: granted.length > 0 ? "some" : "none",
      granted,
      missing: needs[category].filter((name) => !granted.includes(name)),
    };
  });
}

/**
 * The doctor lines: one per category, then what `run` revokes at start. A missing net, read
 * or write grant fails (the agent refuses to start); other missing names are warnings.
 */
export function permissionChecks(config: AgentConfig, configPath: string): CheckResult[] {
  const start = startPermissionNeeds(config, configPath);
  const results: CheckResult[] = effectivePermissions(start).map((p) => {
    const held = p.scope === "all"
      ? "all"
      : p.scope === "none"
      ? "none"
      : p.granted.length > 8
      ? `${p.granted.length} names (${p.granted.slice(0, 4).join(", ")}, …)`
      : p.granted.join(", ");
    const name = `permission ${p.category}`;
    if (p.missing.length === 0) return { name, ok: true, detail: held };
    const blocking = ["net", "read", "write"].includes(p.category);
    return {
      name,
      ok: blocking ? false : true,
      ...(blocking ? {} : { warning: true }),
      detail: `${held}; lacks ${p.missing.join(", ")}`,
      hint: "run with the flags `worker-agent permissions` prints; for a service installed " +
        "from a source checkout, run `deno task agent service install` again",
    };
  });
  // What `run` would revoke, worked out against these grants without revoking anything.
  const report = planRevocation(runningPermissionNeeds(config, configPath), {
    candidates: { run: start.run, write: start.write },
  });
  results.push({
    name: "permissions after start",
    ok: true,
    detail: `\`run\` revokes ${describeRevokeReport(report) || "nothing"}`,
  });
  return results;
}
