/**
 * The one definition of the flags release binaries are compiled with. The compile tasks
 * (`src/build/main.ts`), `worker-agent permissions --compiled` and the end-to-end test that
 * runs the agent from source under the compiled binary's flags all read them from here.
 *
 * A compiled binary's permissions are fixed when it is built, and paths, hosts and the
 * trading program differ per machine, so `--allow-net/read/write/run` stay whole there. What
 * is known at build time is scoped: the exact environment variables and `--allow-sys` names,
 * no `--allow-ffi` or `--allow-import`, and `--no-prompt` so a missing permission fails
 * instead of asking. At start, `run` then drops what the loaded config does not need
 * (`src/permissions/revoke_permissions.ts`).
 *
 * @module
 */
import { collectorPermissions } from "../collector/permissions.ts";
import {
  AGENT_ENV_VARS,
  AGENT_SYS_CALLS,
  agentRuntimeFlags,
  SERVICE_SYS_CALLS,
} from "../permissions/permission_flags.ts";
import type { ReleaseTarget } from "./targets.ts";

/** Runtime flags that are not permissions, for every compiled binary. */
export function compileRuntimeFlags(): string[] {
  return ["--no-prompt"];
}

/**
 * The permission flags of the agent binary for `os`: whole net/read/write/run, the exact
 * environment variables and `--allow-sys` names every subcommand reads, nothing else.
 */
export function agentCompilePermissionFlags(os: ReleaseTarget["os"]): string[] {
  const collector = collectorPermissions(os);
  const env = unique([...AGENT_ENV_VARS, ...collector.env]);
  const sys = unique([...AGENT_SYS_CALLS, ...collector.sys, ...(SERVICE_SYS_CALLS[os] ?? [])]);
  return [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    `--allow-env=${env.join(",")}`,
    `--allow-sys=${sys.join(",")}`,
  ];
}

/** The release OS for a `Deno.build.os` value (other Unixes get the Linux flag set). */
export function compileOs(os: typeof Deno.build.os): ReleaseTarget["os"] {
  return os === "darwin" || os === "windows" ? os : "linux";
}

/**
 * Every flag the agent binary for `os` is compiled with, permissions first, then the agent's
 * V8 flags (`agentRuntimeFlags`, issue 17), so `deno run`, the service units and the binary
 * agree. The control plane, a server, keeps V8's defaults.
 */
export function agentCompileFlags(os: ReleaseTarget["os"]): string[] {
  return [...agentCompilePermissionFlags(os), ...compileRuntimeFlags(), ...agentRuntimeFlags()];
}

/**
 * The control plane's flags. It binds a configurable address, stores its database in a
 * configurable data dir and reads its storage settings from the environment, so its
 * categories stay whole; it never runs programs and never loads native code.
 */
export function controlPlaneCompileFlags(): string[] {
  return [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    ...compileRuntimeFlags(),
  ];
}

/**
 * The agent is compiled from one `deno bundle` output of `main.ts` (built by the step
 * {@linkcode agentBundleArgs} gives, before the compile steps) rather than from its 140
 * modules: issue 17 measured about 5 MiB less RSS for an idle agent run from the bundle
 * (docs/benchmarks.md). The path is under `dist/`, which the release files never list.
 */
export const AGENT_BUNDLE = "dist/.bundle/worker-agent.js";

/** The `deno bundle` arguments (after `deno`) that write the agent's bundle to `output`. */
export function agentBundleArgs(output: string = AGENT_BUNDLE): string[] {
  return ["bundle", "--platform", "deno", "--output", output, "main.ts"];
}

/** What `deno compile` builds. */
export type CompileProgram = "agent" | "control-plane";

/** Options of {@linkcode compileArgs}. */
export interface CompileArgsOptions {
  /** Output directory. @default {"dist"} */
  outDir?: string;
  /** Output file name (without directory). */
  fileName: string;
}

/** The `deno compile` arguments (after `deno`) that build `program` for `target`. */
export function compileArgs(
  program: CompileProgram,
  target: ReleaseTarget,
  options: CompileArgsOptions,
): string[] {
  const flags = program === "agent" ? agentCompileFlags(target.os) : controlPlaneCompileFlags();
  const entry = program === "agent" ? AGENT_BUNDLE : "src/control_plane/main.ts";
  return [
    "compile",
    ...flags,
    "--target",
    target.triple,
    "--output",
    `${options.outDir ?? "dist"}/${options.fileName}`,
    entry,
  ];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
