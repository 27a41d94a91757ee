/** Timing and flow-control constants of a session. */

/** Most DATA payload bytes sent but not yet ACKed by the receiver (see DESIGN: window). */
export const WINDOW_BYTES = 2 * 1024 * 1024;
/** The receiver ACKs after consuming this many more bytes. */
export const ACK_EVERY_BYTES = WINDOW_BYTES / 4;
/** Largest file payload put in one DATA frame. */
export const CHUNK_BYTES = 256 * 1024;
/** The scheduler yields to the event loop after this long in one pump, so chat and timers run. */
export const PUMP_SLICE_MS = 2;
/** A side that has sent nothing for this long sends PING. */
export const PING_INTERVAL_MS = 5_000;
/** A peer silent for this long is lost. */
export const PEER_TIMEOUT_MS = 30_000;
/** A connection that has not sent a valid HELLO by then is dropped. */
export const HELLO_TIMEOUT_MS = 5_000;
/** How long BYE may take to flush before the socket is closed anyway. */
export const BYE_FLUSH_MS = 1_000;
/** Control frames waiting to be sent beyond this mean the peer is not reading: hang up. */
export const MAX_QUEUED_CONTROL_BYTES = 8 * 1024 * 1024;
/** Incoming transfers at once; more offers are declined. */
export const MAX_INCOMING_TRANSFERS = 64;
/** A leader waits this long at most for a dial of its own before picking an accepted connection. */
export const DIAL_WAIT_MS = 1_000;
/** Outgoing transfers offered at once; more wait their turn (a folder's files are pipelined). */
export const MAX_OUTGOING_TRANSFERS = 16;
/** Wrong codes at a listener after which it judges no more attempts (the CLI then stops it). */
export const MAX_WRONG_CODES = 3;
/** Handshakes of accepted connections at once; more are refused (parallel guessing). */
export const MAX_ACCEPTED_HANDSHAKES = 16;
/** A connection must send its HELLO within this long (Parley sends it first thing). */
export const FIRST_HELLO_MS = 2_000;
