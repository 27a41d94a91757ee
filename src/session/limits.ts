/** Timing and flow-control constants of a session. */

/**
 * The smallest send window: DATA payload bytes sent but not yet ACKed by the receiver (see
 * DESIGN: window; send-window.ts sizes it in time above this on long round trips). A chat
 * line waits behind at most this much, so it sets the chat latency during a transfer: about
 * 1 ms at loopback speed. Paired bench runs (encrypted, 1 GiB): 2 MiB gave a chat p99 of
 * 4.6-5.5 ms, 1.5 MiB 4.3 ms, 1 MiB 3.1-3.4 ms; throughput was equal within noise down to
 * 1.5 MiB, while 1 MiB cost the faster unsealed path 10%.
 */
export const WINDOW_BYTES = 1536 * 1024;
/** The largest send window: in-flight bytes sit in kernel buffers, which are bounded anyway. */
export const WINDOW_CAP_BYTES = 16 * 1024 * 1024;
/** The receiver ACKs after consuming this many more bytes (frequent ACKs keep the window full). */
export const ACK_EVERY_BYTES = WINDOW_BYTES / 8;
/** Largest file payload put in one DATA frame. */
export const CHUNK_BYTES = 256 * 1024;
/**
 * Through a relay (a third process splicing two TCP connections: magic-wormhole's transit
 * relay) every ACK costs the relay a read and a write of its own and wakes the sender. There a
 * send window stays at RELAY_MIN_WINDOW_BYTES or more once past its young start (four records
 * instead of two), and a receiver whose peer keeps that window (HELLO feature "relay-window")
 * ACKs every RELAY_ACK_EVERY_BYTES (two records) instead of every record: half the ACKs, and
 * still two records in flight when an ACK leaves, as one is with the usual window and cadence.
 * The cadence must stay below the window minimum (a blocked window at the minimum must always
 * be owed an ACK), and at most half of it (or the pipe drains every round).
 */
export const RELAY_MIN_WINDOW_BYTES = 4 * CHUNK_BYTES;
export const RELAY_ACK_EVERY_BYTES = RELAY_MIN_WINDOW_BYTES / 2;
/**
 * Through a relay, on a short path, the send window itself (past its start): twelve records,
 * with the ACK cadence above. Three processes share the machine's cores there (sender, relay,
 * receiver; on two cores, and wake-ups over sockets pull them onto one), and each waits for the
 * others' turns: with RELAY_MIN_WINDOW_BYTES an ACK left with two records in flight, about 1 ms
 * of the receiver's work, less than a turn of the others, so all three slept 40-50% of a 1 GiB
 * transfer. With 3 MiB an ACK leaves ten records (about 5 ms) behind it. While we chat the
 * un-ACKed DATA is still held to RELAY_MIN_WINDOW_BYTES (unackedAllowed), so a line typed during
 * a chat waits behind no more than before; the first line after a silent stretch waits behind
 * up to this much. Long paths are sized by their round trip as always (send-window.ts).
 */
export const RELAY_WINDOW_BYTES = 12 * CHUNK_BYTES;
/**
 * Through a relay, how slow a synchronous file write must be before the receiver sends the next
 * 16 MiB of writes to the thread pool (transfer/write-behind.ts; 1 ms elsewhere). There three
 * processes share two cores, so a 256 KiB write that takes 1-8 ms is nearly always one whose
 * thread lost its CPU in the middle (with no pool, 20-40 of a GiB's 4,102 writes took 1 ms or
 * more, none 8), and the pool only adds its copy and hand-offs to the slowest of the three: the
 * relay path went to it 2-3 times as often as the direct one, and the receiver's context
 * switches per GiB fell from 3,200-3,900 to 2,600-2,700 with this mark. A copy slow in itself
 * (page cache the VM's host must fault back in: tens of ms) still leaves the event loop. The cost:
 * a chat line can wait behind such a write of up to 8 ms, beside the up to 1 MiB of DATA it waits
 * behind in the relay's hop anyway.
 */
export const RELAY_SLOW_WRITE_MS = 8;
/**
 * While we are chatting (CHAT_ACTIVE_MS) on a direct path, how slow a synchronous file write must
 * be before the next writes go to the thread pool (1 ms otherwise: SLOW_WRITE_MS): 0, so while we
 * chat every write goes to the pool (while a pooled buffer is free) and the loop that reads the
 * peer's lines and sends ours never waits on the file system. A synchronous write waits as long
 * as the file system makes it: both ways through the CLI, `perf trace` saw main-thread writes of
 * 8.6-11.9 ms and pool writes of 123-138 ms (the ext4 journal), and at 0.3 ms (session 9-10) a
 * synchronous write measured again after each 16 MiB the pool took. Both ways through the CLI, 1
 * GiB, 20 ABBA pairs against 0.3 (session 11): chat p99 8.5 -> 3.9 ms (better in 19), max 11.7 ->
 * 7.1 ms (15), for 9% of both ways' throughput (282 -> 256 MiB/s) and 5% more CPU (the pool's
 * hand-offs); one way the same (DESIGN-NOTES.md, "Both ways through the CLI (session 11)"). A
 * receiver that does not chat keeps 1 ms.
 */
export const CHAT_SLOW_WRITE_MS = 0;
/**
 * A synchronous file write this slow stalled on the file system (its thread slept: writeback, the
 * journal), not on a CPU taken away (1-8 ms: RELAY_SLOW_WRITE_MS). While only the peer chats
 * (a receiver whose user types nothing), the writes stay on the loop (SLOW_WRITE_MS: the pool's
 * copy and later ACK cost one way 15% of its throughput, 1,037.9 -> 885.9 MiB/s in 10 of 10 pairs,
 * session 18) until one stalls this long; then they go to the pool while lines go either way
 * (incoming-sinks.ts SessionWriteMark), instead of one more such write every ASYNC_SPAN_BYTES.
 * Session 18, 4 GiB one way through the CLI (the writeback under way from ~2.3 GB dirty here):
 * traced, such writes took 30-38 ms off the CPU in the receiver's loop, each holding the lines
 * meanwhile; up to 483 ms once.
 */
