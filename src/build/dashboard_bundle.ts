/**
 * Bundles the dashboard (`src/control_plane/dashboard/app/main.ts` and what it imports: the
 * page's TypeScript modules, uPlot and the style sheets) for the browser with
 * `deno bundle --platform browser --minify`, into `src/control_plane/dashboard/bundle/`
 * (`app.js`, `app.css`). The output is checked in, so the control plane (and a compiled
 * binary) serves it without a build step at startup; a test fails when it is stale.
 *
 * ```
 * deno task build:dashboard            # writes the bundle
 * deno run -A src/build/dashboard_bundle.ts --check   # exit 1 when the checked-in one is stale
 * ```
 *
 * @module
 */
import { join } from "node:path";

/** The repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;
/** The bundle's entry point, relative to the root. */
export const DASHBOARD_ENTRY = "src/control_plane/dashboard/app/main.ts";
/** Where the checked-in bundle lives, relative to the root. */
export const DASHBOARD_BUNDLE_DIR = "src/control_plane/dashboard/bundle";
/** The files of a bundle. */
export const BUNDLE_FILES = ["app.js", "app.css"] as const;

/** The `deno bundle` arguments (after `deno`) that write the bundle into `outDir`. */
export function bundleArgs(outDir: string): string[] {
  return [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--minify",
    "--frozen",
    "--output",
    join(outDir, "app.js"),
    DASHBOARD_ENTRY,
  ];
}

/** Options of {@linkcode bundleDashboard}. */
export interface BundleOptions {
  /** Directory to write `app.js` and `app.css` into. @default {the checked-in bundle dir} */
  outDir?: string;
  /** The deno binary. @default {Deno.execPath()} */
  deno?: string;
}

/** Runs the bundler; returns the files written with their sizes in bytes. */
export async function bundleDashboard(
  options: BundleOptions = {},
): Promise<Record<string, number>> {
  const outDir = options.outDir ?? join(ROOT, DASHBOARD_BUNDLE_DIR);
  await Deno.mkdir(outDir, { recursive: true });
  const out = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args: bundleArgs(outDir),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`deno bundle failed (exit ${out.code}):\n${text}`);
  }
  const sizes: Record<string, number> = {};
  for (const file of BUNDLE_FILES) sizes[file] = (await Deno.stat(join(outDir, file))).size;
  return sizes;
}

/** Files of the checked-in bundle that differ from a fresh build (empty: up to date). */
export async function staleBundleFiles(): Promise<string[]> {
  const fresh = await Deno.makeTempDir({ prefix: "ftl-dashboard-bundle-" });
  try {
    await bundleDashboard({ outDir: fresh });
    const stale: string[] = [];
    for (const file of BUNDLE_FILES) {
      const [a, b] = await Promise.all([
        Deno.readFile(join(fresh, file)),
        Deno.readFile(join(ROOT, DASHBOARD_BUNDLE_DIR, file)).catch(() => new Uint8Array()),
      ]);
      if (a.length !== b.length || a.some((byte, i) => byte !== b[i])) stale.push(file);
    }
    return stale;
  } finally {
    await Deno.remove(fresh, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--check")) {
    const stale = await staleBundleFiles();
    if (stale.length > 0) {
      console.error(
        `stale: ${stale.join(", ")} in ${DASHBOARD_BUNDLE_DIR}; run deno task build:dashboard`,
      );
      Deno.exitCode = 1;
    } else console.log("the dashboard bundle is up to date");
  } else {
    const sizes = await bundleDashboard();
    for (const [file, size] of Object.entries(sizes)) {
      console.log(`${DASHBOARD_BUNDLE_DIR}/${file}  ${(size / 1024).toFixed(1)} KiB`);
    }
  }
}
