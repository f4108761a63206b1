/** The agent's own version, reported in `User-Agent`, registration and `version`. */
export const VERSION = "0.1.0";
