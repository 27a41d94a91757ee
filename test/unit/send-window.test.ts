/**
 * SendWindow, driven by a simulated path: a link of a given round trip and rate, a sender that
 * sends whenever the window allows, ACKs coming back one round trip later.
 */

import { describe, expect, test } from "bun:test";
import {
  LONG_PATH_UNSENT_BYTES,
  RELAY_MIN_WINDOW_BYTES,
  RELAY_WINDOW_BYTES,
  WINDOW_BYTES,
  WINDOW_CAP_BYTES,
} from "../../src/session/limits.ts";
import { SendWindow, SHORT_MIN_BYTES, stepsOf, YOUNG_WINDOW_BYTES } from "../../src/session/send-window.ts";

const FRAME = 256 * 1024;
const ACK_EVERY = 192 * 1024;

/**
 * Runs `ms` of simulated time in 0.05 ms steps over a path of `rttMs` that delivers at most
 * `bytesPerMs`. @returns the window after each simulated round trip
 */
function simulate(
  window: SendWindow,
  rttMs: number,
  bytesPerMs: number,
  ms: number,
  options: {
    peerSends?: boolean;
    mostInFlight?: number;
    rttAt?: (now: number) => number;
    /** The receiver ACKs every this many bytes (ACK_EVERY unless given). */
    ackEvery?: number;
    /** ms an ACK written `now` waits behind the peer's DATA before its half round trip back. */
    ackQueueAt?: (now: number) => number;
  } = {},
): number[] {
  const step = 0.05;
  let sent = 0;
  let acked = 0;
  let linkFreeAt = 0;
  const ackEvery = options.ackEvery ?? ACK_EVERY;
  let nextAck = ackEvery;
  const arrivals: Array<{ at: number; end: number }> = []; // frames reaching the receiver
  const pendingAcks: Array<{ at: number; bytes: number }> = []; // ACKs on their way back
  let consumed = 0;
  const windows: number[] = [];
  let nextRound = rttMs;
  let received = 0; // DATA from the peer (when it sends too)
  for (let now = 0; now < ms; now += step) {
    if (options.peerSends) received += 64 * 1024;
    // The receiver consumes what has arrived and ACKs every ACK_EVERY bytes (half an RTT back).
    while (arrivals.length > 0 && (arrivals[0] as { at: number }).at <= now) {
      consumed = (arrivals.shift() as { end: number }).end;
    }
    while (consumed >= nextAck) {
      const ackBytes = nextAck;
      nextAck += ackEvery;
      const queued = options.ackQueueAt?.(now) ?? 0;
      // Behind the ACKs before it (one stream): never earlier than the last.
      const at = Math.max(now + queued + (options.rttAt?.(now) ?? rttMs) / 2, pendingAcks.at(-1)?.at ?? 0);
      pendingAcks.push({ at, bytes: ackBytes });
    }
    while (pendingAcks.length > 0 && (pendingAcks[0] as { at: number }).at <= now) {
      acked = (pendingAcks.shift() as { bytes: number }).bytes;
      window.acked(acked, now, received);
    }
    // The sender fills the window; the link serialises frames at its rate.
    while (sent - acked < Math.min(window.bytes, options.mostInFlight ?? Number.POSITIVE_INFINITY)) {
      sent += FRAME;
      window.sent(sent, now, received);
      linkFreeAt = Math.max(linkFreeAt, now) + FRAME / bytesPerMs;
      arrivals.push({ at: linkFreeAt + (options.rttAt?.(now) ?? rttMs) / 2, end: sent });
    }
    if (now >= nextRound) {
      windows.push(window.bytes);
      nextRound += rttMs;
    }
  }
  return windows;
}

