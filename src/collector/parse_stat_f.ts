/**
 * Parser of `stat -f -c '%S %b %f %n' -- <mount>…` output: the Linux helper's answer to a
 * `disks` request, so Deno needs no read permission on the mount points themselves.
 *
 * @module
 */
import type { VolumeUsage } from "./statfs_disk.ts";

/** The `stat -f` format the Linux helper uses: fragment size, blocks, free blocks, name. */
export const STAT_F_FORMAT = "%S %b %f %n";

const LINE = /^(\d+) (\d+) (\d+) (.+)$/;

/**
 * Volume usage by path from `stat -f -c '%S %b %f %n'` output, computed as `df` and
 * `volumeUsage()` do: total = blocks × fragment size, used = (blocks − free) × fragment size.
 * The name is the rest of the line, so paths with spaces are kept whole; lines that do not
 * match (an error text, a blank line) are skipped.
 */
export function parseStatF(text: string): Map<string, VolumeUsage> {
  const usage = new Map<string, VolumeUsage>();
  for (const line of text.split("\n")) {
    const match = LINE.exec(line.endsWith("\r") ? line.slice(0, -1) : line);
    if (!match) continue;
    const [, size, blocks, free, name] = match;
    const blockSize = Number(size);
    const total = Number(blocks);
    usage.set(name as string, {
      totalBytes: total * blockSize,
      usedBytes: Math.max(0, total - Number(free)) * blockSize,
    });
  }
  return usage;
}
