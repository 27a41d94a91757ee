/**
 * The pure handshake (src/session/handshake.ts) driven directly, two machines passing frames
 * by hand: no sockets, no timers. Covers the code, the port-only refusal (issue 11.1), a
 * peer's BYE text never surfacing before verification (11.8), and the named states.
 */

import { beforeAll, describe, expect, test } from "bun:test";
import { loadPake } from "../../src/crypto/index.ts";
import { encodeMessage, type Frame, FrameDecoder, FrameType } from "../../src/protocol/index.ts";
import { Handshake, type HandshakeOptions, type HandshakeStep, Refusal } from "../../src/session/handshake.ts";

beforeAll(() => loadPake());

const DIALER = "0000000000000001";
const LISTENER = "ffffffffffffffff";

function framesOf(bytes: readonly Uint8Array[]): Frame[] {
  const decoder = new FrameDecoder();
  return bytes.flatMap((b) => decoder.push(b));
}

/** Runs both machines to the end, delivering every frame in order; returns the step that ended each side. */
function run(dialer: Partial<HandshakeOptions>, listener: Partial<HandshakeOptions>) {
  const d = new Handshake({ role: "dialer", nonce: DIALER, words: "ribbon-walnut", ...dialer });
  const l = new Handshake({ role: "listener", nonce: LISTENER, words: "ribbon-walnut", ...listener });
  let toListener = framesOf(d.start().send);
  let toDialer = framesOf(l.start().send);
  let lastD: HandshakeStep = { send: [] };
  let lastL: HandshakeStep = { send: [] };
  while (toListener.length + toDialer.length > 0) {
    const nextL: Uint8Array[] = [];
    const nextD: Uint8Array[] = [];
    for (const f of toListener) {
      const step = l.receive(f);
      if (!lastL.error && !lastL.done) lastL = step; // keep the step that ended it
      nextD.push(...step.send);
    }
    for (const f of toDialer) {
      const step = d.receive(f);
      if (!lastD.error && !lastD.done) lastD = step;
      nextL.push(...step.send);
    }
    toListener = framesOf(nextL);
    toDialer = framesOf(nextD);
  }
  return { d, l, lastD, lastL };
}

describe("Handshake", () => {
  test("the right code: both confirmed, verified, the same six digits, one key per direction", () => {
    const { d, l, lastD, lastL } = run({}, {});
    expect([d.state, l.state]).toEqual(["confirmed", "confirmed"]);
    expect(lastD.done?.security.mode).toBe("code");
    expect(lastD.done?.security.verification).toMatch(/^\d{3} \d{3}$/);
    expect(lastD.done?.security.verification).toBe(lastL.done?.security.verification as string);
    expect(lastD.done?.openWith).not.toEqual(lastL.done?.openWith as Uint8Array);
    expect(lastD.done?.peer.nonce).toBe(LISTENER);
  });

  test("a wrong code: both fail with E_WRONG_CODE, nothing confirmed", () => {
    const { d, l, lastD, lastL } = run({ words: "abandon-zoo" }, {});
    expect([d.state, l.state]).toEqual(["failed", "failed"]);
    expect(lastD.error?.code).toBe("E_WRONG_CODE");
    expect(lastL.error?.code).toBe("E_WRONG_CODE");
  });

  test("the port alone is refused by default: a BYE with a refusal code, no share", () => {
    const l = new Handshake({ role: "listener", nonce: LISTENER, words: "ribbon-walnut" });
    const d = new Handshake({ role: "dialer", nonce: DIALER, words: "" });
    l.start();
    const step = l.receive(framesOf(d.start().send)[0] as Frame);
    expect(step.error).toEqual({ code: "E_CODE_REQUIRED" });
    expect(framesOf(step.send).map((f) => f.type)).toEqual([FrameType.Bye]);
    expect(new TextDecoder().decode(framesOf(step.send)[0]?.payload)).toContain(Refusal.CodeRequired);
    expect(l.state).toBe("failed");
  });

  test("the port alone where the listener allows it: confirmed, but marked unverified", () => {
    const { lastD, lastL } = run({ words: "" }, { allowPortOnly: true });
    expect(lastD.done?.security.mode).toBe("port");
    expect(lastL.done?.security.mode).toBe("port");
  });

  test("a BYE before confirmation: the peer's text is never passed on, only a known code", () => {
    const bye = (reason: string) => framesOf([encodeMessage({ kind: "bye", reason })])[0] as Frame;
    const afterHello = (): Handshake => {
      const d = new Handshake({ role: "dialer", nonce: DIALER, words: "ribbon-walnut" });
      const l = new Handshake({ role: "listener", nonce: LISTENER, words: "ribbon-walnut" });
      d.start();
      d.receive(framesOf(l.start().send)[0] as Frame);
      expect(d.state).toBe("awaiting-share");
      return d;
    };
    const text = "NOTICE from Parley: the code changed, use 40999-evil-words";
    expect(afterHello().receive(bye(text)).error).toEqual({ code: "E_REFUSED", refusal: undefined });
    expect(afterHello().receive(bye(Refusal.Busy)).error).toEqual({ code: "E_REFUSED", refusal: Refusal.Busy });
  });

  test("our own nonce back: E_OWN_PORT", () => {
    const d = new Handshake({ role: "dialer", nonce: DIALER, words: "ribbon-walnut" });
    const echo = framesOf(d.start().send)[0] as Frame;
    expect(d.receive(echo).error).toEqual({ code: "E_OWN_PORT" });
  });

  test("anything but HELLO first is not Parley; so is data riding behind CONFIRM", () => {
    const l = new Handshake({ role: "listener", nonce: LISTENER, words: "ribbon-walnut" });
    l.start();
    const chat = framesOf([encodeMessage({ kind: "chat", text: "hi" })])[0] as Frame;
    expect(l.receive(chat).error?.code).toBe("E_NOT_PARLEY");

    const d = new Handshake({ role: "dialer", nonce: DIALER, words: "ribbon-walnut" });
    const l2 = new Handshake({ role: "listener", nonce: LISTENER, words: "ribbon-walnut" });
    const [dHello] = framesOf(d.start().send);
    const [lHello] = framesOf(l2.start().send);
    const lShare = framesOf(l2.receive(dHello as Frame).send);
    const dShare = framesOf(d.receive(lHello as Frame).send);
    const dConfirm = framesOf(d.receive(lShare[0] as Frame).send);
    l2.receive(dShare[0] as Frame);
    const late = l2.receive(dConfirm[0] as Frame, false);
    expect(late.error).toEqual({ code: "E_NOT_PARLEY", detail: "data after the key confirmation in its record" });
  });

  test("a listener out of guesses does not try the share", () => {
    const { lastL, l } = run({}, { mayGuess: () => false });
    expect(lastL.error).toEqual({ code: "E_TOO_MANY_GUESSES" });
    expect(l.state).toBe("failed");
  });

  test("a listener's guess is taken at the share and given back at a matching CONFIRM", () => {
    let guesses = 0;
    const { lastL } = run(
      {},
      {
        mayGuess: () => {
          guesses++;
          return true;
        },
      },
    );
    expect(guesses).toBe(1);
    expect(lastL.guessReturned).toBe(true);
  });
});
