/**
 * External tools the installer tests need. A missing tool fails the test with the Debian
 * package that brings it (`.ci/run` installs them): these checks are never skipped quietly.
 */

/** Debian package of each tool. */
const PACKAGES: Record<string, string> = {
  makensis: "nsis",
  "7zz": "7zip",
  "7z": "7zip",
  osslsigncode: "osslsigncode",
  lintian: "lintian",
  shellcheck: "shellcheck",
  "dpkg-deb": "dpkg",
  dpkg: "dpkg",
  gcc: "gcc",
  openssl: "openssl",
  "systemd-analyze": "systemd",
  make: "make",
  tar: "tar",
};

/** The path of the first of `names` on PATH, or undefined. */
export function findTool(...names: string[]): string | undefined {
  for (const name of names) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      try {
        const path = `${dir}/${name}`;
        if (Deno.statSync(path).isFile) return path;
      } catch { /* not here */ }
    }
  }
  return undefined;
}

/** Like {@linkcode findTool}, but throws a clear error naming the package when none is found. */
export function requireTool(...names: string[]): string {
  const found = findTool(...names);
  if (found) return found;
  const packages = [...new Set(names.map((n) => PACKAGES[n] ?? n))].join(" or ");
  throw new Error(
    `${names.join(" / ")} is not installed: apt-get install ${packages} (bash .ci/run installs it)`,
  );
}

/** What one command produced. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `program args…` and captures its output. */
export async function runTool(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<ToolResult> {
  const child = new Deno.Command(program, {
    args,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The repository root. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;
