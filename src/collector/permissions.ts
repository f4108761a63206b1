/**
 * The Deno permissions the collector needs, so the agent can run with scoped flags.
 *
 * @module
 */

/** Permission lists, one entry per `--allow-<kind>=a,b` value. */
export interface CollectorPermissions {
  /** Programs spawned (the helper, `nvidia-smi`). */
  run: string[];
  /** Paths read. */
  read: string[];
  /** `--allow-sys` names. */
  sys: string[];
  /** Environment variables read. */
  env: string[];
}

/** Options of {@linkcode collectorPermissions}. */
export interface CollectorPermissionOptions {
  /**
   * The collector's `diskPath` (the agent passes its state dir, which its own flags already
   * let it read). Linux and macOS read it for `statfs`; leave it out where the caller grants
   * it anyway. A `diskPath` of `/` would grant every file, so the agent never passes it.
   */
  diskPath?: string;
}

/**
 * What the collector needs on `os`.
 *
 * Read access is limited to `diskPath`: Deno's `statfs` needs read access to the path it is
 * given (and Deno grants a path with everything beneath it), so Deno stats only the volume of
 * `diskPath`. The per-mount `disks` list, `/proc` on Linux, and the macOS tools all come from
 * the long-lived `sh` helper, which Deno's read permissions do not cover; `/proc` stays closed
 * to Deno under these flags.
 *
 * @example
 * ```ts
 * const p = collectorPermissions(Deno.build.os, { diskPath: "/var/lib/worker-agent" });
 * const flags = Object.entries(p).filter(([, v]) => v.length).map(([k, v]) => `--allow-${k}=${v.join(",")}`);
 * ```
 */
export function collectorPermissions(
  os: typeof Deno.build.os,
  options: CollectorPermissionOptions = {},
): CollectorPermissions {
  const read = options.diskPath !== undefined && options.diskPath !== "" ? [options.diskPath] : [];
  switch (os) {
    case "windows":
      // The system drive's figures come from the PowerShell helper: no statfs in Deno.
      return { run: ["powershell", "nvidia-smi"], read: [], sys: ["cpus"], env: [] };
    case "darwin":
      return { run: ["sh"], read, sys: ["cpus", "loadavg", "statfs"], env: [] };
    default:
      return {
        run: ["sh", "nvidia-smi"],
        read,
        sys: ["cpus", "systemMemoryInfo", "loadavg", "statfs"],
        env: [],
      };
  }
}

/** The permissions as Deno command-line flags (`--allow-run=sh,nvidia-smi`, …). */
export function collectorPermissionFlags(
  os: typeof Deno.build.os,
  options: CollectorPermissionOptions = {},
): string[] {
  return Object.entries(collectorPermissions(os, options))
    .filter(([, values]) => values.length > 0)
    .map(([kind, values]) => `--allow-${kind}=${values.join(",")}`);
}
