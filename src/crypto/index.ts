/** Public surface of the crypto layer: record protection, the PAKE, errors. */
export * from "./cpace.ts";
export * from "./errors.ts";
export * from "./record.ts";
export * from "./secure-connection.ts";
