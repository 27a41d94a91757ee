/**
 * Connection: one TCP socket from Bun.listen / Bun.connect, bytes only.
 *
 * Bun's `socket.write()` returns how many bytes the kernel took and drops the rest, so this
 * class keeps the unwritten tail of a short write (and anything written after it) in a queue
 * and resumes from the `drain` event. `queuedBytes` tells the scheduler how much is waiting
 * in userspace; `onDrain` fires when that queue has emptied.
 */

import type { Socket } from "bun";
import { ReceiveLowWater } from "./receive-low-water.ts";
import { setNotSentLowWater, setReceiveLowWater } from "./tcp-options.ts";

export interface ConnectionEvents {
  /**
   * Bytes from the peer. The chunk is valid only during this call (a record layer above the
   * socket hands up views of a buffer it reuses): copy what must be kept.
   */
  onData(chunk: Uint8Array): void;
  /** The userspace queue emptied: the scheduler may write more. */
  onDrain(): void;
  /** The socket closed (by either side, or on error). Fires once. */
  onClose(error?: Error): void;
}

/** What the session needs from a connection; tests can drive it with an in-memory pair. */
export interface Connection {
  /** "127.0.0.1:40123" of the peer end. */
  readonly remoteAddress: string;
  /** Bytes accepted by `write` but not yet taken by the kernel. */
  readonly queuedBytes: number;
  readonly closed: boolean;
  /**
   * True when every chunk handed to onData is a buffer of its own that nothing else refers to
   * (a socket read): the reader may keep it past the call, and may release (detach) it once
   * read, handing its memory straight back (crypto/record.ts). Absent: chunks may be views of
   * buffers someone else reuses.
   */
  readonly freshChunks?: boolean;
  /** Queues `bytes` after what is already queued. `bytes` must not change until written. */
  write(bytes: Uint8Array): void;
  /**
   * Caps the bytes the kernel holds not yet sent (TCP_NOTSENT_LOWAT) at `bytes`, 0 lifts the cap:
   * what the path cannot take yet then waits in this queue, where the next frame may go first.
   * Absent, or false: not capped (not a TCP socket, not Linux).
   */
  limitUnsent?(bytes: number): boolean;
  /**
   * The reader can use nothing until `bytes` more bytes have arrived (the rest of a record it has
   * begun; a small number once it could use any byte again): the connection may hold back its
   * next onData until then (SO_RCVLOWAT, receive-low-water.ts), one read instead of one per
   * piece. Absent: every byte is handed up as it comes.
   */
  expectBytes?(bytes: number): void;
  /**
   * Stops (true) or resumes (false) reading the socket: what the peer sends then waits in the
   * kernels, and TCP's flow control holds the peer back. For a reader with no window of its own
   * that cannot take more for now (a plain wormhole sender's records, an output that is full).
   * Absent: reading never stops.
   */
  pauseReading?(paused: boolean): void;
  /**
   * Graceful close: flushes the queue, sends FIN, keeps reading until the peer closes too (so
   * unread bytes never make the kernel answer with a reset that would discard what we sent
   * last, such as BYE). After `timeoutMs` at the latest it closes anyway, at once: without a
   * reset when every byte reached the kernel (which still delivers them, also to a peer that
   * was stopped and reads them later), with one when some never left the queue.
   */
  end(timeoutMs?: number): void;
  /** Closes now, dropping anything queued. */
  destroy(): void;
  setEvents(events: ConnectionEvents): void;
}

/** What may wait for an owner: far more than any first message (a HELLO is under 1 KiB). */
export const EARLY_MAX_BYTES = 1024 * 1024;

const NO_EVENTS: ConnectionEvents = { onData() {}, onDrain() {}, onClose() {} };

export class SocketConnection implements Connection {
  /** Bun hands every read to the `data` handler in a new buffer of its own. */
  readonly freshChunks = true;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private events: ConnectionEvents = NO_EVENTS;
  private isClosed = false;
  private ending = false;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  /** A data handler is running (a write that fails meanwhile closes once it returns). */
  private reading = false;
  /** A write failed: nothing more goes out; the close waits for the read's end (failWrite). */
  private writeFailed = false;
  /**
   * Data that arrived before an owner set its events (the first bytes can race the handshake,
   * and a listener may accept before its session code has loaded): handed over, in order, by
   * setEvents, also when the peer closed meanwhile. More than EARLY_MAX_BYTES ends the connection.
   */
  private early: Uint8Array[] | undefined = [];
  private earlyBytes = 0;
  /**
   * The owner called destroy() or end(): setEvents hands it no more of what came before it. Reads
   * after end() still go to it (end() reads on until the peer closes: its owner ignores them).
   */
  private released = false;
  private replaying = false;
  private closeError: Error | undefined;
  private readonly lowWater = new ReceiveLowWater((bytes) => setReceiveLowWater(this.fd, bytes));

  constructor(
    private readonly socket: Socket<unknown>,
    readonly remoteAddress: string,
  ) {}

  get queuedBytes(): number {
    return this.queued;
  }

  /** Closed (false while setEvents hands over what came before a close: the owner reads it as it came). */
  get closed(): boolean {
    return this.isClosed && !this.replaying;
  }

