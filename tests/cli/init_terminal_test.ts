/**
 * `init` on a real terminal: the key is typed into a pseudo-terminal (util-linux `script`)
 * and must not be echoed. Skipped where `script` is not the util-linux one.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { DENO_CONFIG, MAIN, SAMPLE_KEY, tempHome } from "../_helpers/main_process.ts";

function hasUtilLinuxScript(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const out = new Deno.Command("script", { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success && new TextDecoder().decode(out.stdout).includes("util-linux");
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "init asks for the key on a terminal without echoing it, then for the control plane URL, and writes both",
  ignore: !hasUtilLinuxScript(),
  fn: async () => {
    await using home = await tempHome();
    const path = `${home.dir}/c.yaml`;
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      "--config",
      DENO_CONFIG,
      "-A",
      MAIN,
      "init",
      "--config",
      path,
    ]
      .map((w) => `'${w}'`).join(" ");
    const child = new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: { ...home.env, NO_COLOR: "1", FTL_API_KEY: "", FTL_CONFIG: "", TERM: "dumb" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const decoder = new TextDecoder();
    const pump = (async () => {
      for await (const chunk of child.stdout) output += decoder.decode(chunk, { stream: true });
    })();
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    try {
      await waitFor(() => output.includes("input hidden"), {
        timeoutMs: 15_000,
        message: "the key prompt",
      });
      await writer.write(new TextEncoder().encode(`${SAMPLE_KEY}\r`));
      await waitFor(() => output.includes("Control plane URL [https://app.finetunelab.ai]"), {
        timeoutMs: 15_000,
        message: "the URL prompt with its default",
      });
      await writer.write(new TextEncoder().encode("http://127.0.0.1:8080\r"));
      const status = await child.status;
      await pump;
      assertEquals(status.code, 0, output + (await stderr));
    } finally {
      await writer.close().catch(() => {});
      try {
        child.kill();
      } catch { /* exited */ }
      await child.status;
    }
    assert(!output.includes(SAMPLE_KEY), `the key was echoed:\n${output}`);
    assert(output.includes(`wrote ${path}`), output);
    const text = await Deno.readTextFile(path);
    assert(text.includes(`api_key: "${SAMPLE_KEY}"`), text);
    assert(text.includes('base_url: "http://127.0.0.1:8080"'), text);
  },
});
