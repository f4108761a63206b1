/**
 * Drops, at the start of `run`, the permissions the loaded config does not need any more.
 *
 * Deno can revoke a whole category, or one name from a category granted as a list; it
 * cannot turn a whole grant into a list. So categories nothing uses (`ffi`, `import`) are
 * revoked whole, and from categories granted as lists (the compiled binary's `--allow-env`
 * and `--allow-sys`, the scoped `deno run` flags) every name the running agent does not use
 * is revoked. A category granted whole (`--allow-net` of the compiled binary) stays whole and
 * is reported as such.
 *
 * @module
 */
import { AGENT_ENV_VARS } from "./permission_flags.ts";
import {
  PERMISSION_CATEGORIES,
  type PermissionCategory,
  permissionDescriptor,
  type PermissionNeeds,
} from "./permission_needs.ts";

/** Every `--allow-sys` name Deno knows (Deno 2.9). */
export const DENO_SYS_NAMES: readonly SysName[] = [
  "hostname",
  "osRelease",
  "osUptime",
  "loadavg",
  "networkInterfaces",
  "systemMemoryInfo",
  "uid",
  "gid",
  "cpus",
  "homedir",
  "statfs",
  "getPriority",
  "setPriority",
  "username",
  "ca",
  "umask",
];
/** One `--allow-sys` name. */
export type SysName = NonNullable<Deno.SysPermissionDescriptor["kind"]>;

/** What {@linkcode revokeUnneededPermissions} did. */
export interface RevokeReport {
  /** Categories revoked whole. */
  categories: PermissionCategory[];
  /** Names revoked from categories granted as lists, per category. */
  names: Partial<Record<PermissionCategory, string[]>>;
  /** Categories granted whole that the agent needs only part of; Deno cannot narrow them. */
  keptWhole: PermissionCategory[];
}

/** Options of {@linkcode planRevocation} and {@linkcode revokeUnneededPermissions}. */
export interface RevokeOptions {
  /**
   * Names that may have been granted as lists, per category; each one granted and not
   * needed is revoked. @default {env: the agent's variables, sys: every Deno sys name}
   */
  candidates?: Partial<PermissionNeeds>;
  /** The permissions API. @default {Deno.permissions} */
  permissions?: Pick<Deno.Permissions, "querySync" | "revokeSync">;
}

const revokedAtStart: { categories: Set<string>; names: Set<string> } = {
  categories: new Set(),
  names: new Set(),
};

/**
 * What {@linkcode revokeUnneededPermissions} would revoke against the current grants, given
 * `needs` (the running agent's needs, `runningPermissionNeeds`); revokes nothing. A category
 * with no needs at all is revoked whole.
 */
export function planRevocation(
  needs: PermissionNeeds,
  options: Omit<RevokeOptions, "permissions"> & {
    permissions?: Pick<Deno.Permissions, "querySync">;
  } = {},
): RevokeReport {
  const permissions = options.permissions ?? Deno.permissions;
  const candidates: Partial<PermissionNeeds> = {
    env: [...AGENT_ENV_VARS],
    sys: [...DENO_SYS_NAMES],
    ...options.candidates,
  };
  const report: RevokeReport = { categories: [], names: {}, keptWhole: [] };
  for (const category of PERMISSION_CATEGORIES) {
    const needed = needs[category];
    if (needed.length === 0) {
      report.categories.push(category);
      continue;
    }
    if (
      permissions.querySync({ name: category } as Deno.PermissionDescriptor).state === "granted"
    ) {
      report.keptWhole.push(category);
      continue;
    }
    for (const name of new Set(candidates[category] ?? [])) {
      if (needed.includes(name)) continue;
      const descriptor = permissionDescriptor(category, name);
      if (descriptor === undefined) continue;
      if (permissions.querySync(descriptor).state !== "granted") continue;
      (report.names[category] ??= []).push(name);
    }
  }
  return report;
}

/** Revokes what {@linkcode planRevocation} finds and returns that report. */
export function revokeUnneededPermissions(
  needs: PermissionNeeds,
  options: RevokeOptions = {},
): RevokeReport {
  const permissions = options.permissions ?? Deno.permissions;
  const report = planRevocation(needs, options);
  for (const category of report.categories) {
    permissions.revokeSync({ name: category } as Deno.PermissionDescriptor);
    revokedAtStart.categories.add(category);
  }
  for (
    const [category, names] of Object.entries(report.names) as [PermissionCategory, string[]][]
  ) {
    for (const name of names) {
      permissions.revokeSync(permissionDescriptor(category, name)!);
      revokedAtStart.names.add(`${category}:${name}`);
    }
  }
  return report;
}

/**
 * One line for the log and for `doctor`: `ffi, import: whole; env: A, B, … (20 names); sys:
 * hostname; kept whole (granted whole): net, read, write, run`.
 */
export function describeRevokeReport(report: RevokeReport): string {
  const parts = [];
  if (report.categories.length) parts.push(`${report.categories.join(", ")}: whole`);
  for (const [category, names] of Object.entries(report.names)) {
    const shown = names.length > 6
      ? `${names.slice(0, 4).join(", ")}, … (${names.length} names)`
      : names.join(", ");
    parts.push(`${category}: ${shown}`);
  }
  if (report.keptWhole.length) {
    parts.push(`kept whole (granted whole): ${report.keptWhole.join(", ")}`);
  }
  return parts.join("; ");
}

/**
 * For a `NotCapable` message (`Requires env access to "X", …`): a note saying that the
 * agent revoked that permission at start, or undefined when it did not.
 */
export function revokedAtStartNote(message: string): string | undefined {
  const match = /Requires (\w+) access(?: to "([^"]*)")?/.exec(message);
  if (!match) return undefined;
  const category = match[1]!;
  const name = match[2];
  const revoked = revokedAtStart.categories.has(category) ||
    (name !== undefined && revokedAtStart.names.has(`${category}:${name}`));
  if (!revoked) return undefined;
  return `the agent revoked this ${category} permission at start because the loaded config ` +
    "does not need it once running (`worker-agent doctor` lists what stays)";
}
