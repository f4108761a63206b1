import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { generateEd25519KeyPair } from "../../src/protocol/mod.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

Deno.test("with command_signature ed25519 the agent runs commands signed by the pinned key and refuses HMAC ones", async (t) => {
  const pair = await generateEd25519KeyPair();
  const dir = await Deno.makeTempDir();
  const keyFile = `${dir}/signing.key`;
  await Deno.writeTextFile(keyFile, `${pair.pkcs8Base64}\n`, { mode: 0o600 });
  const agentConfig = { command_signature: "ed25519", server_public_key: pair.publicKeyBase64 };
  try {
    await t.step("signed with the pinned key: completed", async () => {
      await using sys = await startSystem({
        cp: { args: ["--signing-key", keyFile] },
        agent: { config: agentConfig },
      });
      const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
      const id = await sys.admin.command(workerId, "ping");
      assertEquals((await sys.admin.finished(workerId, id, 4_000)).status, "completed");
    });
    await t.step("signed with HMAC: refused as bad_signature", async () => {
      await using sys = await startSystem({ agent: { config: agentConfig } });
      const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
      const id = await sys.admin.command(workerId, "ping");
      const row = await sys.admin.finished(workerId, id, 4_000);
      assertEquals([row.status, row.result?.error_code], ["failed", "bad_signature"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