describe("SendWindow", () => {
  test("starts at 512 KiB, below the floor", () => {
    expect(new SendWindow().bytes).toBe(SHORT_MIN_BYTES);
  });

  test("a cold receiver's long first round trips open the window round by round, not to the floor at once", () => {
    // Loopback, but the receiver's first frames take 30 ms each to come back (JIT, file open):
    // they read as a long path. The window must not put the floor's 1.5 MiB ahead of the first
    // chat lines: it at most doubles a round trip from where it started.
    const window = new SendWindow();
    let sent = 0;
    let acked = 0;
    let now = 0;
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      while (sent - acked < window.bytes) {
        sent += FRAME;
        window.sent(sent, now);
      }
      now += 30;
      acked = sent;
      window.acked(acked, now);
      sizes.push(window.bytes);
    }
    expect(window.minRtt).toBe(30); // read as a long path
    expect(sizes[0]).toBeLessThan(WINDOW_BYTES); // the first round trip: not the floor yet
    sizes.forEach((size, round) => {
      expect(size).toBeLessThanOrEqual(SHORT_MIN_BYTES * 2 ** (round + 1));
    });
  });

  test.each([
    [1_000_000, "1 GB/s"],
    [2_500_000, "2.5 GB/s"],
    [10_000_000, "10 GB/s"],
  ])("on a loopback-like path (0.3 ms) at %d B/ms (%s) it holds at most about a millisecond of data", (rate) => {
    // A chat line waits behind the window: in time, that wait stays about one round trip.
    const window = new SendWindow();
    const rounds = simulate(window, 0.3, rate, 300);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES); // the floor until rates are known
    const steady = rounds.slice(rounds.length / 2);
    expect(Math.max(...steady) / rate).toBeLessThanOrEqual(Math.max(1.1, (512 * 1024) / rate));
    expect(Math.min(...steady)).toBeGreaterThanOrEqual(512 * 1024);
  });

  test("on a 40 ms path it grows until the link, not the window, is the limit", () => {
    const window = new SendWindow();
    // 100 MB/s over 40 ms: about 4 MB in flight fill the link (a fixed 1.5 MiB window: 39 MB/s).
    const rounds = simulate(window, 40, 100_000, 2_000);
    const last = rounds.at(-1) as number;
    expect(last).toBeGreaterThan(4_000_000);
    expect(last).toBeLessThan(1.5 * 1.25 * 4_000_000);
    // Growth is gradual (at most doubling a round trip, and an ACK's bytes as the rounds are
    // counted here; never a jump to the cap), and the
    // start-up's overshoot is at most twice the path's bytes in flight.
    for (let i = 1; i < rounds.length; i++) {
      expect(rounds[i] as number).toBeLessThanOrEqual(2 * (rounds[i - 1] as number) + ACK_EVERY);
    }
    expect(Math.max(...rounds)).toBeLessThanOrEqual(2 * 1.1 * 4_200_000);
  });

  test("on a 40 ms path its start-up reaches the link's bytes in flight in a few round trips, as TCP's does", () => {
    // Sized from the delivery rate alone (GAIN x rate x round trip) the window grew about 1.2x
    // every second round trip past the floor (a rate sample shows a window's growth a round
    // later): 12 round trips from the start to the 4 MB that fill this path, where TCP's slow
    // start takes 8 from 10 segments. The start-up grows ACK by ACK instead, by each byte ACKed
    // as TCP's, bounded by twice the rate a round old (it shows half a doubling window): from
    // 512 KiB 5 round trips (by three quarters and the rate of now: 7).
    const rounds = simulate(new SendWindow(), 40, 100_000, 1_200);
    const full = rounds.findIndex((bytes) => bytes >= 4_000_000);
    expect(full).toBeGreaterThan(0);
    expect(full).toBeLessThanOrEqual(5);
    // Young (a peer that ACKs early): from 8 KiB, 6 round trips (by three quarters: 9).
    const young = simulate(new SendWindow(undefined, undefined, { young: true }), 40, 100_000, 1_200);
    const youngFull = young.findIndex((bytes) => bytes >= 4_000_000);
    expect(youngFull).toBeGreaterThan(0);
    expect(youngFull).toBeLessThanOrEqual(7);
  });

  test("a stall in its first rounds (round trips 25 ms late for a round) does not end its start-up", () => {
    // A loaded host's receiver, cold, answered a round late in its first rounds; a start-up that
    // ended on a round of late round trips (a queue, as HyStart reads it) left the window to the
    // rate rule at ~1 MB: 0.82-0.84x socat on the bench's path. The bound falls back to 2 x the
    // rate while the round trips stand high, and the growth goes on after.
    const rttAt = (now: number) => (now >= 100 && now < 150 ? 65 : 40);
    const rounds = simulate(new SendWindow(), 40, 100_000, 1_200, { rttAt });
    // 7 round trips to the path's 4 MB (5 without the stall); ended at the stall, 13.
    const full = rounds.findIndex((bytes) => bytes >= 4_000_000);
    expect(full).toBeGreaterThan(0);
    expect(full).toBeLessThanOrEqual(8);
  });

  test("its start-up does not grow a window of which less than half is in use (a sender short of data or CPU)", () => {
    const rounds = simulate(new SendWindow(), 40, 100_000, 2_000, { mostInFlight: 1_000_000 });
    // (The last ACK's bytes may land on a window just at twice what was in use.)
    expect(Math.max(...rounds)).toBeLessThanOrEqual(2 * (1_000_000 + FRAME) + ACK_EVERY);
    expect(rounds.at(-1)).toBe(WINDOW_BYTES); // then the floor: the rate rule's, whatever the rate
  });

  test("never exceeds the cap on a fast, long path", () => {
    const window = new SendWindow();
    const rounds = simulate(window, 100, 2_000_000, 3_000);
    expect(rounds.at(-1)).toBe(WINDOW_CAP_BYTES);
  });

  test("a peer that sends DATA and holds every ACK a steady 100 ms gets no bigger window than one that only holds its ACKs", () => {
    // A hostile peer on loopback: its held ACKs make a steady streak (peer-data-rtt.ts), so the
    // path reads as 100 ms long. Without DATA of its own the same hold already read as a long
    // path (clean samples); either way the window stops at the cap.
    const hold = () => 100;
    const withData = new SendWindow();
    const rounds = simulate(withData, 0.3, 2_000_000, 3_000, {
      peerSends: true,
      ackQueueAt: hold,
      ackEvery: 64 * 1024,
    });
    const clean = new SendWindow();
    const cleanRounds = simulate(clean, 0.3, 2_000_000, 3_000, { ackQueueAt: hold, ackEvery: 64 * 1024 });
    expect(withData.longPath && clean.longPath).toBe(true);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(Math.max(...cleanRounds));
    expect(Math.max(...cleanRounds)).toBe(WINDOW_CAP_BYTES);
  });

  test("on a slow long path the unsent cap is a few ms of the path, not a sixteenth of the window's floor", () => {
    // 12 MB/s (100 Mbit/s) over 40 ms: the window stays at its floor (1.5 MiB, a sixteenth of
    // which is 96 KiB: 8 ms of this path ahead of every chat line); the cap is 6 ms of it.
    const slow = new SendWindow();
    simulate(slow, 40, 12_000, 3_000);
    expect(slow.longPath).toBe(true);
    expect(slow.bytes).toBe(WINDOW_BYTES);
    expect(slow.unsentCap).toBe(64 * 1024); // 72 KB in 16 KiB steps
    // At 1.2 MB/s, the smallest step.
    const slower = new SendWindow();
    simulate(slower, 40, 1_200, 6_000);
    expect(slower.unsentCap).toBe(16 * 1024);
    // A fast path keeps the cap (6 ms of 100 MB/s is far above it).
    const fast = new SendWindow();
    simulate(fast, 40, 100_000, 2_000);
    expect(fast.unsentCap).toBe(LONG_PATH_UNSENT_BYTES);
  });

  test("on a slow long path a frame is at most 10 ms of the path, chatting or not", () => {
    // 5.7 MB/s over 40 ms: a quarter of the window (256 KiB) would be 45 ms of this path
    // ahead of a line typed after a silence. (The rate the window reads off bunched ACKs is
    // a little above the path's, hence a range.)
    const slow = new SendWindow();
    simulate(slow, 40, 5_700, 3_000);
    expect(slow.longPath).toBe(true);
    expect(slow.frameBytes()).toBeGreaterThanOrEqual(48 * 1024);
    expect(slow.frameBytes()).toBeLessThanOrEqual(72 * 1024);
    expect(slow.frameBytes(FRAME, true)).toBeLessThanOrEqual(slow.unsentCap / 2);
    // A fast long path keeps whole records.
    const fast = new SendWindow();
    simulate(fast, 40, 100_000, 2_000);
    expect(fast.frameBytes()).toBe(FRAME);
  });

  test("while we chat on a long path a frame is at most half the unsent cap; not chatting, a whole record", () => {
    // The socket reads as writable once its unsent bytes fall under half the cap: a frame no
    // larger than that is taken whole, so no record's tail waits in userspace ahead of a line.
    const window = new SendWindow();
    simulate(window, 40, 100_000, 2_000);
    expect(window.longPath).toBe(true);
    expect(window.unsentCap).toBe(LONG_PATH_UNSENT_BYTES);
    expect(window.frameBytes()).toBe(FRAME);
    expect(window.frameBytes(FRAME, true)).toBe(LONG_PATH_UNSENT_BYTES / 2);
    // A short path keeps whole records either way (no unsent cap there).
    const short = new SendWindow();
    simulate(short, 0.3, 500_000, 100);
    expect(short.shortPath).toBe(true);
    expect(short.frameBytes(FRAME, true)).toBe(FRAME);
  });

  test("below a 5 ms round trip (a LAN, a busy loopback) it never grows past the floor", () => {
    const window = new SendWindow();
    const rounds = simulate(window, 3, 2_000_000, 300);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES);
  });

  test("both ways on a 40 ms path (no clean round trip: the peer's DATA never stops) it grows until the link is the limit", () => {
    // Every ACK comes back behind some of the peer's DATA (0-3 ms of it here). Counting only
    // clean samples the window stayed at its 512 KiB start: 12 MiB/s on the bench's 40 ms path.
    const ackQueueAt = (now: number) => (Math.floor(now) % 7) * 0.5;
    const window = new SendWindow();
    const rounds = simulate(window, 40, 100_000, 2_000, { peerSends: true, ackQueueAt, ackEvery: 64 * 1024 });
    expect(window.longPath).toBe(true);
    expect(window.minRtt).toBeGreaterThanOrEqual(40); // an upper bound on the path's: never below it
    expect(window.minRtt).toBeLessThanOrEqual(43);
    expect(rounds.at(-1) as number).toBeGreaterThan(4_000_000);
    // Seen after a few round trips (a streak of steady samples), not at the first.
    expect(rounds.findIndex((bytes) => bytes > SHORT_MIN_BYTES)).toBeGreaterThanOrEqual(4);
  });

  test("both ways on loopback, ACKs behind an unsteady queue of the peer's DATA (5-25 ms) never read as a long path", () => {
    // A review measured this: megabytes of the peer's DATA ahead of our ACKs read as a long path,
    // the window grew to 5x the floor and chat p99 went from 9-12 ms to 23-83. Traced on loopback
    // such samples go up and down with the queue's depth (5.0, 6.1, 10.1, 11.5, 8.9 ms ...).
    let seed = 7;
    const ackQueueAt = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return 5 + (seed / 2 ** 31) * 20;
    };
    const window = new SendWindow(undefined, undefined, { young: true });
    const rounds = simulate(window, 0.3, 300_000, 1_000, { peerSends: true, ackQueueAt, ackEvery: 64 * 1024 });
    expect(window.longPath).toBe(false);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES);
  });

  test("both ways on a short path, a round trip with the peer's DATA in it still shows the path short", () => {
    // Both ways at once nearly every ACK comes back behind the peer's DATA: without these samples
    // the path never read as short, so while chatting frames stayed at half the unsent cap (16 KiB).
    const window = new SendWindow(undefined, undefined, { young: true });
    simulate(window, 1, 300_000, 50, { peerSends: true });
    expect(window.shortPath).toBe(true);
    expect(window.frameBytes(FRAME, true)).toBe(FRAME);
    expect(window.unsentCap).toBe(0);
    expect(window.bytes).toBeLessThanOrEqual(WINDOW_BYTES);
  });

  test("a round trip with the peer's DATA in it, 5 ms or more, neither shows a short path nor sizes a long one", () => {
    const window = new SendWindow();
    window.sent(FRAME, 0, 0);
    window.acked(FRAME, 1, 0); // the first ACK: not sampled (cold)
    window.sent(2 * FRAME, 10, 0);
    window.acked(2 * FRAME, 16, 64 * 1024); // 6 ms with the peer's DATA in it
    expect(window.minRtt).toBe(Number.POSITIVE_INFINITY);
    expect(window.shortPath).toBe(false);
    window.sent(3 * FRAME, 20, 64 * 1024);
    window.acked(3 * FRAME, 24, 128 * 1024); // 4 ms with the peer's DATA in it: short
    expect(window.shortPath).toBe(true);
  });

  test("after a second of idleness it starts over small", () => {
    const window = new SendWindow();
    simulate(window, 40, 100_000, 2_000);
    expect(window.bytes).toBeGreaterThan(WINDOW_BYTES);
    window.acked(Number.MAX_SAFE_INTEGER / 2, 2_000); // everything ACKed: nothing in flight
    window.sent(Number.MAX_SAFE_INTEGER / 2 + FRAME, 10_000); // the next frame, 8 s later
    expect(window.bytes).toBe(SHORT_MIN_BYTES);
  });

  test("a duplicate ACK changes nothing", () => {
    const window = new SendWindow();
    window.sent(FRAME, 0);
    window.acked(FRAME, 5); // the first ACK: its frame's round trip is not sampled (below)
    window.sent(2 * FRAME, 10);
    window.acked(2 * FRAME, 20);
    window.acked(2 * FRAME, 30);
    expect(window.minRtt).toBe(10);
  });

  test("its round trip never rises: samples taken behind a full window do not feed it", () => {
    const window = new SendWindow();
    window.sent(FRAME, 0);
    window.acked(FRAME, 1);
    window.sent(2 * FRAME, 1);
    window.acked(2 * FRAME, 2); // 1 ms round trip with an empty path
    window.sent(3 * FRAME, 2);
    window.acked(3 * FRAME, 51); // a queued frame: 49 ms
    expect(window.minRtt).toBe(1);
  });

  test("frames written before the first ACK give no round trip (the receiver's cold start is in it)", () => {
    const window = new SendWindow();
    window.sent(FRAME, 0);
    window.sent(2 * FRAME, 0);
    window.acked(FRAME, 30); // a cold receiver: 30 ms on loopback
    expect(window.minRtt).toBe(Number.POSITIVE_INFINITY);
    expect(window.longPath).toBe(false);
    window.sent(3 * FRAME, 30);
    window.acked(3 * FRAME, 30.5);
    expect(window.minRtt).toBe(0.5);
    expect(window.shortPath).toBe(true);
  });
});