export const FS_STALL_MS = 8;
/**
 * While we are chatting (a line sent in the last CHAT_ACTIVE_MS), a short path's DATA un-ACKed
 * is held to this, whatever the window: the next line waits behind at most this much of the
 * peer's work (opening, hashing and writing about four records, ~1 ms), not a whole window's.
 * Through a relay the window's own minimum (RELAY_MIN_WINDOW_BYTES) stands instead. Four, not
 * two (session 14): with two the sender slept for nearly every ACK, and those wake-ups cost the
 * chat more than two more records ahead of a line do. Real CLI, one way, a line every 20 ms, 1 GiB,
 * interleaved (17 pairs at load 0.2-1.9): 693.5/754 -> 770/834 MiB/s (faster in 15 of 17), both
 * CLIs' voluntary switches 4,648/4,212 -> 2,680/2,948, lines over 5 ms 34/47 -> 17/40, chat p50 1.04/0.94 ->
 * 1.04/1.03 ms, CPU the same; six records gave 840 MiB/s and 17 lines over 5 ms but p50 1.39 ms.
 */
export const CHAT_WINDOW_BYTES = 4 * CHUNK_BYTES;
/**
 * ...and while the peer's DATA comes to us too (both ways at once: some in the last
 * BOTH_WAYS_MS), one record: each side's loop then also sends its own file, so each record of
 * the peer's ahead of a line waits behind our own turns as well. One way a record would cost
 * the sender a third of its throughput (it waits for each ACK); both ways the other direction's
 * work fills that wait.
 */
export const BOTH_WAYS_CHAT_WINDOW_BYTES = CHUNK_BYTES;
/** DATA from the peer this recently means both directions are sending (BOTH_WAYS_CHAT_WINDOW_BYTES). */
export const BOTH_WAYS_MS = 100;
/** How long after our last chat line the chat limits (CHAT_WINDOW_BYTES, CHAT_TURN_DATA_BYTES, CHAT_SLOW_WRITE_MS) hold. */
export const CHAT_ACTIVE_MS = 2_000;
/**
 * The scheduler yields to the event loop after this long writing DATA in one turn of it, so
 * chat and timers run. A chat line can wait one slice on each side: 1 ms took the bench's chat
 * max from 6.6 to 4.8 ms at equal throughput (2 ms before).
 */
export const PUMP_SLICE_MS = 1;
/**
 * ...and after this much DATA in one turn, however fast. Without it each ACK of a turn (the
 * receiver sends several at once) let a pump refill the whole window, so the sender wrote its
 * whole window (3-5 frames, up to 9) per turn before it read its input again, and a typed
 * line waited for that.
 */
export const TURN_DATA_BYTES = 2 * CHUNK_BYTES;
/**
 * ...and while we are chatting, this much: the event loop reads the next typed line after one
 * record's write instead of two.
 */
export const CHAT_TURN_DATA_BYTES = CHUNK_BYTES;
/**
 * Off a short path (from a transfer's first frame until a round trip shows a short path, and
 * on a long one) the kernel holds at most a sixteenth of the send window, and never more than
 * this, of the socket's bytes not yet sent (TCP_NOTSENT_LOWAT; SendWindow.unsentCap): the
 * window's surplus over what the path carries waits unwritten, so a chat line goes ahead of
 * it. Short paths (loopback, a LAN) keep the kernel's default: their window is already about
 * 1 ms of data.
 */
export const LONG_PATH_UNSENT_BYTES = 128 * 1024;
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
/** Folders a peer may send in one session. */
export const MAX_PEER_FOLDERS = 100_000;
/**
 * A peer's folders open at once (offered, not ended whole nor every entry ended): past it the
 * session ends (each is remembered, its entries counted; a sender offers a few at a time).
 */
export const MAX_OPEN_PEER_FOLDERS = 1_024;
/** A peer's ended folders remembered (a late entry declined with its folder); older ones are let go. */
export const MAX_ENDED_PEER_FOLDERS = 1_024;
/** A leader waits this long at most for a dial of its own before picking an accepted connection. */
export const DIAL_WAIT_MS = 1_000;
/** Outgoing transfers offered at once; more wait their turn (a folder's files are pipelined). */
export const MAX_OUTGOING_TRANSFERS = 16;
/** Wrong codes at a listener after which it judges no more attempts (the CLI then stops it). */
export const MAX_WRONG_CODES = 3;
/**
 * Handshakes of accepted connections that have spoken, at once; beyond it the oldest one that
 * has not offered a key share yet makes room. Guessing is bounded by MAX_WRONG_CODES (counted
 * at each share), not by this: it is large so that a flood of HELLOs that never go on must
 * churn through many places before it reaches the real peer's (which sends its share at once).
 * Soak (bun run soak 60 half, 17 connections): with 16 places the real sender was pushed out.
 */
export const MAX_ACCEPTED_HANDSHAKES = 64;
/**
 * Accepted connections that have not sent a byte yet, at once; beyond it the oldest silent one
 * is dropped (a real peer speaks at once, so a pool of idle connections cannot lock it out).
 */
export const MAX_SILENT_CONNECTIONS = 64;
/** Silent connections from one address at once; beyond it that address's oldest one goes. */
export const MAX_SILENT_PER_ADDRESS = 32;
/** A connection must send its HELLO within this long (Parley sends it first thing). */
export const FIRST_HELLO_MS = 2_000;
