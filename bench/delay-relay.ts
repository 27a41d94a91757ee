/**
 * A link with a long round trip, on loopback, for `bun run bench`: a TCP relay on 127.0.0.1
 * in front of <target-port> that holds every byte <delay-ms> before passing it on, each way
 * (so the round trip grows by twice that). Two models of the path (DESIGN-NOTES: long link):
 *
 * - `tcp` (the default): each direction sends no more than a Linux TCP stream on a real path of
 *   that round trip could have in flight (bench/lib/tcp-path-window.ts: slow start from 10
 *   segments, doubling a round trip, up to this machine's socket-buffer cap), and frees that
 *   room one round trip after sending (its bytes written to the far socket after <delay-ms>,
 *   their ACK back after another). Beyond the window it stops reading, so the sender's socket
 *   fills as a real sender's would. Any stream through it, plain TCP or Parley, pays the same
 *   ramp and the same cap.
 * - `unbounded` (the model of before): reads everything at once and holds it with no limit. A
 *   sender's kernel then sees only the loopback hop (a TCP-splitting proxy): a plain TCP
 *   stream runs at the relay's speed from its first byte, while an application window must
 *   carry the whole bandwidth-delay product. Kept so the two figures can be compared.
 *
 * Each queue is in arrival order with one timer: an item leaves once performance.now() has
 * passed its due time. A plain setTimeout(delay) per chunk is not enough: timers count from the
 * event loop's time at the start of its turn, so a chunk read late in a busy turn left up to
 * that turn's length early (round trips of 28 ms on a 40 ms link under load).
 *
 * In the `tcp` model the relay's sockets keep a receive buffer of --recv-buffer bytes (32 KiB
 * by default; the kernel doubles it; 0: its own autotuning). Bytes the window has no room for
 * must wait in the sender's kernel, as on a real path, where TCP_NOTSENT_LOWAT can hold them
 * back: autotuned on loopback, the relay's buffer took 0.5-4 MiB of them (the sender saw them
 * as sent). At 128 KiB (before) it still held ~200 KB in its kernel and read 90-200 KB more
 * than the window had room for, about half of what sat ahead of a chat line on the stream
 * (~590 KB at the median): a queue no real path has outside the sender. At 32 KiB that is ~60
 * KB and ~33 KB, and plain TCP (socat) through it is no slower; 16 KiB stalled runs.
 *
 * With --pace 1 the `tcp` model also paces each direction as Linux paces a TCP socket whose
 * congestion control asks for it (BBR, this machine's): at most 2x the window a round trip while
 * it grows, 1.2x once at its cap, in bursts of 1 ms of that (bench/lib/tcp-path-window.ts).
 * Without it bytes go through in the lumps the relay's timers make (a late timer releases all
 * that is due; the ACKs of a lump come back as one a round trip later). Off by default: on this
 * busy 2-core host a userspace pacer's timers fall behind its pace (DESIGN-NOTES, the long link).
 *
 *   bun bench/delay-relay.ts <target-port> <delay-ms> [--model tcp|unbounded] [--cap BYTES]
 *                            [--recv-buffer BYTES] [--also PORT] [--pace 0|1]
 *   prints "RELAY <port>" and runs until killed; --cap overrides the in-flight cap of `tcp`;
 *   --also PORT: a second listening port, in front of PORT, through the same hop (the same
 *   process, model and delay; each connection its own TCP window): "RELAY <port> <also-port>"
 */

import { readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { setReceiveBuffer } from "./lib/receive-buffer.ts";
import { TcpPathWindow } from "./lib/tcp-path-window.ts";

/** A 1500-byte-MTU path's segment payload with TCP timestamps on. */
const MSS = 1448;
/** RFC 6928, Linux's TCP_INIT_CWND. */
const INITIAL_SEGMENTS = 10;

function usage(message: string): never {
  process.stderr.write(
    `delay-relay: ${message}\nusage: delay-relay.ts <target-port> <delay-ms> [--model tcp|unbounded] [--cap BYTES] [--recv-buffer BYTES] [--also PORT] [--pace 0|1]\n`,
  );
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        model: { type: "string", default: "tcp" },
        cap: { type: "string" },
        "recv-buffer": { type: "string", default: String(32 * 1024) },
        also: { type: "string" },
        pace: { type: "string", default: "0" },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
})();
const [target, delay] = positionals.map(Number);
if (!target || delay === undefined || Number.isNaN(delay)) usage("a target port and a delay in ms are needed");
if (values.model !== "tcp" && values.model !== "unbounded") usage(`unknown model ${values.model}`);
const holdMs: number = delay;
const alsoTarget = values.also === undefined ? undefined : Number(values.also);
if (alsoTarget !== undefined && !(alsoTarget > 0)) usage(`bad --also ${values.also}`);