describe("SendWindow, young (a peer that ACKs early)", () => {
  test("starts under TCP's initial window and grows by each byte ACKed (TCP's slow start), past the floor", () => {
    const window = new SendWindow(undefined, undefined, { young: true });
    expect(window.bytes).toBe(YOUNG_WINDOW_BYTES);
    expect(window.frameBytes()).toBe(4096);
    expect(window.unsentCap).toBe(16 * 1024);
    window.sent(8192, 0);
    window.acked(8192, 40); // the first ACK: no round trip yet, the path is not known
    expect(window.bytes).toBe(YOUNG_WINDOW_BYTES + 8192);
    let sent = 8192;
    for (let now = 80; window.bytes < WINDOW_BYTES; now += 40) {
      sent += window.bytes;
      window.sent(sent, now - 40);
      window.acked(sent, now);
    }
    // The start-up goes on by the same bytes past SHORT_MIN_BYTES and the floor (an ACK of one
    // round trip's bytes: at most 2x).
    expect(window.bytes).toBeGreaterThan(WINDOW_BYTES);
    expect(window.bytes).toBeLessThanOrEqual(2 * WINDOW_BYTES);
    expect(window.longPath).toBe(true);
    // Frames are no longer a quarter of a young window (here 10 ms of this slow path's rate).
    expect(window.frameBytes()).toBeGreaterThan(FRAME / 2);
  });

  test("stepsOf: a fraction in whole steps, at least one step, at most the bound", () => {
    expect(stepsOf(8192, 1 / 4, 4096, FRAME)).toBe(4096);
    expect(stepsOf(100_000, 1 / 4, 4096, FRAME)).toBe(24_576);
    expect(stepsOf(16 * 2 ** 20, 1 / 4, 4096, FRAME)).toBe(FRAME);
  });
});

