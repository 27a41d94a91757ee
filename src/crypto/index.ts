/** Public surface of the crypto layer: records, the PAKE, the key schedule, codes, errors. */
export * from "./codes.ts";
export * from "./cpace.ts";
export * from "./errors.ts";
export * from "./key-schedule.ts";
export * from "./record.ts";
export * from "./secure-connection.ts";
