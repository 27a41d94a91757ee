/** Public surface of the transfer layer: file reading/writing, digests, safe names. */
export * from "./checksum.ts";
export * from "./errors.ts";
export * from "./existing-copy.ts";
export * from "./file-names.ts";
export * from "./file-receiver.ts";
export * from "./file-sender.ts";
export * from "./folder-target.ts";
export * from "./folder-walk.ts";
export * from "./resume-token.ts";
export * from "./source.ts";
export * from "./stream-receiver.ts";
export * from "./stream-sender.ts";
export * from "./zip-build.ts";
export * from "./zip-extract.ts";
export * from "./zip-part.ts";
export * from "./zip-plan.ts";
