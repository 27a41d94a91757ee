/**
 * The mailbox connection's life (session/mailbox-life.ts), a pure state machine: every state
 * against every event (what it moves to and what it asks the Wormhole to do, the events that
 * cannot happen flagged and ignored), then the outages it runs: their deadline, the growing
 * pauses, a loss soon after a return, the error at their end.
 */

import { describe, expect, test } from "bun:test";
import { type LifeEvent, type LifeStateName, type LifeStep, MailboxLife } from "../../src/session/mailbox-life.ts";

const URL = "ws://mailbox.test/v1";
/** Tried again for 10 s, the server has 2 s to answer, an opening at most 10 s. */
const OPTIONS = { url: URL, withinMs: 10_000, answerMs: 2_000, openTimeoutMs: 10_000 };

/** The events of the table, each at time 300 (ms of performance.now()). */
const EVENTS: Record<string, LifeEvent> = {
  opened: { type: "opened", at: 300 },
  "open-failed": { type: "open-failed", at: 300 },
  "answered some": { type: "answered", all: false, at: 300 },
  "answered all": { type: "answered", all: true, at: 300 },
  silent: { type: "silent", words: "with a code", at: 300 },
  lost: { type: "lost", at: 300 },
  "lost, broken": { type: "lost", broken: "it sent too much", at: 300 },
  "pause-over": { type: "pause-over", at: 300 },
  quiet: { type: "quiet" },
  close: { type: "close" },
  fail: { type: "fail" },
};

/**
 * A life brought to `name` by the events a Wormhole feeds it, before time 300: the first
 * connection opened at 0 and answered at 10; lost at 100 (an outage until 10,100); a try that
 * opens, or fails to open at 200 (a pause of 0.25 s).
 */
function lifeIn(name: LifeStateName): MailboxLife {
  const life = new MailboxLife(OPTIONS);
  const feed = (...events: LifeEvent[]) => {
    for (const e of events) expect(life.step(e).illegal, `${e.type} on the way to ${name}`).toBeUndefined();
  };
  const up = (): void => feed({ type: "opened", at: 0 }, { type: "answered", all: true, at: 10 });
  switch (name) {
    case "connecting":
      break;
    case "welcomed":
      feed({ type: "opened", at: 0 });
      break;
    case "up":
      up();
      break;
    case "lost-opening":
      up();
      feed({ type: "lost", at: 100 });
      break;
    case "lost-pausing":
      up();
      feed({ type: "lost", at: 100 }, { type: "open-failed", at: 200 });
      break;
    case "lost-unanswered":
      up();
      feed({ type: "lost", at: 100 }, { type: "opened", at: 200 });
      break;
    case "settled":
      up();
      feed({ type: "quiet" });
      break;
    case "closed":
      up();
      feed({ type: "close" });
      break;
    case "failed":
      up();
      feed({ type: "fail" });
      break;
  }
  expect(life.state.name).toBe(name);
  return life;
}

const STOP_ALL: LifeStep = { stopAnswers: true, stopPause: true, abortOpening: true };
const ILLEGAL: LifeStep = { illegal: true };
const silentError = {
  code: "E_MAILBOX_SILENT",
  message: `${URL} welcomed us but did not answer with a code within 2 s`,
};
const silentAgainError = {
  code: "E_MAILBOX_SILENT",
  message: `${URL} welcomed us again but did not answer with a code within 2 s`,
};
const brokenError = { code: "E_MAILBOX_PROTOCOL", message: "it sent too much" };
const lostError = { code: "E_MAILBOX_LOST", message: "the connection to the mailbox was lost" };
/** Lost at 300, a new outage: until 10,300, said with its 10 s, tried again at once. */
const NEW_OUTAGE: LifeStep = { bound: 10_300, tell: { connected: false, withinMs: 10_000 }, open: 10_000 };
/** Lost at 300 within the outage of 100 (until 10,100): not said again, the next pause (0.25 s). */
const SAME_OUTAGE: LifeStep = { bound: 10_100, pause: 250 };

