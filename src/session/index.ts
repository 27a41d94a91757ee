/** Public surface of the session layer: rendezvous, session, events. */
export * from "./channel.ts";
export type { DropReason } from "./drop-reasons.ts";
export * from "./events.ts";
export * from "./limits.ts";
export * from "./rate-limiter.ts";
export * from "./rendezvous.ts";
export * from "./session.ts";
