/**
 * Public surface of the crypto layer: records, the key schedule (which loads the PAKE,
 * cpace.ts, on first need), codes, errors.
 */
export * from "./codes.ts";
export * from "./errors.ts";
export * from "./key-schedule.ts";
export * from "./record.ts";
export * from "./secretbox.ts";
export * from "./secure-connection.ts";
export * from "./transit-records.ts";