describe("SendWindow, young again after idling (a peer that ACKs early)", () => {
  /** A young window grown to the floor on a 40 ms path, everything ACKed by t = ends. */
  function grownOnLongPath(): { window: SendWindow; sent: number; ends: number } {
    const window = new SendWindow(undefined, undefined, { young: true });
    let sent = 0;
    let now = 0;
    while (window.bytes < WINDOW_BYTES) {
      sent += window.bytes;
      window.sent(sent, now);
      now += 40;
      window.acked(sent, now);
    }
    return { window, sent, ends: now };
  }

  test("a transfer after an idle second on a long path starts young again, counting from there", () => {
    const { window, sent, ends } = grownOnLongPath();
    expect(window.longPath).toBe(true);
    window.sent(sent + 4096, ends + 1_500); // the next transfer's first frame
    expect(window.bytes).toBe(YOUNG_WINDOW_BYTES);
    expect(window.frameBytes()).toBe(4096);
    expect(window.unsentCap).toBe(16 * 1024);
    window.acked(sent + 4096, ends + 1_540);
    // Grown by what this stretch had ACKed, not by the session's total.
    expect(window.bytes).toBe(YOUNG_WINDOW_BYTES + 4096);
  });

  test("not within the idle second, and not with a peer that does not ACK early", () => {
    const { window, sent, ends } = grownOnLongPath();
    const before = window.bytes;
    window.sent(sent + 4096, ends + 500);
    expect(window.bytes).toBe(before);

    const old = new SendWindow();
    simulate(old, 40, 100_000, 2_000);
    old.acked(Number.MAX_SAFE_INTEGER / 2, 2_000);
    old.sent(Number.MAX_SAFE_INTEGER / 2 + FRAME, 10_000);
    expect(old.bytes).toBe(SHORT_MIN_BYTES);
  });

  test("a short path starts over at SHORT_MIN_BYTES, not young", () => {
    const window = new SendWindow(undefined, undefined, { young: true });
    window.sent(8192, 0);
    window.acked(8192, 1); // cold: not sampled
    window.sent(16384, 1);
    window.acked(16384, 1.5); // 0.5 ms: a short path
    expect(window.shortPath).toBe(true);
    window.sent(20480, 3_000);
    expect(window.bytes).toBe(SHORT_MIN_BYTES);
  });
});

