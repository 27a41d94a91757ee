/**
 * dialTarget (cli/connect.ts): where a typed code points, and with which words. A bare port
 * completed with the code of PARLEY_CODE / --code-file must be that code's port: another one
 * (a typo) dialed another listener with these words, spent one of its three guesses and said
 * "wrong code" of a right code. Words alone in PARLEY_CODE complete any port (a forwarded one).
 */

import { describe, expect, test } from "bun:test";
import { dialTarget } from "../../src/cli/dial-target.ts";

const OPTIONS = { host: "127.0.0.1", insecurePortOnly: false };

describe("dialTarget", () => {
  test("a whole code typed: its port and words, whatever PARLEY_CODE holds", () => {
    expect(dialTarget("40123-ribbon-walnut", { ...OPTIONS, peerCode: "40999-oyster-velvet" })).toEqual({
      host: "127.0.0.1",
      port: 40123,
      words: "ribbon-walnut",
    });
  });

  test("a bare port with the code of that port: the code's words", () => {
    expect(dialTarget("40123", { ...OPTIONS, peerCode: "40123-ribbon-walnut" })).toEqual({
      host: "127.0.0.1",
      port: 40123,
      words: "ribbon-walnut",
    });
    expect(dialTarget("127.0.0.1:40123", { ...OPTIONS, peerCode: "192.0.2.7:40123-ribbon-walnut" })).toEqual({
      host: "127.0.0.1",
      port: 40123,
      words: "ribbon-walnut",
    });
  });

  test("a bare port that is not the code's port: a problem naming both, nothing to dial", () => {
    const target = dialTarget("40124", { ...OPTIONS, peerCode: "40123-ribbon-walnut" });
    expect(target).toEqual({
      problem:
        "the code in PARLEY_CODE or --code-file is for port 40123, not 40124: give that port, or (a port forwarded to the peer's) put only the code's words there",
      onlyPort: false,
    });
    expect(dialTarget("192.0.2.7:5000", { ...OPTIONS, peerCode: "192.0.2.7:40123-ribbon-walnut" })).toHaveProperty(
      "problem",
    );
  });

  test("words alone in PARLEY_CODE complete any port (a forwarded one)", () => {
    expect(dialTarget("5000", { ...OPTIONS, peerCode: "ribbon-walnut" })).toEqual({
      host: "127.0.0.1",
      port: 5000,
      words: "ribbon-walnut",
    });
  });

  test("a bare port without any code: a problem, unless --insecure-port-only", () => {
    expect(dialTarget("40123", OPTIONS)).toHaveProperty("onlyPort", true);
    expect(dialTarget("40123", { ...OPTIONS, insecurePortOnly: true })).toEqual({
      host: "127.0.0.1",
      port: 40123,
      words: "",
    });
  });
});