type Row = [LifeStateName, string, LifeStateName, LifeStep | { fail: { code: string; message: string } }];

/** Every state against every event: the state after it and what the Wormhole is asked to do. */
const TABLE: Row[] = [
  ["connecting", "opened", "welcomed", {}],
  ["connecting", "open-failed", "failed", {}], // open() throws E_MAILBOX_UNREACHABLE
  ["connecting", "answered some", "connecting", ILLEGAL],
  ["connecting", "answered all", "connecting", ILLEGAL],
  ["connecting", "silent", "connecting", ILLEGAL],
  ["connecting", "lost", "connecting", ILLEGAL],
  ["connecting", "lost, broken", "connecting", ILLEGAL],
  ["connecting", "pause-over", "connecting", ILLEGAL],
  ["connecting", "quiet", "settled", { stopAnswers: true }],
  ["connecting", "close", "closed", STOP_ALL],
  ["connecting", "fail", "failed", STOP_ALL],

  ["welcomed", "opened", "welcomed", ILLEGAL],
  ["welcomed", "open-failed", "welcomed", ILLEGAL],
  ["welcomed", "answered some", "up", {}],
  ["welcomed", "answered all", "up", {}],
  ["welcomed", "silent", "failed", { fail: silentError }], // never answered: no server to come back to
  ["welcomed", "lost", "lost-opening", NEW_OUTAGE],
  ["welcomed", "lost, broken", "failed", { fail: brokenError }],
  ["welcomed", "pause-over", "welcomed", ILLEGAL],
  ["welcomed", "quiet", "settled", { stopAnswers: true }],
  ["welcomed", "close", "closed", STOP_ALL],
  ["welcomed", "fail", "failed", STOP_ALL],

  ["up", "opened", "up", ILLEGAL],
  ["up", "open-failed", "up", ILLEGAL],
  ["up", "answered some", "up", {}],
  ["up", "answered all", "up", {}],
  ["up", "silent", "lost-opening", { drop: true, ...NEW_OUTAGE }], // half-open, perhaps: a loss
  ["up", "lost", "lost-opening", NEW_OUTAGE],
  ["up", "lost, broken", "failed", { fail: brokenError }],
  ["up", "pause-over", "up", ILLEGAL],
  ["up", "quiet", "settled", { stopAnswers: true }],
  ["up", "close", "closed", STOP_ALL],
  ["up", "fail", "failed", STOP_ALL],

  ["lost-opening", "opened", "lost-unanswered", { check: true }],
  ["lost-opening", "open-failed", "lost-pausing", { pause: 250 }],
  ["lost-opening", "answered some", "lost-opening", ILLEGAL],
  ["lost-opening", "answered all", "lost-opening", ILLEGAL],
  ["lost-opening", "silent", "lost-opening", ILLEGAL],
  ["lost-opening", "lost", "lost-opening", ILLEGAL],
  ["lost-opening", "lost, broken", "lost-opening", ILLEGAL],
  ["lost-opening", "pause-over", "lost-opening", ILLEGAL],
  ["lost-opening", "quiet", "settled", { stopAnswers: true }], // the try opening is kept, for close()
  ["lost-opening", "close", "closed", STOP_ALL],
  ["lost-opening", "fail", "failed", STOP_ALL],

  ["lost-pausing", "opened", "lost-pausing", ILLEGAL],
  ["lost-pausing", "open-failed", "lost-pausing", ILLEGAL],
  ["lost-pausing", "answered some", "lost-pausing", ILLEGAL],
  ["lost-pausing", "answered all", "lost-pausing", ILLEGAL],
  ["lost-pausing", "silent", "lost-pausing", ILLEGAL],
  ["lost-pausing", "lost", "lost-pausing", ILLEGAL],
  ["lost-pausing", "lost, broken", "lost-pausing", ILLEGAL],
  ["lost-pausing", "pause-over", "lost-opening", { open: 9_800 }],
  ["lost-pausing", "quiet", "settled", { stopAnswers: true, stopPause: true }],
  ["lost-pausing", "close", "closed", STOP_ALL],
  ["lost-pausing", "fail", "failed", STOP_ALL],

  ["lost-unanswered", "opened", "lost-unanswered", ILLEGAL],
  ["lost-unanswered", "open-failed", "lost-unanswered", ILLEGAL],
  ["lost-unanswered", "answered some", "lost-unanswered", {}], // not back: more is owed
  ["lost-unanswered", "answered all", "up", { bound: Number.POSITIVE_INFINITY, tell: { connected: true } }],
  // Welcomed again and silent: likely the server's silence (it went on with the outage, for
  // minutes), but a network that failed again just after the welcome looks the same: one more try.
  ["lost-unanswered", "silent", "lost-pausing", { drop: true, ...SAME_OUTAGE }],
  ["lost-unanswered", "lost", "lost-pausing", SAME_OUTAGE],
  ["lost-unanswered", "lost, broken", "failed", { fail: brokenError }],
  ["lost-unanswered", "pause-over", "lost-unanswered", ILLEGAL],
  ["lost-unanswered", "quiet", "settled", { stopAnswers: true }],
  ["lost-unanswered", "close", "closed", STOP_ALL],
  ["lost-unanswered", "fail", "failed", STOP_ALL],

  ["settled", "opened", "settled", {}], // a try that was opening: kept, for close() to release
  ["settled", "open-failed", "settled", {}],
  ["settled", "answered some", "settled", ILLEGAL], // answers are no longer looked for
  ["settled", "answered all", "settled", ILLEGAL],
  ["settled", "silent", "settled", ILLEGAL],
  ["settled", "lost", "failed", { fail: lostError }], // not tried again, not said
  ["settled", "lost, broken", "failed", { fail: brokenError }], // as before the machine (5ae9bdd's socketClosed)
  ["settled", "pause-over", "settled", {}],
  ["settled", "quiet", "settled", {}],
  ["settled", "close", "closed", STOP_ALL],
  ["settled", "fail", "failed", STOP_ALL],

  ["closed", "opened", "closed", { drop: true }], // opened while it was closed: it goes
  ["closed", "open-failed", "closed", {}],
  ["closed", "answered some", "closed", {}],
  ["closed", "answered all", "closed", {}],
  ["closed", "silent", "closed", {}],
  ["closed", "lost", "closed", {}],
  ["closed", "lost, broken", "closed", {}],
  ["closed", "pause-over", "closed", {}],
  ["closed", "quiet", "closed", {}],
  ["closed", "close", "closed", {}],
  ["closed", "fail", "closed", {}],

  ["failed", "opened", "failed", { drop: true }],
  ["failed", "open-failed", "failed", {}],
  ["failed", "answered some", "failed", {}],
  ["failed", "answered all", "failed", {}],
  ["failed", "silent", "failed", {}],
  ["failed", "lost", "failed", {}],
  ["failed", "lost, broken", "failed", {}],
  ["failed", "pause-over", "failed", {}],
  ["failed", "quiet", "failed", {}],
  ["failed", "close", "closed", STOP_ALL], // a failure closes on the server
  ["failed", "fail", "failed", {}],
];

