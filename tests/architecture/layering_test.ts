/**
 * The layering rules of docs/architecture.md, checked against the real import graph:
 * `deno info --json` over every module under src/ (static imports, type-only ones included).
 * A rule broken by a new import fails here with the importing file, the imported file and
 * the rule.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const SRC = new URL("src/", ROOT).href;

/**
 * What each part of src/ may import besides itself. Every folder under src/ must be listed:
 * a new folder needs its place in the layers before it can land. `version.ts` is a layer of
 * its own (it imports nothing).
 */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  // The ground floor: the wire protocol, shared by both programs.
  protocol: [],
  // Small rules both programs use: delays, timeouts, backoff, bounded reads, atomic writes.
  shared: ["protocol"],
  log: ["protocol", "shared"],
  "version.ts": [],
  platform: ["protocol", "shared", "log"],
  config: ["protocol", "shared", "log", "platform", "version.ts"],
  state: ["protocol", "shared", "log"],
  // Collectors measure; they never send, store or act.
  collector: ["protocol", "shared", "log"],
  // The workload supervisor sits below the executor and knows nothing of commands.
  trading: ["protocol", "shared", "log", "config"],
  executor: ["protocol", "shared", "log", "config", "trading"],
  client: ["protocol", "shared", "log", "config", "platform", "state", "version.ts"],
  agent: [
    "protocol",
    "shared",
    "log",
    "config",
    "platform",
    "state",
    "collector",
    "trading",
    "executor",
    "client",
    "version.ts",
  ],
  permissions: ["protocol", "shared", "log", "config", "platform", "collector"],
  build: ["protocol", "shared", "log", "permissions", "collector", "version.ts"],
  cli: [
    "protocol",
    "shared",
    "log",
    "config",
    "platform",
    "state",
    "collector",
    "client",
    "permissions",
    "build",
    "agent",
    "version.ts",
  ],
  // The reference control plane: the protocol's other side, never the agent's code.
  control_plane: ["protocol", "shared", "log", "version.ts"],
  demo: ["protocol", "shared", "log", "config", "version.ts"],
};

/** The agent's side of the code base: none of it may import the control plane, or be imported by it. */
const AGENT_SIDE = [
  "agent",
  "cli",
  "client",
  "collector",
  "config",
  "executor",
  "permissions",
  "platform",
  "state",
  "trading",
];

/** One import between two modules under src/, as paths relative to src/. */
export interface Edge {
  from: string;
  to: string;
}

/** The part of src/ a module belongs to: its top folder, or the file itself at the top. */
function partOf(path: string): string {
  return path.split("/")[0]!;
}

/**
 * Every rule `edges` break, one line each. Pure, so the rules themselves can be tested on
 * made-up graphs.
 */
export function layeringProblems(
  edges: readonly Edge[],
  mayImport: Readonly<Record<string, readonly string[]>> = MAY_IMPORT,
): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = partOf(from);
    const b = partOf(to);
    const allowed = mayImport[a];
    if (allowed === undefined) {
      problems.push(`${from}: src/${a} has no place in MAY_IMPORT (docs/architecture.md)`);
      continue;
    }
    if (mayImport[b] === undefined) {
      problems.push(`${to}: src/${b} has no place in MAY_IMPORT (docs/architecture.md)`);
    }
    if (a !== b && !allowed.includes(b)) {
      problems.push(
        `${from} imports ${to}: ${a} may import only ${allowed.join(", ") || "itself"}`,
      );
    }
    const base = to.split("/").at(-1)!;
    if (base.startsWith("_") && !dirname(from).startsWith(dirname(to))) {
      problems.push(
        `${from} imports ${to}: a _private module is for its own folder (and its subfolders) only`,
      );
    }
  }
  return problems;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/") + 1);
}

