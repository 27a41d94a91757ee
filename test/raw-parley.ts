/**
 * Test helper: a hand-made Parley client on a plain node:net socket, speaking the real
 * handshake (the project's own pure Handshake over plain records, then READY), and then
 * whatever frames a test wants, sealed: a peer that is authenticated and hostile. Also what it
 * was told (its control messages) and a poll for what a test waits on.
 */

import { connect, type Socket } from "node:net";
import { loadPake, RecordOpener, RecordSealer } from "../src/crypto/index.ts";
import {
  type ControlFrame,
  encodeDataHeader,
  encodeMessage,
  type Frame,
  FrameDecoder,
  FrameType,
  type Message,
  parseMessage,
} from "../src/protocol/index.ts";
import { Handshake } from "../src/session/handshake.ts";
import { createDigest } from "../src/transfer/checksum.ts";

export interface RawParley {
  readonly socket: Socket;
  /** Frames received after the handshake. */
  readonly frames: Frame[];
  /** Sends frame bytes (one or several whole frames) in one sealed record. */
  send(frames: Uint8Array): void;
  /** Stops reading (the kernel buffers fill up). */
  stopReading(): void;
  startReading(): void;
}

/**
 * Connects to a Parley listener on 127.0.0.1:`port` and completes the handshake.
 * @param leader - true: our nonce is the largest, we send READY; false: the smallest, we wait for it
 * @param words - the listener's code words; none: port-only mode
 */
export async function rawParley(
  port: number,
  options: {
    leader: boolean;
    words?: string;
    /** Frames to put in the same plain record as our CONFIRM (what a man in the middle could try). */
    appendToConfirm?: Uint8Array;
    /** Close right after sending our share, once the listener's CONFIRM is in (a guess that never confirms). */
    closeAfterShare?: boolean;
    /** Called when the listener's HELLO is in; our share goes out once it resolves. */
    beforeShare?: () => Promise<void>;
    /** Leader: resolve once confirmed but never send READY (a candidate that holds its place). */
    holdReady?: boolean;
    /** Our HELLO's features (default: this build's, OWN_FEATURES): an older peer's. */
    features?: readonly string[];
  },
): Promise<RawParley> {
  await loadPake();
  const nonce = options.leader ? "ffffffffffffffff" : "0000000000000001";
  const started = performance.now();
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const sealer = new RecordSealer();
  const opener = new RecordOpener();
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let ready = false;
  // The project's own pure handshake, as the dialer; only the socket is ours.
  const handshake = new Handshake({
    role: "dialer",
    nonce,
    name: "raw",
    words: options.words ?? "",
    ...(options.features ? { features: options.features } : {}),
  });
  const write = (frame: Uint8Array) => socket.write(sealer.seal(frame));
  const done = new Promise<void>((resolve, reject) => {
    // How far it got and when: a listener drops a handshake not done in 5 s (HELLO_TIMEOUT_MS).
    socket.on("close", () =>
      reject(
        new Error(
          `closed during the handshake (ours ${handshake.state}, ${Math.round(performance.now() - started)} ms after the dial)`,
        ),
      ),
    );
    const onFrame = (frame: Frame): void => {
      if (ready) {
        frames.push(frame);
        return;
      }
      if (handshake.state === "confirmed") {
        if (frame.type !== FrameType.Ready) reject(new Error(`unexpected frame 0x${frame.type.toString(16)}`));
        ready = true;
        return resolve();
      }
      const step = handshake.receive(frame);
      if (step.sealWith && options.closeAfterShare) {
        socket.destroy();
        return reject(new Error("closed after the share, as asked"));
      }
      for (const bytes of step.send) {
        write(step.sealWith && options.appendToConfirm ? Buffer.concat([bytes, options.appendToConfirm]) : bytes);
      }
      if (step.sealWith) sealer.setKey(step.sealWith);
      if (step.error) return reject(new Error(`handshake failed: ${step.error.code}`));
      if (step.done) {
        opener.setKey(step.done.openWith);
        if (options.leader && options.holdReady) return resolve();
        if (options.leader) {
          write(encodeMessage({ kind: "ready" }));
          ready = true;
          resolve();
        }
      }
    };
    const take = (bytes: Uint8Array): void => {
      opener.feed(bytes);
      // One record at a time: a key set while handling one applies to the next.
      for (let record = opener.next(); record !== undefined; record = opener.next()) {
        for (const frame of decoder.push(record)) onFrame(frame);
      }
    };
    // With beforeShare, everything from the listener's HELLO on waits until it resolves.
    let held: Promise<void> | undefined;
    socket.on("data", (chunk) => {
      const bytes = new Uint8Array(chunk as Buffer);
      if (options.beforeShare && !held) held = options.beforeShare();
      if (held) held = held.then(() => take(bytes));
      else take(bytes);
    });
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  for (const bytes of handshake.start().send) write(bytes);
  await done;
  socket.removeAllListeners("close");
  return {
    socket,
    frames,
    send: (bytes) => write(bytes),
    stopReading: () => socket.pause(),
    startReading: () => socket.resume(),
  };
}

/** The control messages `raw` has received so far, in order (DATA left out). */
export function messagesOf(raw: RawParley): Message[] {
  return raw.frames.flatMap((f) => (f.type === FrameType.Data ? [] : [parseMessage(f as ControlFrame)]));
}

/**
 * Polls `get` every 5 ms until it gives a value, `tries` times at most. `false` is no value: a
 * condition (`() => pongs() > before`) is waited for, not taken at once (tmux's --ask case's
 * "PONG" returned before the PONG came, session 32).
 * @throws Error "never: WHAT" (with `describe()`'s text, e.g. a CLI's output) when it never does
 */
export async function until<T>(
  what: string,
  get: () => T | undefined | false,
  tries: number,
  describe: () => string = () => "",
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    await Bun.sleep(5);
  }
  const more = describe();
  throw new Error(`never: ${what}${more ? `\n${more}` : ""}`);
}

/** A file's whole bytes as a sender of this build sends them: DATA, then END with their XXH3 digest. */
export function dataAndEnd(id: number, bytes: Uint8Array): Buffer {
  const digest = createDigest("xxh3");
  digest.update(bytes);
  const end = encodeMessage({ kind: "end", id, bytes: bytes.length, algo: "xxh3", digest: digest.hex() });
  return Buffer.concat([encodeDataHeader(id, bytes.length), bytes, end]);
}

/** ACCEPTs every OFFER `raw` has received and not yet answered (`answered` keeps the ids). */
export function acceptOffers(raw: RawParley, answered: Set<number>): void {
  for (const m of messagesOf(raw)) {
    if (m.kind !== "offer" || answered.has(m.id)) continue;
    answered.add(m.id);
    raw.send(encodeMessage({ kind: "accept", id: m.id, offset: 0 }));
  }
}