describe("every state against every event", () => {
  test("the table has every pair once", () => {
    const states = new Set(TABLE.map((r) => r[0]));
    expect(states.size).toBe(9);
    expect(TABLE).toHaveLength(9 * Object.keys(EVENTS).length);
    expect(new Set(TABLE.map((r) => `${r[0]} ${r[1]}`)).size).toBe(TABLE.length);
  });

  test.each(TABLE)("%s, %s: %s", (from, event, to, expected) => {
    const life = lifeIn(from);
    const before = life.state;
    const step = life.step(EVENTS[event] as LifeEvent);
    const { fail, ...rest } = step;
    const { fail: expectedFail, ...expectedRest } = expected as LifeStep;
    expect(rest).toEqual(expectedRest);
    if (expectedFail) expect({ code: fail?.code, message: fail?.message }).toEqual(expectedFail);
    else expect(fail).toBeUndefined();
    expect(life.state.name).toBe(to);
    // An event that cannot happen changes nothing.
    if (step.illegal) expect(life.state).toBe(before);
  });
});

describe("connected: the time the waits on the peer count", () => {
  test.each<[LifeStateName, boolean]>([
    ["connecting", false],
    ["welcomed", true],
    ["up", true],
    ["lost-opening", false],
    ["lost-pausing", false],
    ["lost-unanswered", false], // open, not back until it answers
    ["settled", true], // quiet while up: still the connection it was
    ["closed", false],
    ["failed", false],
  ])("%s: %p", (name, connected) => {
    expect(lifeIn(name).connected).toBe(connected);
  });

  test("settled while being opened again: not connected, nor once that try opens", () => {
    const life = lifeIn("lost-opening");
    life.step({ type: "quiet" });
    life.step({ type: "opened", at: 300 });
    expect(life.connected).toBe(false);
  });
});

