/**
 * The collector interface: one full metrics sample (protocol 5.2) per call.
 *
 * @module
 */
import type { Measurement, TradingState } from "../protocol/mod.ts";

/**
 * What the caller knows and the collector cannot measure: the agent's own state. The
 * sample's place in its stream (`stream`, `seq`) is not the collector's business: the spool
 * stamps it when it stores the sample.
 */
export interface CollectorInput {
  /** The trading workload as the supervisor reports it. */
  trading: TradingState;
  /** Samples waiting in the offline spool. */
  spoolDepth: number;
  /** Samples dropped because the spool was full. */
  droppedSamples: number;
}

/** Produces samples; one instance per agent, chosen for the OS once at start. */
export interface Collector {
  /**
   * Measures the machine and returns a sample without its place in the stream: stamped with
   * `stream` and `seq` (by the spool, with `stampSample`), it validates against `SampleSchema`.
   * Never throws for a failing probe: its fields are null (and the failure is logged once).
   * Rejects only when `signal` is aborted.
   */
  sample(input: CollectorInput, signal?: AbortSignal): Promise<Measurement>;
  /** Stops any helper process the collector keeps; settles once it has exited. Idempotent. */
  close(): Promise<void>;
}
