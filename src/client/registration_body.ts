/**
 * What this machine registers with (protocol 3.1): the agent and `worker-agent doctor` send
 * the same body, so the control plane sees doctor as this machine.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { type Platform, PLATFORMS, type RegisterRequest } from "../protocol/mod.ts";
import { VERSION } from "../version.ts";

/** The registration body for this machine, with the state dir's `instance_id` (v1.1). */
export async function registrationBody(
  config: Pick<AgentConfig, "hostname" | "capabilities" | "max_concurrency">,
  instanceId: string,
): Promise<RegisterRequest> {
  const metadata: Record<string, unknown> = {
    arch: Deno.build.arch,
    runtime: `deno ${Deno.version.deno}`,
    cpu_count: navigator.hardwareConcurrency,
  };
  try {
    metadata.os_release = Deno.osRelease();
  } catch { /* not permitted: leave it out */ }
  if (Deno.build.os === "linux") {
    try {
      metadata.boot_id = (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim();
    } catch { /* not permitted or not there */ }
  }
  return {
    hostname: config.hostname || "unknown",
    platform: (PLATFORMS as readonly string[]).includes(Deno.build.os)
      ? Deno.build.os as Platform
      : "linux",
    version: VERSION,
    capabilities: config.capabilities,
    max_concurrency: config.max_concurrency,
    metadata,
    instance_id: instanceId,
  };
}
