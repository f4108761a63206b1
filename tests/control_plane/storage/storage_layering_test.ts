/**
 * The storage folder's rules (docs/architecture.md, "Add a storage engine"), checked against
 * the real import graph: storage never reaches the HTTP layer, and no adapter imports another.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";

const ROOT = new URL("../../../", import.meta.url);
const STORAGE = new URL("src/control_plane/storage/", ROOT).href;
const CONTROL_PLANE = new URL("src/control_plane/", ROOT).href;

/** Modules of the control plane that belong to the HTTP layer. */
const HTTP_LAYER = ["app.ts", "http_error.ts", "server.ts", "worker_sessions.ts", "read_body.ts"];

interface ModuleInfo {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

Deno.test("storage/ imports no HTTP code, and adapters import no other adapter", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("src/control_plane/main.ts", ROOT).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: ModuleInfo[] };
  const broken: string[] = [];
  let seen = 0;
  for (const module of graph.modules) {
    if (!module.specifier.startsWith(STORAGE)) continue;
    seen++;
    const from = module.specifier.slice(STORAGE.length);
    const adapter = /^(sqlite|postgres)\//.exec(from)?.[1];
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
        if (!target) continue;
        if (target.startsWith("npm:hono") || target === "hono") broken.push(`${from} → hono`);
        if (target.startsWith(CONTROL_PLANE)) {
          const name = target.slice(CONTROL_PLANE.length);
          if (HTTP_LAYER.includes(name)) broken.push(`${from} → ${name}`);
        }
        if (adapter && target.startsWith(STORAGE)) {
          const other = /^(sqlite|postgres)\//.exec(target.slice(STORAGE.length))?.[1];
          if (other && other !== adapter) broken.push(`${from} → ${target.slice(STORAGE.length)}`);
        }
      }
    }
  }
  assertEquals(seen > 10, true, `storage modules found in the graph: ${seen}`);
  assertEquals(broken, []);
});
