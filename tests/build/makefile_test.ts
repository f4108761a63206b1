/**
 * The Makefile: each target people know from the original agent runs exactly one deno task
 * that exists, and on a machine without deno `make test` / `make demo` first install Deno
 * 2.9 through npm (scripts/deno.sh). The npm and deno on PATH here are stand-ins that record
 * how they were called; the real `npm install -g deno@2.9.6` is what `.ci/run` does on a
 * clean machine.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { REPO_ROOT, requireTool, runTool } from "../installer/_tools.ts";

const TARGETS: Record<string, string> = {
  build: "build",
  "build-all": "build:all",
  "build-windows": "build:windows",
  "build-macos": "build:macos",
  "build-linux": "build:linux",
  installers: "installers",
  test: "test",
  lint: "lint",
  demo: "demo",
  clean: "clean",
};

Deno.test({
  name: "every make target runs its deno task through scripts/deno.sh, and the task exists",
  ignore: Deno.build.os === "windows",
  async fn() {
    const make = requireTool("make");
    const tasks = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`)).tasks;
    for (const [target, task] of Object.entries(TARGETS)) {
      const out = await runTool(make, ["-n", target], { cwd: REPO_ROOT });
      assertEquals(out.code, 0, out.stderr);
      assertEquals(out.stdout.trim(), `sh scripts/deno.sh task ${task}`, target);
      assert(typeof tasks[task] === "string", `deno.json has no task ${task}`);
    }
  },
});

/** A PATH holding only the tools the Makefile and scripts/deno.sh use, plus stand-ins. */
async function bareMachine(withNpm: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "ftl-make-" });
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  for (const tool of ["sh", "head", "chmod"]) {
    await Deno.symlink(requireTool(tool), `${bin}/${tool}`);
  }
  if (withNpm) {
    // `npm install -g deno@X` puts a deno that records its arguments on PATH.
    await Deno.writeTextFile(
      `${bin}/npm`,
      `#!/bin/sh
echo "$@" >> "${dir}/npm-calls"
[ "$1 $2 $3" = "install -g deno@2.9.6" ] || exit 1
printf '#!/bin/sh\\nif [ "$1" = --version ]; then echo "deno 2.9.6 (stand-in)"; exit 0; fi\\necho "$@" >> "${dir}/deno-calls"\\n' > "${bin}/deno"
chmod 755 "${bin}/deno"
`,
      { mode: 0o755 },
    );
  }
  return {
    dir,
    env: { PATH: bin, HOME: dir },
    read: (name: string) => Deno.readTextFile(`${dir}/${name}`).catch(() => ""),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test({
  name: "make test and make demo install Deno 2.9 with npm when deno is missing, then run the task",
  ignore: Deno.build.os === "windows",
  async fn() {
    const make = requireTool("make");
    await using machine = await bareMachine(true);
    const first = await runTool(make, ["test"], { cwd: REPO_ROOT, env: machine.env });
    assertEquals(first.code, 0, first.stdout + first.stderr);
    assert(first.stderr.includes("installing deno@2.9.6 with npm"), first.stderr);
    assertEquals(await machine.read("npm-calls"), "install -g deno@2.9.6\n");
    assertEquals(await machine.read("deno-calls"), "task test\n");
    // Now deno is there: no second install.
    const second = await runTool(make, ["demo"], { cwd: REPO_ROOT, env: machine.env });
    assertEquals(second.code, 0, second.stdout + second.stderr);
    assertEquals(await machine.read("npm-calls"), "install -g deno@2.9.6\n");
    assertEquals(await machine.read("deno-calls"), "task test\ntask demo\n");
  },
});

Deno.test({
  name: "without deno and without npm, make says what to install and fails",
  ignore: Deno.build.os === "windows",
  async fn() {
    const make = requireTool("make");
    await using machine = await bareMachine(false);
    const out = await runTool(make, ["test"], { cwd: REPO_ROOT, env: machine.env });
    assert(out.code !== 0);
    assert(out.stderr.includes("install Node.js (for npm) or Deno 2.9.6"), out.stderr);
  },
});