describe("SendWindow through a relay (shortBytes: RELAY_WINDOW_BYTES)", () => {
  const relayed = () =>
    new SendWindow(undefined, undefined, { shortMinBytes: RELAY_MIN_WINDOW_BYTES, shortBytes: RELAY_WINDOW_BYTES });

  test("a short path's window goes from its start to shortBytes, where 1 ms of data is less", () => {
    const window = relayed();
    expect(window.bytes).toBe(RELAY_MIN_WINDOW_BYTES);
    // 1 ms round trips at 1 GB/s: 1 ms of data is under the start (1 MiB), far under shortBytes.
    const windows = simulate(window, 1, 1_000_000, 200);
    expect(window.shortPath).toBe(true);
    expect(windows.at(-1)).toBe(RELAY_WINDOW_BYTES);
    // Without the option the same path stays at its minimum.
    const plain = new SendWindow(undefined, undefined, { shortMinBytes: RELAY_MIN_WINDOW_BYTES });
    expect(simulate(plain, 1, 1_000_000, 200).at(-1)).toBe(RELAY_MIN_WINDOW_BYTES);
  });

  test("a long path through a relay is sized by its round trip as before: shortBytes does not raise its floor", () => {
    // 40 ms at 20 MB/s: GAIN x rate x RTT is about 1 MB, under the floor.
    const window = relayed();
    const windows = simulate(window, 40, 20_000, 4_000);
    expect(window.longPath).toBe(true);
    expect(windows.at(-1)).toBe(WINDOW_BYTES);
  });
});
