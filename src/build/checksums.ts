/**
 * `SHA256SUMS` of a release folder, in the format `sha256sum -c` and the installers read:
 * one `<hex>  <name>` line per file, sorted by name.
 *
 * @module
 */

/** Names of the files a release publishes (everything else in dist/ is left out). */
export const RELEASE_FILE_PATTERN =
  /^(worker-agent-.+|ftl-control-plane-.+|worker-agent_.+\.deb|install\.sh|install\.ps1)$/;

/** The SHA-256 of `bytes` as lower-case hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes `dir/SHA256SUMS` for every release file in `dir` and returns its text. Throws a
 * `RangeError` when there is no release file.
 */
export async function writeChecksums(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && RELEASE_FILE_PATTERN.test(entry.name)) names.push(entry.name);
  }
  if (names.length === 0) {
    throw new RangeError(`no release files in ${dir} (expected worker-agent-*, *.deb, …)`);
  }
  names.sort();
  const lines: string[] = [];
  for (const name of names) {
    lines.push(`${await sha256Hex(await Deno.readFile(`${dir}/${name}`))}  ${name}`);
  }
  const text = `${lines.join("\n")}\n`;
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, text);
  return text;
}