/** The third number of a /proc/sys triple (net/ipv4/tcp_wmem: min, default, max). */
function sysctlMax(path: string): number | undefined {
  try {
    const values = readFileSync(path, "utf8").trim().split(/\s+/).map(Number);
    return values.length === 3 && values.every(Number.isFinite) ? values[2] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The most a TCP stream with autotuned buffers may have in flight on this machine: the send
 * buffer's maximum (un-ACKed bytes stay in it) or the receive window's (about half the receive
 * buffer's maximum), the smaller. Linux's defaults (4 MiB, 6 MiB) where /proc/sys is unreadable.
 */
function inFlightCap(): number {
  const sendBufferMax = sysctlMax("/proc/sys/net/ipv4/tcp_wmem") ?? 4 * 2 ** 20;
  const receiveWindowMax = (sysctlMax("/proc/sys/net/ipv4/tcp_rmem") ?? 6 * 2 ** 20) / 2;
  return Math.min(sendBufferMax, receiveWindowMax);
}
const capBytes = values.cap ? Number(values.cap) : inFlightCap();
if (!(capBytes > 0)) usage(`bad --cap ${values.cap}`);
const paced = values.pace === "1";
if (values.pace !== "0" && values.pace !== "1") usage(`bad --pace ${values.pace}`);
const receiveBufferBytes = Number(values["recv-buffer"]);
if (!(receiveBufferBytes >= 0)) usage(`bad --recv-buffer ${values["recv-buffer"]}`);

/** Items in due order, one timer: `leave` gets each once performance.now() reaches its due time. */
class DueQueue<T> {
  private readonly items: Array<{ readonly due: number; readonly item: T }> = [];
  private armed = false;
  private readonly leave: (item: T) => void;

  constructor(leave: (item: T) => void) {
    this.leave = leave;
  }

  push(due: number, item: T): void {
    this.items.push({ due, item });
    this.arm();
  }

  private arm(): void {
    const head = this.items[0];
    if (this.armed || !head) return;
    this.armed = true;
    setTimeout(() => this.fire(), Math.max(1, Math.ceil(head.due - performance.now())));
  }

  private fire(): void {
    this.armed = false;
    while (this.items.length > 0 && (this.items[0] as { due: number }).due <= performance.now()) {
      this.leave((this.items.shift() as { item: T }).item);
    }
    this.arm();
  }
}

/** The model of before: every chunk held `holdMs`, read at once, no limit on what is held. */
function forwardUnbounded(from: Socket, to: Socket): void {
  const line = new DueQueue<Buffer | null>((chunk) => (chunk === null ? to.end() : to.write(chunk)));
  from.on("data", (chunk: Buffer) => line.push(performance.now() + holdMs, Buffer.from(chunk)));
  from.on("end", () => line.push(performance.now() + holdMs, null));
  from.on("error", () => to.destroy());
}

/** The TCP model: at most a TCP window in flight; its room comes back a round trip after sending. */
function forwardTcp(from: Socket, to: Socket): void {
  const window = new TcpPathWindow({ mss: MSS, initialSegments: INITIAL_SEGMENTS, capBytes, rttMs: 2 * holdMs, paced });
  /** A pacing timer is set: admit() runs again when the pace allows the next burst. */
  let paceTimer = false;
  /** Read but not yet sent: the window was full (the sender's socket buffer, in a real path). */
  const unsent: Buffer[] = [];
  let endRead = false;
  const acks = new DueQueue<number>((bytes) => {
    window.acked(bytes);
    admit();
  });
  const line = new DueQueue<Buffer | null>((chunk) => {
    if (chunk === null) {
      to.end();
      return;
    }
    // The far end's ACK leaves once its kernel has the bytes, and takes holdMs to come back.
    to.write(chunk, () => acks.push(performance.now() + holdMs, chunk.length));
  });
  const admit = (lateMs = 0): void => {
    const now = performance.now();
    let room = window.room(now, lateMs);
    while (unsent.length > 0 && room > 0) {
      const head = unsent[0] as Buffer;
      const piece = head.length > room ? head.subarray(0, room) : head;
      if (piece === head) unsent.shift();
      else unsent[0] = head.subarray(room);
      room -= piece.length;
      window.sent(piece.length, now);
      line.push(now + holdMs, piece);
    }
    if (unsent.length > 0) {
      // Held back by the pace (not the window): try again once it allows the next burst.
      const wait = window.paceWaitMs((unsent[0] as Buffer).length, performance.now());
      if (wait > 0 && !paceTimer && window.bytesInFlight < Math.min(window.congestionWindow, capBytes)) {
        paceTimer = true;
        const due = performance.now() + wait;
        setTimeout(
          () => {
            paceTimer = false;
            admit(performance.now() - due);
          },
          Math.max(1, Math.ceil(wait)),
        );
      }
      return;
    }
    if (endRead) {
      endRead = false;
      line.push(now + holdMs, null);
    }
    if (from.isPaused()) from.resume();
  };
  from.on("data", (chunk: Buffer) => {
    unsent.push(Buffer.from(chunk));
    admit();
    if (unsent.length > 0) from.pause(); // the window is full: the sender's socket fills
  });
  from.on("end", () => {
    endRead = true;
    admit();
  });
  from.on("error", () => to.destroy());
}

const forward = values.model === "tcp" ? forwardTcp : forwardUnbounded;

/** Listens on a free port of 127.0.0.1; each connection is relayed to `targetPort` through the hop. */
function relayTo(targetPort: number): Promise<number> {
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    if (values.model === "tcp" && receiveBufferBytes > 0) {
      setReceiveBuffer(client, receiveBufferBytes);
      upstream.once("connect", () => setReceiveBuffer(upstream, receiveBufferBytes));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    }),
  );
}

const ports = [await relayTo(target)];
if (alsoTarget !== undefined) ports.push(await relayTo(alsoTarget));
process.stdout.write(`RELAY ${ports.join(" ")}\n`);
