/**
 * SendWindow, driven by a simulated path on a manual clock: a link of a given round trip and
 * rate (and, for TCP's window beneath us, a cap on what it carries at once), a sender that
 * sends whenever the window allows, ACKs coming back one round trip later.
 */

import { describe, expect, test } from "bun:test";
import { ACK_EVERY_BYTES, WINDOW_BYTES, WINDOW_CAP_BYTES } from "../../src/session/limits.ts";
import { SendWindow, SHORT_MIN_BYTES } from "../../src/session/send-window.ts";

const FRAME = 256 * 1024;

interface Round {
  /** The window at the round's end. */
  readonly window: number;
  /** Bytes the link delivered in the round, per ms of it. */
  readonly deliveredPerMs: number;
  /** The longest a frame written in the round waited before the link took it, ms. */
  readonly queueMs: number;
}

/**
 * Runs `ms` of simulated time in 0.05 ms steps over a path of `rttMs` that delivers at most
 * `bytesPerMs`. The receiver ACKs as Parley's does: once ACK_EVERY_BYTES or more are owed, at a
 * frame's end. With `inFlightCap`, the link carries at most that many bytes at once (TCP's own
 * window beneath us, as bench/delay-relay.ts's tcp model has it: the link frees a frame's room
 * a round trip after taking it); frames beyond it wait in the sender's socket. With
 * `fasterFrom`, the link's rate changes at that time.
 * @returns one entry per simulated round trip
 */
