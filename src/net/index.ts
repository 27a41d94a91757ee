/** Public surface of the network layer: bytes over TCP, nothing about frames. */
export * from "./connection.ts";
export * from "./endpoints.ts";
export * from "./errors.ts";
export * from "./forwarding-connection.ts";
export * from "./mailbox-socket.ts";
export * from "./memory-connection.ts";
export * from "./transit.ts";
