/** Re-exports shared by the control plane's files. */
export * from "../protocol/mod.ts";
export type { z } from "zod";
