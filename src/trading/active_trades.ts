/**
 * How a trading workload reports its number of open trades: a line of its own on standard
 * output, `FTL_ACTIVE_TRADES=<n>` (a whole number, surrounding spaces allowed). The last
 * such line wins; the count resets to 0 when the workload starts or stops.
 *
 * @module
 */

/** The prefix of the active-trades line. */
export const ACTIVE_TRADES_PREFIX = "FTL_ACTIVE_TRADES=";

const PATTERN = /^\s*FTL_ACTIVE_TRADES=(\d{1,9})\s*$/;

/**
 * The count in an active-trades line, or `undefined` when `line` is not one.
 *
 * @example
 * ```ts
 * parseActiveTrades("FTL_ACTIVE_TRADES=3"); // 3
 * parseActiveTrades("bought 3 BTC"); // undefined
 * ```
 */
export function parseActiveTrades(line: string): number | undefined {
  const match = PATTERN.exec(line);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
