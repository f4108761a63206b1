/**
 * One `.tar.gz` per agent binary in a release folder: `worker-agent-<version>-<target>.tar.gz`
 * holding `worker-agent-<version>-<target>/` with the binary (named `worker-agent` or
 * `worker-agent.exe`), README.md, INSTALL.md and config.example.yaml. File times, owners and
 * order are fixed, so the same inputs give the same archive.
 *
 * @module
 */
import { RELEASE_TARGETS } from "./targets.ts";

/** Options of {@linkcode writeArchives}. */
export interface WriteArchivesOptions {
  /** The release version. */
  version: string;
  /** The repository root (README.md, docs/, configs/). */
  repoRoot: string;
  /** File time of every entry, Unix seconds. @default {0} */
  mtime?: number;
}

/** A binary name in dist/: `worker-agent-<target>[-unsigned][.exe]`. */
const BINARY = /^worker-agent-([a-z0-9]+-[a-z0-9]+)(-unsigned)?(\.exe)?$/;

/** Writes the archives next to the binaries in `dir`; returns the archive names. */
export async function writeArchives(dir: string, options: WriteArchivesOptions): Promise<string[]> {
  const written: string[] = [];
  const names = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  for (const name of names.sort()) {
    const match = BINARY.exec(name);
    if (!match || !RELEASE_TARGETS.some((t) => t.name === match[1])) continue;
    const [, target, unsigned = "", exe = ""] = match;
    const top = `worker-agent-${options.version}-${target}${unsigned}`;
    const staging = await Deno.makeTempDir({ prefix: "ftl-archive-" });
    try {
      await Deno.mkdir(`${staging}/${top}`);
      await Deno.copyFile(`${dir}/${name}`, `${staging}/${top}/worker-agent${exe}`);
      await Deno.chmod(`${staging}/${top}/worker-agent${exe}`, 0o755);
      await Deno.copyFile(`${options.repoRoot}/README.md`, `${staging}/${top}/README.md`);
      await Deno.copyFile(`${options.repoRoot}/docs/install.md`, `${staging}/${top}/INSTALL.md`);
      await Deno.copyFile(
        `${options.repoRoot}/configs/config.example.yaml`,
        `${staging}/${top}/config.example.yaml`,
      );
      const archive = `${top}.tar.gz`;
      await tarGz(staging, top, `${dir}/${archive}`, options.mtime ?? 0);
      written.push(archive);
    } finally {
      await Deno.remove(staging, { recursive: true });
    }
  }
  return written;
}

/** GNU tar with its reproducibility flags, through `gzip -n` (no name or time in the header). */
async function tarGz(cwd: string, top: string, out: string, mtime: number): Promise<void> {
  const output = await new Deno.Command("tar", {
    args: [
      "--sort=name",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      `--mtime=@${mtime}`,
      "--use-compress-program=gzip -9n",
      "-cf",
      out,
      top,
    ],
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`tar failed for ${out}: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
}
