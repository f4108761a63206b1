/**
 * The collector interface: one full metrics sample (protocol 5.2) per call.
 *
 * @module
 */
import type { Sample, TradingState } from "../protocol/mod.ts";

/** What the caller knows and the collector cannot measure: stream position and agent state. */
export interface CollectorInput {
  /** The sample stream id (persisted in the state dir). */
  stream: string;
  /** This sample's sequence number within `stream`. */
  seq: number;
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
   * Measures the machine and returns a sample that validates against `SampleSchema`.
   * Never throws for a failing probe: its fields are null (and the failure is logged once).
   * Rejects only when `signal` is aborted.
   */
  sample(input: CollectorInput, signal?: AbortSignal): Promise<Sample>;
  /** Stops any helper process the collector keeps; settles once it has exited. Idempotent. */
  close(): Promise<void>;
}
