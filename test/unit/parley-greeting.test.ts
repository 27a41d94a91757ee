/**
 * A Parley peer's greeting in its mailbox version message (`app_versions.parley.hello`, the hex
 * of its HELLO body): read when well formed; refused by its length before its characters are
 * looked at (a version message may be megabytes; a regex over a million characters took 0.9 s).
 */

import { expect, test } from "bun:test";
import { encodeMessage, HEADER_BYTES, makeHello } from "../../src/protocol/index.ts";
import { MAX_GREETING_CHARS, parleyHello } from "../../src/session/mailbox-rendezvous.ts";

const versions = (hello: unknown) => ({ app_versions: { parley: { v: 1, hello } } });
const ours = Buffer.from(encodeMessage(makeHello("0123456789abcdef", "alice")).subarray(HEADER_BYTES)).toString("hex");

test("a well-formed greeting is the peer's HELLO; none is a plain wormhole client", () => {
  expect(parleyHello(versions(ours))).toMatchObject({ kind: "hello", app: "parley" });
  expect(parleyHello({ app_versions: {} })).toBeUndefined();
});

test.each([
  ["not text", 7],
  ["empty", ""],
  ["an odd number of digits", `${ours}0`],
  ["not hex", `${ours.slice(0, -2)}zz`],
])("a greeting that is %s is malformed", (_, hello) => {
  expect(() => parleyHello(versions(hello))).toThrow("the peer's Parley greeting is malformed");
});

test("a greeting longer than a HELLO can be is refused as too long, by its length (a megabyte of hex digits)", () => {
  // Hex all through, so only its length can refuse it: on the old code the whole megabyte went
  // through the regex, and then failed as "malformed".
  const long = "00".repeat(512 * 1024);
  expect(() => parleyHello(versions(long))).toThrow(
    `the peer's Parley greeting is too long (1048576 characters, at most ${MAX_GREETING_CHARS})`,
  );
  // The longest one allowed is looked at (and is no HELLO).
  expect(() => parleyHello(versions("00".repeat(MAX_GREETING_CHARS / 2)))).toThrow("malformed");
});
