/**
 * The build and packaging steps behind `make build*`, `make installers` and the release
 * workflow (`deno task build`, `build:all`, `build:linux`, …). One command line:
 *
 * ```
 * deno run -A src/build/main.ts compile [--dry-run] SPEC…   # host | all | linux | macos | windows
 *                                                           # | <target> | control-plane[:<target>]
 * deno run -A src/build/main.ts archives                    # a .tar.gz per agent binary in dist/
 * deno run -A src/build/main.ts installers [--dry-run] [--only linux,windows,darwin]
 * deno run -A src/build/main.ts checksums                   # dist/SHA256SUMS
 * deno run -A src/build/main.ts notes TAG REPOSITORY        # dist/RELEASE_NOTES.md, prints the title
 * deno run -A src/build/main.ts clean                       # removes dist/
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeArchives } from "./archives.ts";
import { writeChecksums } from "./checksums.ts";
import { AGENT_BUNDLE, agentBundleArgs, compileArgs } from "./compile_flags.ts";
import { planInstallers } from "./installers.ts";
import { releaseNotes, releaseTitle } from "./release_notes.ts";
import {
  agentFileName,
  CONTROL_PLANE_TARGETS,
  controlPlaneFileName,
  hostTarget,
  releaseTarget,
  TARGET_GROUPS,
} from "./targets.ts";
import { VERSION } from "../version.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIST = "dist";

/** One `deno compile` run: what it builds and its arguments after `deno`. */
export interface CompileStep {
  /** Output file. */
  file: string;
  /** Arguments after `deno`. */
  args: string[];
}

/** The compile steps for the specs (`host`, `all`, `linux`, `windows-x64`, `control-plane:linux-x64`…). */
export function compileSteps(specs: readonly string[]): CompileStep[] {
  if (specs.length === 0) throw new RangeError("compile needs at least one target (e.g. host)");
  const steps: CompileStep[] = [];
  const add = (step: CompileStep) => {
    if (!steps.some((s) => s.file === step.file)) steps.push(step);
  };
  const agent = (name: string) => {
    // The agent binaries are compiled from one bundle, built first (once).
    add({ file: AGENT_BUNDLE, args: agentBundleArgs() });
    const target = releaseTarget(name);
    const file = agentFileName(target);
    add({ file, args: compileArgs("agent", target, { fileName: file, outDir: DIST }) });
  };
  const controlPlane = (name: string) => {
    const target = releaseTarget(name);
    const file = controlPlaneFileName(target);
    add({ file, args: compileArgs("control-plane", target, { fileName: file, outDir: DIST }) });
  };
  for (const spec of specs) {
    if (spec === "host") agent(hostTarget().name);
    else if (spec === "control-plane") CONTROL_PLANE_TARGETS.forEach(controlPlane);
    else if (spec.startsWith("control-plane:")) controlPlane(spec.slice("control-plane:".length));
    else if (TARGET_GROUPS[spec]) {
      TARGET_GROUPS[spec].forEach(agent);
      if (spec === "all" || spec === "linux") CONTROL_PLANE_TARGETS.forEach(controlPlane);
    } else agent(spec);
  }
  return steps;
}

async function run(command: string[], env?: Record<string, string>): Promise<void> {
  const [program, ...args] = command;
  const status = await new Deno.Command(program!, {
    args,
    cwd: ROOT,
    ...(env ? { env } : {}),
    stdin: "null",
  }).spawn().status;
  if (!status.success) {
    throw new Error(`\`${command.join(" ")}\` failed with exit code ${status.code}`);
  }
}

async function distFiles(): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${ROOT}${DIST}`)) {
      if (entry.isFile) files.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}

/** Runs one build command; returns the exit code. */
export async function buildMain(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" }, only: { type: "string" } },
  });
  const [command, ...rest] = positionals;
  const dryRun = values["dry-run"] === true;
  switch (command) {
    case "compile": {
      for (const step of compileSteps(rest)) {
        console.log(`deno ${step.args.join(" ")}`);
        if (!dryRun) await run([Deno.execPath(), ...step.args]);
      }
      return 0;
    }
    case "archives": {
      const mtime = Number(Deno.env.get("SOURCE_DATE_EPOCH") ?? 0);
      const written = await writeArchives(`${ROOT}${DIST}`, {
        version: VERSION,
        repoRoot: ROOT,
        mtime,
      });
      if (written.length === 0) {
        console.error(`no agent binaries in ${DIST}/: run \`make build-all\` first`);
        return 1;
      }
      for (const name of written) console.log(`${DIST}/${name}`);
      return 0;
    }
    case "checksums": {
      console.log((await writeChecksums(`${ROOT}${DIST}`)).trimEnd());
      return 0;
    }
    case "installers": {
      const steps = planInstallers({
        version: VERSION,
        files: await distFiles(),
        dist: DIST,
        env: (name) => Deno.env.get(name),
        ...(values.only ? { only: values.only.split(",") } : {}),
      });
      if (steps.length === 0) {
        console.error(`no agent binaries in ${DIST}/: run \`make build-all\` first`);
        return 1;
      }
      for (const step of steps) {
        console.log(step.command.join(" "));
        if (!dryRun) await run(step.command, step.env);
      }
      return 0;
    }
    case "notes": {
      const [tag, repository] = rest;
      if (!tag || !repository) throw new RangeError("notes needs TAG and REPOSITORY (owner/name)");
      const files = await distFiles();
      await Deno.writeTextFile(
        `${ROOT}${DIST}/RELEASE_NOTES.md`,
        releaseNotes(tag, files, repository),
      );
      console.log(releaseTitle(tag, files));
      return 0;
    }
    case "clean": {
      await Deno.remove(`${ROOT}${DIST}`, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      console.log(`removed ${DIST}/`);
      return 0;
    }
    default:
      console.error(
        "usage: src/build/main.ts compile|archives|installers|checksums|notes|clean [--dry-run] …",
      );
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await buildMain(Deno.args));
  } catch (error) {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
