/** The `User-Agent` the agent sends (protocol 1). */
import { VERSION } from "../version.ts";

/** `finetunelab-worker-agent/<version> (<os>; <arch>) deno/<ver>`. */
export function userAgent(): string {
  return `finetunelab-worker-agent/${VERSION} (${Deno.build.os}; ${Deno.build.arch}) deno/${Deno.version.deno}`;
}
