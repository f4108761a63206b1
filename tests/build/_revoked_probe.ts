/**
 * `worker-agent run` with a stand-in runtime that, once started, reads an environment
 * variable the agent revoked at start. Run it under the compiled binary's flags: the real
 * `run` path (config load, permission check, revocation) runs first, then the read fails and
 * `main.ts`'s error mapping prints its message. Usage: `_revoked_probe.ts VAR run --config P`.
 */
import { exitCodeFor } from "../../main.ts";
import { runCli } from "../../src/cli/program.ts";

const [variable = "FTL_API_KEY", ...argv] = Deno.args;
try {
  Deno.exit(
    await runCli(argv, {
      runAgent: () => {
        Deno.env.get(variable);
        return Promise.resolve(0);
      },
    }),
  );
} catch (error) {
  const { code, message } = exitCodeFor(error);
  if (message) console.error(message);
  Deno.exit(code);
}
