import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { PROBE_END_MARKER, ProbeProcess } from "../../src/collector/probe_process.ts";
import { LINUX_PROC_HELPER_SCRIPT, ProcFileSource } from "../../src/collector/linux.ts";

const ECHO_SCRIPT = `while IFS= read -r req; do
  case "$req" in
    die) exit 3 ;;
    hang) continue ;;
  esac
  printf 'got %s\\n' "$req"
  printf '%s\\n' '${PROBE_END_MARKER}'
done`;

const unix = Deno.build.os !== "windows";

Deno.test({
  name: "ProbeProcess answers many requests from one helper process",
  ignore: !unix,
  async fn() {
    const probe = new ProbeProcess({ command: "sh", args: ["-c", ECHO_SCRIPT] });
    try {
      for (const word of ["a", "b", "c"]) {
        assertEquals(await probe.request(word), `got ${word}\n`);
      }
      assertEquals(probe.starts, 1);
    } finally {
      await probe.close();
    }
  },
});

Deno.test({
  name: "ProbeProcess fails a request when the helper dies and starts a fresh one next time",
  ignore: !unix,
  async fn() {
    const probe = new ProbeProcess({ command: "sh", args: ["-c", ECHO_SCRIPT] });
    try {
      assertEquals(await probe.request("x"), "got x\n");
      await rejects(probe.request("die"), /exited before answering/);
      assertEquals(await probe.request("y"), "got y\n");
      assertEquals(probe.starts, 2);
    } finally {
      await probe.close();
    }
  },
});

Deno.test({
  name: "ProbeProcess gives up on a request past its deadline and kills the helper",
  ignore: !unix,
  async fn() {
    const probe = new ProbeProcess({ command: "sh", args: ["-c", ECHO_SCRIPT], timeoutMs: 200 });
    try {
      const started = performance.now();
      await rejects(probe.request("hang"), /did not answer within 200 ms/);
      assert(performance.now() - started < 2000);
      assertEquals(probe.pid, undefined);
      assertEquals(await probe.request("z"), "got z\n");
    } finally {
      await probe.close();
    }
  },
});

Deno.test({
  name: "ProbeProcess rejects a request when its signal is aborted",
  ignore: !unix,
  async fn() {
    const probe = new ProbeProcess({ command: "sh", args: ["-c", ECHO_SCRIPT] });
    try {
      const controller = new AbortController();
      const pending = probe.request("hang", controller.signal);
      controller.abort(new Error("stop"));
      await rejects(pending, /stop/);
    } finally {
      await probe.close();
    }
  },
});

Deno.test({
  name: "ProbeProcess reports a program that cannot start as an error, not a crash",
  async fn() {
    const probe = new ProbeProcess({ command: "ftl-no-such-program-xyz", args: [] });
    await rejects(probe.request("x"), Deno.errors.NotFound);
    await probe.close();
  },
});

Deno.test({
  name: "the Linux /proc helper returns the same file a direct read returns",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const source = new ProcFileSource({ procMode: "helper" });
    try {
      const mounts = await source.read("mounts");
      const direct = await Deno.readTextFile("/proc/self/mounts");
      // The helper reads its own /proc/self/mounts: same mount namespace, same lines.
      assertEquals(mounts, direct.endsWith("\n") ? direct : direct + "\n");
      assert((await source.read("net")).includes("|bytes"));
      assertEquals(source.mode, "helper");
    } finally {
      await source.close();
    }
  },
});

Deno.test({
  name: "ProcFileSource falls back to the helper once when Deno refuses /proc",
  ignore: Deno.build.os !== "linux",
  async fn() {
    let directReads = 0;
    const source = new ProcFileSource({
      readTextFile: () => {
        directReads++;
        return Promise.reject(new Deno.errors.NotCapable("Requires all access"));
      },
    });
    try {
      assert((await source.read("net")).includes("|bytes"));
      assert((await source.read("net")).includes("|bytes"));
      assertEquals(directReads, 1);
      assertEquals(source.mode, "helper");
      assertEquals(source.helper.starts, 1);
    } finally {
      await source.close();
    }
  },
});

Deno.test("the /proc helper script reads only the files it names", () => {
  assert(LINUX_PROC_HELPER_SCRIPT.includes("net) f=/proc/net/dev"));
  assert(LINUX_PROC_HELPER_SCRIPT.includes("*) f=/dev/null"));
});
