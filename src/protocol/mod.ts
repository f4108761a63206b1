/**
 * Wire protocol v1, shared by the agent and the reference control plane.
 *
 * @module
 */
export * from "./api_key.ts";
export * from "./canonical.ts";
export * from "./command.ts";
export * from "./command_types.ts";
export * from "./constants.ts";
export * from "./encoding.ts";
export * from "./liberal_readers.ts";
export * from "./loopback.ts";
export * from "./messages.ts";
export * from "./metrics.ts";
export * from "./params_bounds.ts";
export * from "./signature.ts";
export * from "./signing_key.ts";
export * from "./validate.ts";
export * from "./verify_command.ts";
export * from "./ws_frame.ts";
