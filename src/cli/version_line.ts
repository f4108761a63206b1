/** The `worker-agent version` line. */
import { VERSION } from "../version.ts";

/** `worker-agent <semver> (deno <ver>, <os>-<arch>)` */
export function versionLine(): string {
  return `worker-agent ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.os}-${Deno.build.arch})`;
}
