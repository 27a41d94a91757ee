/** Public surface of the pure protocol layer: frame codec, messages, limits, errors. */
export * from "./errors.ts";
export * from "./features.ts";
export * from "./frame-decoder.ts";
export * from "./frame-encoder.ts";
export * from "./frame-types.ts";
export * from "./message-types.ts";
export * from "./messages.ts";
export { truncateChars } from "./schema.ts";
export * from "./wormhole-transfer.ts";
