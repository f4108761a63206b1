/** Spelling suggestions for unknown config keys. */

/** The known key closest to `key` by edit distance, if it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = key.toLowerCase();
    // A truncated key ("heartbeat_intervl") is compared with the same-length head of each name.
    const d = Math.min(
      editDistance(lower, candidate),
      editDistance(lower, candidate.slice(0, lower.length)) + (lower.length >= 6 ? 0 : 99),
    );
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}
