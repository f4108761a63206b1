/**
 * Used and total bytes of the volume holding a path, from `statfs` (as `df` computes them).
 *
 * @module
 */
import { statfs } from "node:fs/promises";

/** Used and total bytes of a volume. */
export interface VolumeUsage {
  totalBytes: number;
  usedBytes: number;
}

/** `statfs(path)` as {@linkcode VolumeUsage}: total = blocks × frsize, used = (blocks − bfree) × frsize. */
export async function volumeUsage(path: string): Promise<VolumeUsage> {
  const stats = await statfs(path);
  // df counts in fragment size units where the file system has one distinct from bsize.
  const blockSize = Number((stats as { frsize?: number }).frsize ?? stats.bsize);
  const blocks = Number(stats.blocks);
  const free = Number(stats.bfree);
  return { totalBytes: blocks * blockSize, usedBytes: Math.max(0, blocks - free) * blockSize };
}
