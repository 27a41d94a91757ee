/** The mailbox flow's flags and environment: nothing contacted unless given, defaults, errors. */

import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/cli/flags.ts";
import {
  mailboxFlags,
  PUBLIC_MAILBOX_URL,
  PUBLIC_TRANSIT_HELPER,
  parseTransitHelper,
} from "../../src/cli/mailbox-options.ts";
import { OPEN_TIMEOUT_MS } from "../../src/net/index.ts";
import { answerTimes, SERVER_ANSWER_MS } from "../../src/session/mailbox-answers.ts";

describe("mailbox flags", () => {
  test("nothing given: no mailbox (the direct flow)", () => {
    expect(mailboxFlags({}, {})).toBeUndefined();
  });

  test("flags, then the wormhole CLI's variables, then --relay's public servers", () => {
    expect(mailboxFlags({ "relay-url": "ws://h:1/v1", "transit-helper": "tcp:h:2" }, {})).toEqual({
      mailboxUrl: "ws://h:1/v1",
      transitHelper: { host: "h", port: 2 },
      noListen: false,
    });
    expect(mailboxFlags({}, { WORMHOLE_RELAY_URL: "ws://e:1/v1", WORMHOLE_TRANSIT_HELPER: "tcp:e:2" })).toEqual({
      mailboxUrl: "ws://e:1/v1",
      transitHelper: { host: "e", port: 2 },
      noListen: false,
    });
    expect(mailboxFlags({ relay: true, "no-listen": true }, {})).toEqual({
      mailboxUrl: PUBLIC_MAILBOX_URL,
      transitHelper: parseTransitHelper(PUBLIC_TRANSIT_HELPER),
      noListen: true,
    });
    expect(mailboxFlags({ relay: true, "relay-url": "ws://own:1/v1" }, {})?.mailboxUrl).toBe("ws://own:1/v1");
  });

  test("the tests' variables: PARLEY_MAILBOX_RETRY_MS, _CHECK_MS, _ANSWER_MS, _PAUSE_MS and _TEXT_ACK_MS, whole ms; anything else is the default", () => {
    const flags = { "relay-url": "ws://h:1/v1" };
    const env = {
      PARLEY_MAILBOX_RETRY_MS: "1500",
      PARLEY_MAILBOX_CHECK_MS: "300",
      PARLEY_MAILBOX_ANSWER_MS: "2000",
      PARLEY_MAILBOX_PAUSE_MS: "1000",
      PARLEY_MAILBOX_TEXT_ACK_MS: "2500",
    };
    expect(mailboxFlags(flags, env)).toEqual({
      mailboxUrl: "ws://h:1/v1",
      noListen: false,
      retryMs: 1500,
      checkMs: 300,
      answerMs: 2000,
      pauseMs: 1000,
      textAckMs: 2500,
    });
    const odd = {
      PARLEY_MAILBOX_RETRY_MS: "0",
      PARLEY_MAILBOX_CHECK_MS: "1.5",
      PARLEY_MAILBOX_ANSWER_MS: "-1",
      PARLEY_MAILBOX_PAUSE_MS: "2s",
      PARLEY_MAILBOX_TEXT_ACK_MS: "",
    };
    expect(mailboxFlags(flags, odd)).toEqual({ mailboxUrl: "ws://h:1/v1", noListen: false });
  });

  test("PARLEY_MAILBOX_ANSWER_MS shortens the server's time to answer and to welcome us, never lengthens them", () => {
    expect(answerTimes()).toEqual({ answerMs: SERVER_ANSWER_MS, openMs: OPEN_TIMEOUT_MS });
    expect([SERVER_ANSWER_MS, OPEN_TIMEOUT_MS]).toEqual([10_000, 10_000]);
    expect(answerTimes(2_000)).toEqual({ answerMs: 2_000, openMs: 2_000 });
    expect(answerTimes(60_000)).toEqual({ answerMs: 10_000, openMs: 10_000 });
  });

  test("PARLEY_HINT_ADDRESSES: the addresses our direct hints name (commas or spaces, each once); blank is the default; not an IPv4 address is a usage error", () => {
    const flags = { "relay-url": "ws://h:1/v1" };
    expect(mailboxFlags(flags, { PARLEY_HINT_ADDRESSES: "127.0.0.1" })?.hintAddresses).toEqual(["127.0.0.1"]);
    expect(mailboxFlags(flags, { PARLEY_HINT_ADDRESSES: " 10.0.0.2, 127.0.0.1 10.0.0.2" })?.hintAddresses).toEqual([
      "10.0.0.2",
      "127.0.0.1",
    ]);
    for (const blank of [undefined, "", " , "]) {
      expect(mailboxFlags(flags, { PARLEY_HINT_ADDRESSES: blank })).toEqual({
        mailboxUrl: "ws://h:1/v1",
        noListen: false,
      });
    }
    // Not read without a mailbox (the direct flow has no hints).
    expect(mailboxFlags({}, { PARLEY_HINT_ADDRESSES: "nowhere" })).toBeUndefined();
    // The transit listener listens on IPv4's every address: an IPv6 hint would name no listener.
    for (const bad of ["example.org", "::1", "10.0.0.256", "10.0.0", "010.0.0.1", "256.1.1.1"]) {
      expect(() => mailboxFlags(flags, { PARLEY_HINT_ADDRESSES: `127.0.0.1,${bad}` })).toThrow(
        new UsageError(
          `PARLEY_HINT_ADDRESSES must list IPv4 addresses separated by commas (e.g. 127.0.0.1), not "${bad}"`,
        ),
      );
    }
  });

  test("an IPv6 transit helper", () => {
    expect(parseTransitHelper("tcp:[::1]:4001")).toEqual({ host: "::1", port: 4001 });
  });

  test.each([
    [{ "no-listen": true }],
    [{ "transit-helper": "tcp:h:1" }],
    [{ "relay-url": "http://h/v1" }],
    [{ "relay-url": "ws://[::1/v1" }],
    [{ "relay-url": "ws://a b/v1" }],
    [{ "relay-url": "ws://h:99999/v1" }],
    [{ "relay-url": "ws://h:1/v1", "transit-helper": "h:1" }],
    [{ "relay-url": "ws://h:1/v1", "transit-helper": "tcp:h:70000" }],
  ])("usage error: %p", (values) => {
    expect(() => mailboxFlags(values, {})).toThrow(UsageError);
  });
});
