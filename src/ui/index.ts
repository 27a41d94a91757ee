/** Public surface of the terminal layer. */
export * from "./progress.ts";
export * from "./sanitize.ts";
export * from "./terminal.ts";
