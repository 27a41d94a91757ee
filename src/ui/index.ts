/** Public surface of the terminal layer. */

export * from "./asker.ts";
export * from "./command-tally.ts";
export * from "./folder-tally.ts";
export * from "./output-gate.ts";
export * from "./progress.ts";
export * from "./reader-gone.ts";
export * from "./sanitize.ts";
export * from "./starting-terminal.ts";
export * from "./terminal.ts";
export * from "./terminal-interface.ts";
export * from "./tty-terminal.ts";
export * from "./width.ts";
