/**
 * Test helper: a hand-made Parley client on a plain node:net socket, speaking the real
 * handshake (records, HELLO, CPace share, key confirmation, READY) with the project's own
 * primitives, and then whatever frames a test wants, sealed: a peer that is authenticated
 * and hostile.
 */

import { connect, type Socket } from "node:net";
import {
  type ConnectionKeys,
  finishPake,
  loadPake,
  type PakeStart,
  RecordOpener,
  RecordSealer,
  sessionId,
  startPake,
} from "../src/crypto/index.ts";
import { encodeMessage, type Frame, FrameDecoder, FrameType, makeHello } from "../src/protocol/index.ts";

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
  },
): Promise<RawParley> {
  await loadPake();
  const nonce = options.leader ? "ffffffffffffffff" : "0000000000000001";
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const sealer = new RecordSealer();
  const opener = new RecordOpener();
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let pake: PakeStart | undefined;
  let keys: ConnectionKeys | undefined;
  let sid: Uint8Array = new Uint8Array(0);
  let ready = false;
  const words = options.words ?? "";
  const mode = words ? "code" : "port";
  const write = (frame: Uint8Array) => socket.write(sealer.seal(frame));
  const ownHello = encodeMessage(makeHello(nonce, "raw", [], mode));
  const done = new Promise<void>((resolve, reject) => {
    socket.on("close", () => reject(new Error("closed during the handshake")));
    const onFrame = (frame: Frame): void => {
      if (ready) {
        frames.push(frame);
        return;
      }
      if (frame.type === FrameType.Hello) {
        const peerNonce = JSON.parse(new TextDecoder().decode(frame.payload)).nonce as string;
        sid = sessionId(ownHello.subarray(5), frame.payload);
        pake = startPake(words, mode, sid);
        write(encodeMessage({ kind: "share", share: pake.share }));
        (onFrame as { peerNonce?: string }).peerNonce = peerNonce;
      } else if (frame.type === FrameType.Share && pake) {
        const peerNonce = (onFrame as { peerNonce?: string }).peerNonce as string;
        keys = finishPake("dialer", pake, sid, frame.payload, nonce, peerNonce);
        if (options.closeAfterShare) {
          socket.destroy();
          reject(new Error("closed after the share, as asked"));
          return;
        }
        const confirm = encodeMessage({ kind: "confirm", mac: keys.confirm });
        write(options.appendToConfirm ? Buffer.concat([confirm, options.appendToConfirm]) : confirm);
        sealer.setKey(keys.sendKey);
      } else if (frame.type === FrameType.Confirm && keys) {
        opener.setKey(keys.receiveKey);
        if (options.leader) {
          write(encodeMessage({ kind: "ready" }));
          ready = true;
          resolve();
        }
      } else if (frame.type === FrameType.Ready) {
        ready = true;
        resolve();
      } else if (!ready) reject(new Error(`unexpected frame 0x${frame.type.toString(16)} in the handshake`));
    };
    socket.on("data", (chunk) => {
      opener.feed(new Uint8Array(chunk as Buffer));
      // One record at a time: a key set while handling one applies to the next.
      for (let record = opener.next(); record !== undefined; record = opener.next()) {
        for (const frame of decoder.push(record)) onFrame(frame);
      }
    });
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  write(ownHello);
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
