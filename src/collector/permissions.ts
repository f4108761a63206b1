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

/**
 * What the collector needs on `os`.
 *
 * Linux and macOS need read access to "/" because `statfs` of each mount point requires
 * read access to it, and Deno grants a path only with everything beneath it; `/proc` stays
 * closed to Deno under these flags and is read by the `sh` helper instead.
 *
 * @example
 * ```ts
 * const p = collectorPermissions(Deno.build.os);
 * const flags = Object.entries(p).filter(([, v]) => v.length).map(([k, v]) => `--allow-${k}=${v.join(",")}`);
 * ```
 */
export function collectorPermissions(os: typeof Deno.build.os): CollectorPermissions {
  switch (os) {
    case "windows":
      return { run: ["powershell", "nvidia-smi"], read: [], sys: ["cpus"], env: [] };
    case "darwin":
      return { run: ["sh"], read: ["/"], sys: ["cpus", "loadavg", "statfs"], env: [] };
    default:
      return {
        run: ["sh", "nvidia-smi"],
        read: ["/"],
        sys: ["cpus", "systemMemoryInfo", "loadavg", "statfs"],
        env: [],
      };
  }
}

/** The permissions as Deno command-line flags (`--allow-run=sh,nvidia-smi`, …). */
export function collectorPermissionFlags(os: typeof Deno.build.os): string[] {
  return Object.entries(collectorPermissions(os))
    .filter(([, values]) => values.length > 0)
    .map(([kind, values]) => `--allow-${kind}=${values.join(",")}`);
}