function simulate(
  window: SendWindow,
  rttMs: number,
  bytesPerMs: number,
  ms: number,
  options: { peerSends?: boolean; inFlightCap?: number; fasterFrom?: { at: number; bytesPerMs: number } } = {},
): Round[] {
  const step = 0.05;
  let sent = 0;
  let acked = 0;
  let linkFreeAt = 0;
  let ackedToPeer = 0;
  const socket: Array<{ sentAt: number; end: number }> = []; // written, not yet taken by the link
  const linkHeld: Array<{ freeAt: number; bytes: number }> = []; // in the link (inFlightCap)
  let linkBytes = 0;
  const arrivals: Array<{ at: number; end: number }> = []; // frames reaching the receiver
  const pendingAcks: Array<{ at: number; bytes: number }> = []; // ACKs on their way back
  let consumed = 0;
  const rounds: Round[] = [];
  let nextRound = rttMs;
  let deliveredAtRound = 0;
  let queueMs = 0;
  let received = 0; // DATA from the peer (when it sends too)
  for (let now = 0; now < ms; now += step) {
    if (options.peerSends) received += 64 * 1024;
    // The receiver consumes what has arrived and ACKs as Parley's does (half an RTT back).
    while (arrivals.length > 0 && (arrivals[0] as { at: number }).at <= now) {
      consumed = (arrivals.shift() as { end: number }).end;
    }
    if (consumed - ackedToPeer >= ACK_EVERY_BYTES) {
      ackedToPeer = consumed;
      pendingAcks.push({ at: now + rttMs / 2, bytes: consumed });
    }
    while (pendingAcks.length > 0 && (pendingAcks[0] as { at: number }).at <= now) {
      acked = (pendingAcks.shift() as { bytes: number }).bytes;
      window.acked(acked, now, received);
    }
    // The sender fills the window into its socket...
    while (sent - acked < window.bytes) {
      sent += FRAME;
      window.sent(sent, now, received);
      socket.push({ sentAt: now, end: sent });
    }
    // ...and the link takes frames from it at its rate (and within its cap).
    while (linkHeld.length > 0 && (linkHeld[0] as { freeAt: number }).freeAt <= now) {
      linkBytes -= (linkHeld.shift() as { bytes: number }).bytes;
    }
    while (socket.length > 0 && linkBytes + FRAME <= (options.inFlightCap ?? Number.POSITIVE_INFINITY)) {
      const frame = socket.shift() as { sentAt: number; end: number };
      const takenAt = Math.max(linkFreeAt, now);
      queueMs = Math.max(queueMs, takenAt - frame.sentAt);
      const rate = options.fasterFrom && now >= options.fasterFrom.at ? options.fasterFrom.bytesPerMs : bytesPerMs;
      linkFreeAt = takenAt + FRAME / rate;
      arrivals.push({ at: linkFreeAt + rttMs / 2, end: frame.end });
      linkBytes += FRAME;
      linkHeld.push({ freeAt: takenAt + rttMs, bytes: FRAME });
    }
    if (now >= nextRound) {
      rounds.push({ window: window.bytes, deliveredPerMs: (consumed - deliveredAtRound) / rttMs, queueMs });
      deliveredAtRound = consumed;
      queueMs = 0;
      nextRound += rttMs;
    }
  }
  return rounds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const windows = (rounds: Round[]): number[] => rounds.map((r) => r.window);

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
    const rounds = windows(simulate(window, 0.3, rate, 300));
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES); // the floor until rates are known
    const steady = rounds.slice(rounds.length / 2);
    expect(Math.max(...steady) / rate).toBeLessThanOrEqual(Math.max(1.1, (512 * 1024) / rate));
    expect(Math.min(...steady)).toBeGreaterThanOrEqual(512 * 1024);
  });

  test("on a 40 ms path it grows until the link, not the window, is the limit", () => {
    // 100 MB/s over 40 ms: about 4 MB in flight fill the link (a fixed 1.5 MiB window: 39 MB/s).
    const rounds = simulate(new SendWindow(), 40, 100_000, 3_000);
    const steady = rounds.slice(rounds.length / 2);
    expect(steady.reduce((sum, r) => sum + r.deliveredPerMs, 0) / steady.length).toBeGreaterThan(0.95 * 100_000);
  });

  test("start-up doubles the window a round trip while the delivery rate keeps up (old: a quarter a round)", () => {
    // 1 GB/s over 40 ms: 40 MB to fill, far past the cap, so start-up runs until the cap.
    const rounds = windows(simulate(new SendWindow(), 40, 1_000_000, 1_200));
    const first = rounds.findIndex((w) => w >= 2 * WINDOW_BYTES);
    const capped = rounds.indexOf(WINDOW_CAP_BYTES);
    expect(first).toBeGreaterThan(0);
    // From 3 MiB to 16 MiB: about 2.4 doublings, so three rounds or four (at 1.25x: eight).
    expect(capped - first).toBeGreaterThan(1);
    expect(capped - first).toBeLessThanOrEqual(4);
  });

  test("after start-up about one bandwidth-delay product is in flight: no standing queue (old: a quarter RTT)", () => {
    // 100 MB/s over 40 ms, the link serialising frames: once start-up has ended, a frame waits
    // for the link about a frame's time, not the (gain - 1) × RTT of a window kept above the path.
    const rounds = simulate(new SendWindow(), 40, 100_000, 4_000);
    const steady = rounds.slice(rounds.length / 2);
    expect(median(steady.map((r) => r.queueMs))).toBeLessThanOrEqual(4);
    expect(Math.max(...steady.map((r) => r.queueMs))).toBeLessThanOrEqual(10);
    expect(steady.reduce((sum, r) => sum + r.deliveredPerMs, 0) / steady.length).toBeGreaterThan(0.95 * 100_000);
  });

  test("under TCP's own window (the link carries at most 4 MiB at once) the overshoot of start-up drains", () => {
    // A link whose TCP window caps it at 4 MiB / 40 ms (its own rate a little above that, as
    // TCP's ACK clock spreads a window over the round trip): what the send window holds above
    // 4 MiB waits in the socket. Start-up overshoots it for a round or two; then it drains and
    // stays drained, while the link stays full.
    const cap = 4 * 2 ** 20;
    const rounds = simulate(new SendWindow(), 40, 110_000, 4_000, { inFlightCap: cap });
    const worst = rounds.reduce((at, r, i) => (r.queueMs > (rounds[at] as Round).queueMs ? i : at), 0);
    const after = rounds.slice(worst + 5);
    expect(after.length).toBeGreaterThan(40);
    expect(median(after.map((r) => r.queueMs))).toBeLessThanOrEqual(4);
    expect(Math.max(...after.map((r) => r.queueMs))).toBeLessThanOrEqual(10);
    const steady = rounds.slice(rounds.length / 2);
    expect(steady.reduce((sum, r) => sum + r.deliveredPerMs, 0) / steady.length).toBeGreaterThan((0.95 * cap) / 40);
  });

  test("in cruise it probes: one round in eight a little above the path's, the next as far below", () => {
    const rounds = windows(simulate(new SendWindow(), 40, 100_000, 4_000)).slice(-48);
    const typical = median(rounds);
    const high = rounds.filter((w) => w > 1.06 * typical).length;
    const low = rounds.filter((w) => w < 0.94 * typical).length;
    expect(high).toBeGreaterThanOrEqual(4); // about 48 / 8 each (simulated rounds are not the window's)
    expect(high).toBeLessThanOrEqual(12);
    expect(low).toBeGreaterThanOrEqual(4);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(1.25 * typical);
  });

  test("a path that gets faster in cruise is found by the probe and filled by doubling again", () => {
    // 25 MB/s for 2 s (start-up ends there), then 100 MB/s: probing at 1.125 once per eight
    // rounds alone would take about 12 cycles (4 s) to get there; back in start-up, a few rounds.
    const rounds = simulate(new SendWindow(), 40, 25_000, 3_500, { fasterFrom: { at: 2_000, bytesPerMs: 100_000 } });
    const later = rounds.slice(Math.round(2_800 / 40));
    expect(later.reduce((sum, r) => sum + r.deliveredPerMs, 0) / later.length).toBeGreaterThan(0.9 * 100_000);
  });

  test("never exceeds the cap on a fast, long path", () => {
    const rounds = windows(simulate(new SendWindow(), 100, 2_000_000, 3_000));
    expect(Math.max(...rounds)).toBe(WINDOW_CAP_BYTES);
  });

  test("below a 5 ms round trip (a LAN, a busy loopback) it never grows past the floor", () => {
    const window = new SendWindow();
    const rounds = windows(simulate(window, 3, 2_000_000, 300));
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES);
  });

  test("while the peer sends DATA too, round trips (behind its queue) are not sampled", () => {
    const window = new SendWindow();
    const rounds = windows(simulate(window, 40, 100_000, 2_000, { peerSends: true }));
    expect(Math.max(...rounds)).toBeLessThanOrEqual(WINDOW_BYTES); // never grows
    expect(window.minRtt).toBe(Number.POSITIVE_INFINITY);
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
    window.acked(FRAME, 10);
    window.acked(FRAME, 20);
    expect(window.minRtt).toBe(10);
  });

  test("its round trip never rises: samples taken behind a full window do not feed it", () => {
    const window = new SendWindow();
    window.sent(FRAME, 0);
    window.acked(FRAME, 1); // 1 ms round trip with an empty path
    window.sent(2 * FRAME, 1);
    window.acked(2 * FRAME, 50); // a queued frame: 49 ms
    expect(window.minRtt).toBe(1);
  });
});
