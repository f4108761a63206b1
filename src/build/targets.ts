/**
 * The release targets: one self-contained binary per OS and CPU, built with `deno compile`.
 * The Makefile, the deno tasks, the packaging scripts and the release workflow all take
 * their names from this table.
 *
 * @module
 */

/** One release target. */
export interface ReleaseTarget {
  /** Short name used in file names and task names, e.g. `linux-x64`. */
  name: string;
  /** The `deno compile --target` triple. */
  triple: string;
  /** The OS the binary runs on. */
  os: "linux" | "darwin" | "windows";
  /** CPU, as in the file names. */
  arch: "x64" | "arm64";
  /** Debian architecture (Linux targets only). */
  debArch?: "amd64" | "arm64";
}

/** Every target a release ships, in release order. */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  {
    name: "linux-x64",
    triple: "x86_64-unknown-linux-gnu",
    os: "linux",
    arch: "x64",
    debArch: "amd64",
  },
  {
    name: "linux-arm64",
    triple: "aarch64-unknown-linux-gnu",
    os: "linux",
    arch: "arm64",
    debArch: "arm64",
  },
  { name: "darwin-x64", triple: "x86_64-apple-darwin", os: "darwin", arch: "x64" },
  { name: "darwin-arm64", triple: "aarch64-apple-darwin", os: "darwin", arch: "arm64" },
  { name: "windows-x64", triple: "x86_64-pc-windows-msvc", os: "windows", arch: "x64" },
];

/** Target groups as the Makefile names them (`make build-macos`). */
export const TARGET_GROUPS: Readonly<Record<string, readonly string[]>> = {
  all: RELEASE_TARGETS.map((t) => t.name),
  linux: ["linux-x64", "linux-arm64"],
  macos: ["darwin-x64", "darwin-arm64"],
  windows: ["windows-x64"],
};

/** The target with this name; throws a `RangeError` naming the valid ones otherwise. */
export function releaseTarget(name: string): ReleaseTarget {
  const target = RELEASE_TARGETS.find((t) => t.name === name);
  if (target === undefined) {
    throw new RangeError(
      `unknown target '${name}'; the targets are ${RELEASE_TARGETS.map((t) => t.name).join(", ")}`,
    );
  }
  return target;
}

/** The target this machine runs, for `make build`. */
export function hostTarget(
  build: { os: string; arch: string } = Deno.build,
): ReleaseTarget {
  const arch = build.arch === "aarch64" ? "arm64" : build.arch === "x86_64" ? "x64" : build.arch;
  return releaseTarget(`${build.os}-${arch}`);
}

/** File name of the agent binary for `target` (`worker-agent-linux-x64`, `….exe`). */
export function agentFileName(target: ReleaseTarget): string {
  return `worker-agent-${target.name}${target.os === "windows" ? ".exe" : ""}`;
}

/** File name of the compiled control plane for `target` (Linux targets ship one). */
export function controlPlaneFileName(target: ReleaseTarget): string {
  return `ftl-control-plane-${target.name}`;
}

/** Targets that ship a compiled control plane. */
export const CONTROL_PLANE_TARGETS: readonly string[] = TARGET_GROUPS.linux!;
