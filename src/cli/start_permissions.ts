/**
 * The permission step of `run`: check that this process holds what the config needs to
 * start, then revoke what the running agent will not need (`src/platform/`).
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { runningPermissionNeeds, startPermissionNeeds } from "../permissions/permission_needs.ts";
import { type RevokeReport, revokeUnneededPermissions } from "../permissions/revoke_permissions.ts";
import { UsageError } from "../shared/usage_error.ts";

/** Options of {@linkcode narrowPermissionsForRun}. */
export interface NarrowPermissionsOptions {
  /** The OS. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** The permissions API. @default {Deno.permissions} */
  permissions?: Pick<Deno.Permissions, "querySync" | "revokeSync">;
}

/**
 * Throws a `UsageError` (exit 2, so a service manager does not restart it in a loop) when
 * this process lacks the network, read or write access `config` needs, naming what is
 * missing; this is how a service installed from a source checkout notices that `base_url`
 * or a path changed since its unit was written. Then revokes what the running agent does not
 * need and returns what was revoked.
 */
export function narrowPermissionsForRun(
  config: AgentConfig,
  configPath: string,
  options: NarrowPermissionsOptions = {},
): RevokeReport {
  const permissions = options.permissions ?? Deno.permissions;
  const os = options.os ?? Deno.build.os;
  const start = startPermissionNeeds(config, configPath, { os });
  const missing: string[] = [];
  for (const host of start.net) {
    if (permissions.querySync({ name: "net", host }).state !== "granted") {
      missing.push(`net ${host}`);
    }
  }
  for (const kind of ["read", "write"] as const) {
    for (const path of start[kind]) {
      if (permissions.querySync({ name: kind, path }).state !== "granted") {
        missing.push(`${kind} ${path}`);
      }
    }
  }
  if (missing.length > 0) {
    throw new UsageError(
      `this config needs ${missing.join(", ")}, which this process was not granted. ` +
        "Run it with the flags `worker-agent permissions` prints for this config; for a service " +
        "installed from a source checkout, run `deno task agent service install` again, since " +
        "its unit holds the flags of the config it was installed with",
    );
  }
  return revokeUnneededPermissions(runningPermissionNeeds(config, configPath, { os }), {
    candidates: { run: start.run, write: start.write },
    permissions,
  });
}