/** The modules of `edges` that import each other in a cycle, one list per cycle. */
export function importCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const cycle: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        cycle.push(w);
      } while (w !== v);
      if (cycle.length > 1) cycles.push(cycle.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Every `.ts` file under src/, relative to src/. */
async function sourceFiles(dir = new URL("src/", ROOT), prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      files.push(...await sourceFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else if (entry.isFile && entry.name.endsWith(".ts")) files.push(prefix + entry.name);
  }
  return files;
}

/** The import graph of src/, read by `deno info --json` from one module importing every file. */
async function importGraph(): Promise<{ files: string[]; edges: Edge[] }> {
  const files = await sourceFiles();
  const tmp = await Deno.makeTempDir({ prefix: "ftl-layers-" });
  try {
    const root = `${tmp}/all.ts`;
    await Deno.writeTextFile(root, files.map((f) => `import "${SRC}${f}";\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const edges: Edge[] = [];
    const seen = new Set<string>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith(SRC)) continue;
      const from = module.specifier.slice(SRC.length);
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          if (target === undefined || !target.startsWith(SRC)) continue;
          const to = target.slice(SRC.length);
          const key = `${from} ${to}`;
          if (seen.has(key)) continue;
          seen.add(key);
          edges.push({ from, to });
        }
      }
    }
    return { files, edges };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("src/ keeps the layers of docs/architecture.md: no import breaks a rule", async () => {
  const { files, edges } = await importGraph();
  assert(edges.length > files.length, `the graph was read (${edges.length} imports)`);
  for (const file of files) {
    const part = partOf(file);
    assert(part in MAY_IMPORT, `src/${part} has no place in MAY_IMPORT`);
  }
  assertEquals(layeringProblems(edges), []);
});

Deno.test("src/ has no import cycles, between modules or between folders", async () => {
  const { edges } = await importGraph();
  assertEquals(importCycles(edges), []);
  const folders = edges.map(({ from, to }) => ({ from: partOf(from), to: partOf(to) }))
    .filter(({ from, to }) => from !== to);
  assertEquals(importCycles(folders), []);
  // The rules themselves allow no cycle, so no graph that keeps them can have one.
  const allowed = Object.entries(MAY_IMPORT).flatMap(([from, to]) =>
    to.map((b) => ({ from, to: b }))
  );
  assertEquals(importCycles(allowed), []);
});

Deno.test("the headline rules hold in the table itself", async (t) => {
  await t.step("protocol imports nothing above it", () => {
    assertEquals(MAY_IMPORT.protocol, []);
  });
  await t.step("the agent and the control plane never import each other", () => {
    assert(!MAY_IMPORT.control_plane!.some((part) => AGENT_SIDE.includes(part)));
    for (const part of AGENT_SIDE) assert(!MAY_IMPORT[part]!.includes("control_plane"), part);
  });
  await t.step("collectors measure but never send, store or act", () => {
    for (const part of ["client", "agent", "state", "executor", "trading"]) {
      assert(!MAY_IMPORT.collector!.includes(part), part);
    }
  });
  await t.step("trading sits below the executor", () => {
    assert(MAY_IMPORT.executor!.includes("trading"));
    assert(!MAY_IMPORT.trading!.includes("executor"));
  });
});

Deno.test("layeringProblems() names the file and the rule an import breaks", async (t) => {
  const cases: [string, Edge, RegExp][] = [
    [
      "protocol importing shared",
      { from: "protocol/a.ts", to: "shared/b.ts" },
      /protocol may import only itself/,
    ],
    [
      "trading importing the executor",
      { from: "trading/a.ts", to: "executor/b.ts" },
      /trading may import only/,
    ],
    [
      "the control plane importing the agent",
      { from: "control_plane/a.ts", to: "agent/b.ts" },
      /control_plane may import only/,
    ],
    [
      "the agent importing the control plane",
      { from: "agent/a.ts", to: "control_plane/b.ts" },
      /agent may import only/,
    ],
    [
      "a collector importing the client",
      { from: "collector/a.ts", to: "client/b.ts" },
      /collector may import only/,
    ],
    [
      "another folder's private module",
      { from: "agent/a.ts", to: "state/_b.ts" },
      /_private module/,
    ],
    [
      "a subfolder's private module, from the folder above",
      { from: "control_plane/a.ts", to: "control_plane/storage/_b.ts" },
      /_private module/,
    ],
    [
      "a folder without rules",
      { from: "gadgets/a.ts", to: "protocol/b.ts" },
      /gadgets has no place/,
    ],
  ];
  for (const [name, edge, message] of cases) {
    await t.step(name, () => {
      const problems = layeringProblems([edge]);
      assert(problems.some((p) => message.test(p) && p.includes(edge.from)), problems.join("\n"));
    });
  }
  assertEquals(layeringProblems([{ from: "executor/a.ts", to: "trading/b.ts" }]), []);
  assertEquals(importCycles([{ from: "a", to: "b" }, { from: "b", to: "a" }]), [["a", "b"]]);
});
