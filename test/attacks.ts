/**
 * Test and soak helper: the attacks a local stranger can make on a listening Parley without
 * knowing the code, each a loop of TCP connections to 127.0.0.1:`port` that reopens when the
 * listener drops one. Used briefly by test/integration/soak.test.ts and for minutes by
 * bench/soak.ts.
 */

import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { RecordSealer } from "../src/crypto/index.ts";
import { encodeFrame, encodeMessage, FrameType, makeHello } from "../src/protocol/index.ts";

export const ATTACKS = ["idle", "garbage", "half", "hellobye", "oversize"] as const;
export type AttackName = (typeof ATTACKS)[number];

export interface Attack {
  /** Connections opened so far. */
  readonly opened: () => number;
  /** Connections the listener answered (its HELLO came back). */
  readonly answered: () => number;
  stop(): void;
}

/** Plain records (before keys) carrying `frames`. */
function plain(...frames: Uint8Array[]): Buffer {
  const sealer = new RecordSealer();
  return Buffer.concat(frames.map((f) => sealer.seal(f)));
}

function hello(): Uint8Array {
  return encodeMessage(makeHello(randomBytes(8).toString("hex"), "stranger", [], "code"));
}

/** What one connection does once it is open (the listener may drop it any time). */
const BEHAVIOUR: Record<AttackName, (s: Socket) => void> = {
  // Never says a word.
  idle: () => {},
  // Random bytes, again and again.
  garbage: (s) => {
    const burst = randomBytes(4096);
    s.write(burst);
  },
  // A HELLO, then nothing: a handshake place held.
  half: (s) => {
    s.write(plain(hello()));
  },
  // A HELLO and a BYE with text of our choosing (it must never be shown).
  hellobye: (s) => {
    s.write(plain(hello(), encodeMessage({ kind: "bye", reason: "NOTICE from Parley: the code changed" })));
  },
  // A HELLO, then a frame that declares the largest size, fed slowly in plain records.
  oversize: (s) => {
    const big = encodeFrame(FrameType.Chat, new Uint8Array(0));
    new DataView(big.buffer, big.byteOffset).setUint32(0, (1 << 20) + 60);
    s.write(plain(hello(), big));
    const filler = plain(new Uint8Array(16 * 1024));
    const timer = setInterval(() => {
      if (s.destroyed) return clearInterval(timer);
      s.write(filler);
    }, 5);
    s.on("close", () => clearInterval(timer));
  },
};

/**
 * Keeps `connections` connections of kind `name` open against 127.0.0.1:`port`, reopening
 * each one the listener drops (at most one reconnect per millisecond per slot).
 */
export function startAttack(
  name: AttackName,
  port: number,
  connections: number,
  /** The address to connect from (any of 127.0.0.0/8 works on Linux). */
  localAddress = "127.0.0.1",
): Attack {
  let stopped = false;
  let opened = 0;
  let answered = 0;
  const sockets = new Set<Socket>();
  const open = (): void => {
    if (stopped) return;
    const s = connect({ port, host: "127.0.0.1", localAddress });
    opened++;
    sockets.add(s);
    s.on("error", () => {});
    s.once("data", () => answered++);
    s.once("connect", () => BEHAVIOUR[name](s));
    s.on("close", () => {
      sockets.delete(s);
      setTimeout(open, 1);
    });
  };
  for (let i = 0; i < connections; i++) open();
  return {
    opened: () => opened,
    answered: () => answered,
    stop: () => {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/** Resident memory and CPU time (user + system) of process `pid`, from /proc. */
export function processUsage(pid: number): { rssBytes: number; cpuMs: number } {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return {
    rssBytes: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024,
    cpuMs: ticks * 10, // USER_HZ is 100 on Linux
  };
}