describe("an outage", () => {
  test("tries at once, then after pauses of 0.25, 0.5, 1, 2, 4 s and what is left; each opening is given at most what is left", () => {
    const life = lifeIn("lost-opening"); // lost at 100: until 10,100
    const pauses: number[] = [];
    const opens: number[] = [];
    let at = 100;
    for (let i = 0; i < 7; i++) {
      const paused = life.step({ type: "open-failed", at });
      if (paused.pause === undefined) break;
      pauses.push(paused.pause);
      at += paused.pause;
      const step = life.step({ type: "pause-over", at });
      if (step.open !== undefined) opens.push(step.open);
    }
    expect(pauses).toEqual([250, 500, 1_000, 2_000, 4_000, 2_250]); // the last cut at the deadline
    expect(opens).toEqual([9_750, 9_250, 8_250, 6_250, 2_250]);
    expect(life.state.name).toBe("failed");
  });

  test("a test's longest pause (longestPauseMs): the pauses grow from a twentieth of it to it; never past RETRY_MAX_MS, nor under 20 ms", () => {
    const pausesOf = (longestPauseMs?: number): number[] => {
      const life = new MailboxLife({
        ...OPTIONS,
        withinMs: 60_000,
        ...(longestPauseMs === undefined ? {} : { longestPauseMs }),
      });
      life.step({ type: "opened", at: 0 });
      life.step({ type: "answered", all: true, at: 10 });
      life.step({ type: "lost", at: 100 }); // tried at once
      const pauses: number[] = [];
      let at = 100;
      for (let i = 0; i < 8; i++) {
        const pause = life.step({ type: "open-failed", at }).pause as number;
        pauses.push(pause);
        at += pause;
        life.step({ type: "pause-over", at });
      }
      return pauses;
    };
    const standard = [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000];
    expect(pausesOf()).toEqual(standard);
    expect(pausesOf(2_000)).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
    expect(pausesOf(60_000)).toEqual(standard); // capped: a test's setting only shortens them
    expect(pausesOf(0)).toEqual(standard);
    expect(pausesOf(1)).toEqual([1, 2, 4, 8, 16, 20, 20, 20]);
  });

  test("an opening near the deadline is still given 1 s", () => {
    const life = lifeIn("lost-pausing"); // until 10,100
    expect(life.step({ type: "pause-over", at: 9_900 })).toEqual({ open: 1_000 });
  });

  test("its end: E_MAILBOX_LOST with the time tried", () => {
    const life = lifeIn("lost-pausing");
    const { fail } = life.step({ type: "pause-over", at: 10_100 });
    expect(fail?.code).toBe("E_MAILBOX_LOST");
    expect(fail?.message).toBe("the connection to the mailbox was lost and not back within 10 s");
    expect(fail?.lost).toEqual({ retriedMs: 10_000 });
  });

  test("a stall (SIGSTOP) past its deadline: the late pause-over or open-failed ends it, nothing more is opened", () => {
    const paused = lifeIn("lost-pausing"); // until 10,100
    const late = paused.step({ type: "pause-over", at: 70_000 });
    expect(late.open).toBeUndefined();
    expect(late.fail?.lost).toEqual({ retriedMs: 10_000 });
    const opening = lifeIn("lost-opening");
    // The opening's own timer fires late: no pause longer than none is left, then the end.
    expect(opening.step({ type: "open-failed", at: 70_000 })).toEqual({ pause: 0 });
    expect(opening.step({ type: "pause-over", at: 70_001 }).fail?.code).toBe("E_MAILBOX_LOST");
    expect(opening.state.name).toBe("failed");
  });

  test("the server broke the protocol: E_MAILBOX_PROTOCOL in every state with a connection, settled too, never tried again", () => {
    for (const name of ["welcomed", "up", "lost-unanswered", "settled"] as const) {
      const step = lifeIn(name).step({ type: "lost", broken: "it sent too much", at: 300 });
      expect({ name, code: step.fail?.code, open: step.open, pause: step.pause }).toEqual({
        name,
        code: "E_MAILBOX_PROTOCOL",
        open: undefined,
        pause: undefined,
      });
    }
  });

  /** `life` welcomed on a connection back at `at` and left silent (`words`): what it asks. */
  const silentBack = (life: MailboxLife, at: number, words = "our claim of the code's number"): LifeStep => {
    expect(life.step({ type: "pause-over", at }).open).toBeDefined();
    life.step({ type: "opened", at });
    return life.step({ type: "silent", words, at: at + 2_000 });
  };

  test("silent, then welcomed again and silent twice: E_MAILBOX_SILENT, both silences said", () => {
    const same = lifeIn("up");
    same.step({ type: "silent", words: "our claim of the code's number", at: 100 });
    same.step({ type: "opened", at: 200 });
    // The first connection back silent: one more try (a network flapping), said to nobody.
    const first = same.step({ type: "silent", words: "our claim of the code's number", at: 2_200 });
    expect(first).toEqual({ drop: true, bound: 10_100, pause: 250 });
    const twice = silentBack(same, 2_450);
    expect(twice.fail?.code).toBe("E_MAILBOX_SILENT");
    expect(twice.fail?.message).toBe(
      `${URL} did not answer our claim of the code's number within 2 s, nor on 2 new connections it welcomed`,
    );
    expect(same.state.name).toBe("failed");

    // It answered the claim again, then dropped the add again: not back, and silent.
    const other = lifeIn("up");
    other.step({ type: "silent", words: "the message we added", at: 100 });
    other.step({ type: "opened", at: 200 });
    other.step({ type: "answered", all: false, at: 250 });
    expect(other.step({ type: "silent", words: "a ping", at: 2_200 }).fail).toBeUndefined();
    other.step({ type: "pause-over", at: 2_450 });
    other.step({ type: "opened", at: 2_500 });
    other.step({ type: "answered", all: false, at: 2_550 });
    expect(other.step({ type: "silent", words: "a ping", at: 4_500 }).fail?.message).toBe(
      `${URL} did not answer the message we added within 2 s, nor a ping on 2 new connections it welcomed`,
    );

    // Lost to a close, then welcomed and silent twice.
    const closed = lifeIn("lost-unanswered");
    expect(closed.step({ type: "silent", words: "with a code", at: 2_200 }).fail).toBeUndefined();
    expect(silentBack(closed, 2_450, "with a code").fail?.message).toBe(
      `${silentAgainError.message}, on 2 new connections`,
    );
  });

  test("a network flapping: a connection back welcomed and silent, then one that answers, is back; the count starts again", () => {
    const life = lifeIn("up");
    life.step({ type: "silent", words: "a ping", at: 100 }); // until 10,100
    life.step({ type: "opened", at: 200 });
    life.step({ type: "silent", words: "our claim of the code's number", at: 2_200 });
    life.step({ type: "pause-over", at: 2_450 });
    life.step({ type: "opened", at: 2_500 });
    expect(life.step({ type: "answered", all: true, at: 2_600 })).toEqual({
      bound: Number.POSITIVE_INFINITY,
      tell: { connected: true },
    });
    // Silent again 6 s later (a new outage), welcomed and silent once: still one more try.
    life.step({ type: "silent", words: "a ping", at: 8_600 });
    life.step({ type: "opened", at: 8_700 });
    expect(life.step({ type: "silent", words: "a ping", at: 10_700 })).toEqual({
      drop: true,
      bound: 18_600,
      pause: 250,
    });
    // Within 5 s of a return, the same outage (its count was reset by the return, so one more try too).
    const soon = lifeIn("up");
    soon.step({ type: "silent", words: "a ping", at: 100 });
    soon.step({ type: "opened", at: 200 });
    soon.step({ type: "silent", words: "a ping", at: 2_200 });
    soon.step({ type: "pause-over", at: 2_450 });
    soon.step({ type: "opened", at: 2_500 });
    soon.step({ type: "answered", all: true, at: 2_600 });
    expect(soon.step({ type: "silent", words: "a ping", at: 4_600 }).pause).toBe(500);
    expect(silentBack(soon, 5_100).fail).toBeUndefined();
    expect(silentBack(soon, 8_100).fail?.code).toBe("E_MAILBOX_SILENT");
  });

  test("a network flapping: a try that fails to open between two connections back left silent starts the count again", () => {
    const life = new MailboxLife({ ...OPTIONS, withinMs: 60_000 });
    life.step({ type: "opened", at: 0 });
    life.step({ type: "answered", all: true, at: 10 });
    life.step({ type: "silent", words: "a ping", at: 100 }); // a half-open connection: until 60,100
    life.step({ type: "opened", at: 200 });
    // Welcomed, and the network failed again just after: one more try.
    expect(life.step({ type: "silent", words: "a ping", at: 2_200 }).fail).toBeUndefined();
    // The network is down: that try does not open (the network's failure, not a hung server's).
    expect(life.step({ type: "pause-over", at: 2_450 }).open).toBeDefined();
    expect(life.step({ type: "open-failed", at: 3_450 }).pause).toBe(500);
    // Up again, welcomed, and down again just after: before, the second silent connection back
    // in the outage, E_MAILBOX_SILENT; now the first since the network's failure: one more try.
    const again = silentBack(life, 3_950, "a ping");
    expect(again.fail).toBeUndefined();
    expect(again.pause).toBe(1_000);
    expect(life.state.name).toBe("lost-pausing");
    // Two in a row, nothing failing to open between them: the server's silence.
    expect(silentBack(life, 6_950, "a ping").fail?.message).toBe(
      `${URL} welcomed us again but did not answer a ping within 2 s, on 2 new connections`,
    );
  });

  test("its end after a silence: E_MAILBOX_SILENT naming it; a try that failed to open since: E_MAILBOX_LOST", () => {
    const silent = lifeIn("up");
    silent.step({ type: "silent", words: "our claim of the code's number", at: 100 });
    silent.step({ type: "opened", at: 200 });
    silent.step({ type: "lost", at: 300 }); // welcomed and closed: the silence is still the last word
    const { fail } = silent.step({ type: "pause-over", at: 10_100 });
    expect(fail?.code).toBe("E_MAILBOX_SILENT");
    expect(fail?.message).toBe(
      `${URL} did not answer our claim of the code's number within 2 s; reconnecting for 10 s did not help`,
    );

    const unreachable = lifeIn("up");
    unreachable.step({ type: "silent", words: "our claim of the code's number", at: 100 });
    unreachable.step({ type: "open-failed", at: 200 });
    expect(unreachable.step({ type: "pause-over", at: 10_100 }).fail?.code).toBe("E_MAILBOX_LOST");
  });

  test("a new outage is said with all of withinMs, whatever the time's fraction", () => {
    // performance.now() times carry fractions: at + 60,000 - at came out 59,999.99999999999 (or
    // 60,000.00000000001) for about a third of them, and the line said "for up to 60 s" ("1 minutes").
    for (const at of [5_563.0334567889995, 5_577.653456788999, 5_614.203456789]) {
      const life = new MailboxLife({ ...OPTIONS, withinMs: 60_000 });
      life.step({ type: "opened", at: at - 100 });
      life.step({ type: "answered", all: true, at: at - 50 });
      expect(life.step({ type: "lost", at }).tell, `lost at ${at}`).toEqual({ connected: false, withinMs: 60_000 });
    }
  });

  test("a loss within 5 s of a return goes on with the same outage, said with what is left; later, a new one", () => {
    const soon = lifeIn("lost-unanswered"); // lost at 100: until 10,100
    soon.step({ type: "answered", all: true, at: 300 });
    expect(soon.step({ type: "lost", at: 4_000 })).toEqual({
      bound: 10_100,
      tell: { connected: false, withinMs: 6_100 },
      pause: 250,
    });
    const later = lifeIn("lost-unanswered");
    later.step({ type: "answered", all: true, at: 300 });
    expect(later.step({ type: "lost", at: 5_300 })).toEqual({
      bound: 15_300,
      tell: { connected: false, withinMs: 10_000 },
      open: 10_000,
    });
  });

  test("a loss within 5 s of a return, past the outage's deadline: its error at once", () => {
    const life = lifeIn("lost-pausing"); // until 10,100
    life.step({ type: "pause-over", at: 9_000 });
    life.step({ type: "opened", at: 9_100 });
    life.step({ type: "answered", all: true, at: 9_200 });
    const step = life.step({ type: "lost", at: 10_200 });
    expect(step.fail?.message).toBe("the connection to the mailbox was lost and not back within 10 s");
    expect(step.tell).toBeUndefined();
    expect(life.state.name).toBe("failed");
  });

  test("a connection back cut short by the outage's deadline: the outage's end is said, not a silence of 2 s", () => {
    // Lost (a close) at 100: until 10,100; opened again at 9,900, its answers bounded by 10,100.
    const closed = lifeIn("lost-pausing");
    closed.step({ type: "pause-over", at: 9_800 });
    closed.step({ type: "opened", at: 9_900 });
    const step = closed.step({ type: "silent", words: "our claim of the code's number", at: 10_100, atBound: true });
    expect(step.fail?.message).toBe("the connection to the mailbox was lost and not back within 10 s");
    expect(closed.state.name).toBe("failed");
    // Lost to a silence: that silence is the end's word, as when the deadline finds no connection.
    const silent = lifeIn("up");
    silent.step({ type: "silent", words: "a ping", at: 100 });
    silent.step({ type: "opened", at: 9_900 }); // the try at once took its time to open
    expect(silent.step({ type: "silent", words: "a ping", at: 10_100, atBound: true }).fail?.message).toBe(
      `${URL} did not answer a ping within 2 s; reconnecting for 10 s did not help`,
    );
  });

  test("a server that never answered, on any connection: silent after a loss is E_MAILBOX_SILENT at once", () => {
    const life = lifeIn("welcomed");
    life.step({ type: "lost", at: 100 }); // lost before it answered anything
    life.step({ type: "opened", at: 200 });
    const { fail } = life.step({ type: "silent", words: "with a code", at: 300 });
    expect(fail?.code).toBe("E_MAILBOX_SILENT");
    expect(fail?.message).toBe(`${URL} welcomed us but did not answer with a code within 2 s`);
  });

  test("no retries (withinMs 0): a loss, or a silence after an answer, is E_MAILBOX_LOST at once", () => {
    const lost = new MailboxLife({ ...OPTIONS, withinMs: 0 });
    lost.step({ type: "opened", at: 0 });
    expect(lost.step({ type: "lost", at: 100 }).fail?.code).toBe("E_MAILBOX_LOST");
    const silent = new MailboxLife({ ...OPTIONS, withinMs: 0 });
    silent.step({ type: "opened", at: 0 });
    silent.step({ type: "answered", all: true, at: 10 });
    const step = silent.step({ type: "silent", words: "a ping", at: 100 });
    expect(step.drop).toBe(true);
    expect({ code: step.fail?.code as string | undefined, message: step.fail?.message }).toEqual(lostError);
  });
});
