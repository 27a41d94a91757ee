/**
 * Public surface of the transfer layer: file reading/writing, digests, safe names. The zip
 * modules that load yazl/yauzl (zip-build.ts, zip-extract.ts) are imported by path where a
 * folder meets a plain wormhole peer, so that no other run pays for loading them.
 */
export * from "./checksum.ts";
export * from "./errors.ts";
export * from "./existing-copy.ts";
export type { FileMeta } from "./file-meta.ts";
export * from "./file-names.ts";
export * from "./file-receiver.ts";
export * from "./file-sender.ts";
export * from "./folder-target.ts";
export * from "./folder-walk.ts";
export * from "./held-dir.ts";
export * from "./piece-reader.ts";
export * from "./readable-file.ts";
export * from "./resume-token.ts";
export * from "./source.ts";
export * from "./stream-receiver.ts";
export * from "./stream-sender.ts";
export * from "./zip-part.ts";
export * from "./zip-plan.ts";
