/** WebSocket frames of the command channel (protocol 3.5). */
import { z } from "zod";
import { CommandSchema } from "./command.ts";

const ms = z.number().int().nonnegative();

/** `welcome`: session accepted. */
export const WelcomeFrameSchema = z.object({
  type: z.literal("welcome"),
  worker_id: z.string(),
  heartbeat_interval_seconds: z.number().positive(),
  server_time: ms,
});
/**
 * `command`: execute after verification. The command is kept raw, so that a malformed one
 * can still be refused by id.
 */
export const CommandFrameSchema = z.object({
  type: z.literal("command"),
  command: z.record(z.string(), z.unknown()),
});
/** `ack`: received and accepted, or already seen. */
export const AckFrameSchema = z.object({ type: z.literal("ack"), command_id: z.string().min(1) });
/** `ping`: keepalive request. */
export const PingFrameSchema = z.object({ type: z.literal("ping"), ts: ms });
/** `pong`: keepalive answer, echoing the ping's `ts`. */
export const PongFrameSchema = z.object({ type: z.literal("pong"), ts: ms });
/** `disconnect`: the server is draining. */
export const DisconnectFrameSchema = z.object({
  type: z.literal("disconnect"),
  reason: z.string(),
  retry_after_seconds: z.number().nonnegative(),
});

/** Any frame the server sends. */
export const ServerFrameSchema = z.discriminatedUnion("type", [
  WelcomeFrameSchema,
  CommandFrameSchema,
  PingFrameSchema,
  PongFrameSchema,
  DisconnectFrameSchema,
]);
/** Any frame the server sends. */
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/** Any frame the agent sends. */
export const AgentFrameSchema = z.discriminatedUnion("type", [
  AckFrameSchema,
  PingFrameSchema,
  PongFrameSchema,
]);
/** Any frame the agent sends. */
export type AgentFrame = z.infer<typeof AgentFrameSchema>;

export { CommandSchema };