  setEvents(events: ConnectionEvents): void {
    this.events = events;
    const closedBefore = this.isClosed;
    const early = this.early ?? [];
    this.early = undefined;
    this.replaying = closedBefore;
    try {
      for (const chunk of early) {
        // The owner let go, or the connection closed while it read (it was told then).
        if (this.released || (this.isClosed && !closedBefore)) break;
        events.onData(chunk);
      }
    } finally {
      this.replaying = false;
    }
    if (closedBefore) events.onClose(this.closeError);
  }

  /** Whether the bytes that came before an owner set its events start with all of `prefix`. */
  earlyStartsWith(prefix: Uint8Array): boolean {
    if (!this.early || this.earlyBytes < prefix.length) return false;
    let at = 0;
    for (const chunk of this.early) {
      for (let i = 0; i < chunk.length && at < prefix.length; i++, at++) if (chunk[i] !== prefix[at]) return false;
      if (at === prefix.length) break;
    }
    return true;
  }

  write(bytes: Uint8Array): void {
    // After end() nothing more goes out: the FIN is on its way or queued behind the last bytes.
    if (this.isClosed || this.ending || this.writeFailed || bytes.length === 0) return;
    if (this.queue.length > 0) {
      this.queue.push(bytes);
      this.queued += bytes.length;
      return;
    }
    const n = this.socket.write(bytes);
    if (n < 0) return this.failWrite();
    if (n < bytes.length) {
      const rest = bytes.subarray(n);
      this.queue.push(rest);
      this.queued += rest.length;
    }
  }

  limitUnsent(bytes: number): boolean {
    if (this.isClosed) return false;
    return setNotSentLowWater(this.fd, bytes);
  }

  expectBytes(bytes: number): void {
    // Not once end() began: what comes then must be read at once (end() says why).
    if (!this.isClosed && !this.ending) this.lowWater.expect(bytes);
  }

  pauseReading(paused: boolean): void {
    if (this.isClosed) return;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  /** The socket's descriptor (Bun has it at run time, its types do not), -1 when unknown. */
  get fd(): number {
    return (this.socket as unknown as { fd?: number }).fd ?? -1;
  }

  end(timeoutMs = 2000): void {
    this.released = true;
    if (this.isClosed || this.ending) return;
    this.ending = true;
    // Whatever comes now is read at once (expectBytes no longer raises the mark, a pause ends):
    // bytes left unread in the kernel would make the close after the budget a reset.
    this.lowWater.expect(0);
    this.socket.resume();
    this.endTimer = setTimeout(() => this.closeAfterFlush(), timeoutMs);
    if (this.queue.length === 0) this.socket.shutdown();
  }

  /**
   * end()'s budget is over and the peer has not closed (it may be stopped: SIGSTOP, a suspended
   * laptop). Every byte in the kernel: close without a reset (Bun's end() after the shutdown is a
   * plain close(2)); the kernel delivers them and the FIN, to a stopped peer once it runs again. A
   * reset (terminate(): SO_LINGER 0) would make that peer's first answer fail, and a reader that
   * treats the failed write as the end loses what it had not handled yet (the BYE). Bytes still
   * queued here never left: the peer cannot get our last word anyway, so reset.
   */
  private closeAfterFlush(): void {
    if (this.isClosed) return;
    if (this.queue.length > 0) return this.destroy();
    this.socket.end();
    this.handleClose();
  }

  destroy(): void {
    this.released = true;
    if (this.isClosed) return;
    this.socket.terminate();
    this.handleClose();
  }

  /** Socket handler: `data`. */
  handleData(chunk: Uint8Array): void {
    if (this.early) {
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > EARLY_MAX_BYTES && !this.isClosed) {
        this.socket.terminate();
        this.handleClose();
      }
      return;
    }
    this.reading = true;
    try {
      this.events.onData(chunk);
    } catch (err) {
      // A bug above us: close this connection, and let the error surface as what it is
      // (main.ts reports an internal error) instead of vanishing in the socket's error path.
      this.destroy();
      queueMicrotask(() => {
        throw err;
      });
    } finally {
      this.reading = false;
    }
    if (this.writeFailed) this.handleClose();
  }

  /**
   * The kernel refused a write (the peer reset the connection, or it is gone). What it sent
   * before is still the peer's (a BYE behind the OFFER whose answer failed): the reader handles
   * the rest of this read, and the connection closes when the read is over. Outside a read (a
   * drain, a file read's turn), a turn of the loop later: Bun first hands up what the kernel
   * holds for us (the BYE of a peer that closed while we were stopped, our write after the
   * resume drawing its reset), then closes; closed at once, it was lost.
   */
  private failWrite(): void {
    this.writeFailed = true;
    this.queue.length = 0;
    this.queued = 0;
    if (!this.reading) setTimeout(() => this.handleClose(), 0);
  }

  /** Socket handler: `drain`. Writes from the queue until it is empty or the kernel is full. */
  handleDrain(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0] as Uint8Array;
      const n = this.socket.write(head);
      if (n < 0) return this.failWrite();
      this.queued -= Math.max(n, 0);
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return; // short write: the next drain resumes here
      }
      this.queue.shift();
    }
    if (this.ending) {
      this.socket.shutdown();
      return;
    }
    this.events.onDrain();
  }

  /** Socket handler: `close` / `error` / `end`. */
  handleClose(error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = error;
    clearTimeout(this.endTimer);
    this.queue.length = 0;
    this.queued = 0;
    this.events.onClose(error);
  }
}
