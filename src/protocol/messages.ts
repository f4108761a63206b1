/**
 * Request and response bodies of the HTTP endpoints (protocol 3). Unknown members are
 * tolerated (stripped); wrong types are refused.
 */
import { z } from "zod";
import { CommandSchema } from "./command.ts";
import {
  ERROR_CODES,
  MAX_SAMPLES_PER_REQUEST,
  PLATFORMS,
  RESULT_STATUSES,
  SIGNATURE_ALGS,
  WORKER_STATUSES,
} from "./constants.ts";
import { SampleSchema, SnapshotSchema } from "./metrics.ts";

const ms = z.number().int().nonnegative();

/** Error body of every non-2xx answer (protocol 1). */
export const ErrorBodySchema = z.object({
  error: z.string(),
  code: z.union([z.enum(ERROR_CODES), z.string()]),
  server_time: ms.optional(),
});
/** Error body of every non-2xx answer. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** `POST /api/workers/register` request (protocol 3.1). */
export const RegisterRequestSchema = z.object({
  api_key: z.string().optional(),
  hostname: z.string().min(1).max(255),
  platform: z.enum(PLATFORMS),
  version: z.string().min(1).max(64),
  capabilities: z.array(z.string().max(64)).max(64).optional(),
  max_concurrency: z.number().int().min(1).max(1024).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** v1.1: random per state dir; absent from FineTuneLab's own (legacy) agents. */
  instance_id: z.string().min(1).max(128).optional(),
});
/** `POST /api/workers/register` request. */
export type RegisterRequest = z.infer<typeof RegisterRequestSchema>;

/** `POST /api/workers/register` response (protocol 3.1). */
export const RegisterResponseSchema = z.object({
  worker_id: z.string().min(1),
  websocket_url: z.string().optional(),
  heartbeat_interval_seconds: z.number().positive().optional(),
  metrics_interval_seconds: z.number().positive().optional(),
  max_concurrency: z.number().int().optional(),
  signature_alg: z.enum(SIGNATURE_ALGS).optional(),
  server_time: ms.optional(),
});
/** `POST /api/workers/register` response. */
export type RegisterResponse = z.infer<typeof RegisterResponseSchema>;

/** `POST /api/workers/{id}/heartbeat` request (protocol 3.2); every field optional. */
export const HeartbeatRequestSchema = z.object({
  status: z.enum(WORKER_STATUSES).optional(),
  current_load: z.number().int().nonnegative().optional(),
  metrics: SnapshotSchema.partial().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** `POST /api/workers/{id}/heartbeat` request. */
export type HeartbeatRequest = z.infer<typeof HeartbeatRequestSchema>;

/**
 * `POST /api/workers/{id}/heartbeat` response (protocol 3.2). Pending commands are kept as
 * raw objects here: each is validated by itself, so one bad command cannot hide the others.
 */
export const HeartbeatResponseSchema = z.object({
  ok: z.boolean().optional(),
  pending_commands: z.array(z.unknown()).optional(),
  heartbeat_interval_seconds: z.number().positive().optional(),
  server_time: ms.optional(),
});
/** `POST /api/workers/{id}/heartbeat` response. */
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

/** `POST /api/workers/{id}/metrics` request (protocol 3.3). */
export const MetricsRequestSchema = z.object({
  samples: z.array(SampleSchema).min(1).max(MAX_SAMPLES_PER_REQUEST),
});
/** `POST /api/workers/{id}/metrics` request. */
export type MetricsRequest = z.infer<typeof MetricsRequestSchema>;

/** `POST /api/workers/{id}/metrics` response (protocol 3.3). */
export const MetricsResponseSchema = z.object({
  ok: z.boolean(),
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  server_time: ms.optional(),
});
/** `POST /api/workers/{id}/metrics` response. */
export type MetricsResponse = z.infer<typeof MetricsResponseSchema>;

/** `POST /api/workers/commands/{id}/result` request (protocol 3.4). */
export const CommandResultSchema = z.object({
  command_id: z.string().min(1).max(128),
  status: z.enum(RESULT_STATUSES),
  output: z.string().max(64 * 1024).optional(),
  error: z.string().max(64 * 1024).optional(),
  error_code: z.string().regex(/^[a-z][a-z0-9_]*$/).max(64).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  started_at: ms.optional(),
  finished_at: ms.optional(),
  timestamp: z.number().int().nonnegative().optional(),
});
/** `POST /api/workers/commands/{id}/result` request. */
export type CommandResult = z.infer<typeof CommandResultSchema>;

/** `POST /api/workers/commands/{id}/result` response (protocol 3.4). */
export const CommandResultResponseSchema = z.object({
  ok: z.boolean(),
  message: z.string().optional(),
  server_time: ms.optional(),
});
/** `POST /api/workers/commands/{id}/result` response. */
export type CommandResultResponse = z.infer<typeof CommandResultResponseSchema>;

export { CommandSchema };
