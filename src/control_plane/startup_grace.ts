/**
 * After a (re)start, the control plane waits one full heartbeat interval before its sweeper
 * marks any worker offline (issue 15): agents reconnecting after the outage are then not
 * marked offline and, a moment later, online again, which a dashboard would show as a wave
 * of false alarms. Kept apart from the sweeper so that it survives a restructuring of it.
 *
 * @module
 */

/**
 * Returns a check that is `false` until `graceMs` have passed since it was made (the start),
 * and `true` from then on.
 *
 * @example
 * ```ts
 * const offlineSweepOpen = startupGrace({ graceMs: heartbeatIntervalSeconds * 1000 });
 * if (offlineSweepOpen()) workers.markStaleOffline(cutoff);
 * ```
 */
export function startupGrace(options: { graceMs: number; now?: () => number }): () => boolean {
  const now = options.now ?? Date.now;
  const openAt = now() + Math.max(0, options.graceMs);
  let open = false;
  return () => (open ||= now() >= openAt);
}
