/** Which connection becomes the session (issue 11.2, 12.2): pure rules, no sockets. */

import { expect, test } from "bun:test";
import { type Choosable, displaces, holdsReady, pickCandidate } from "../../src/session/candidate-choice.ts";
import type { Security } from "../../src/session/handshake.ts";

const code: Security = { mode: "code", verification: "111 111" };
const port: Security = { mode: "port", verification: "222 222" };

test.each<[Choosable[], number, string]>([
  [
    [
      { security: port, origin: "dialed" },
      { security: code, origin: "accepted" },
    ],
    1,
    "verified beats dialed",
  ],
  [
    [
      { security: code, origin: "accepted" },
      { security: code, origin: "dialed" },
    ],
    1,
    "then the one we dialed",
  ],
  [
    [
      { security: port, origin: "accepted" },
      { security: port, origin: "accepted" },
    ],
    0,
    "else the first",
  ],
])("pickCandidate, case %#", (leading, index) => {
  expect(pickCandidate(leading)).toBe(leading[index] as Choosable);
});

test("a verified newcomer displaces an unverified candidate, never the other way", () => {
  expect(displaces(code, port)).toBe(true);
  expect(displaces(port, code)).toBe(false);
  expect(displaces(code, code)).toBe(false);
  expect(displaces(port, port)).toBe(false);
});

test("an unverified READY waits only while a dial with the code is under way", () => {
  expect(holdsReady(port, 1)).toBe(true);
  expect(holdsReady(port, 0)).toBe(false);
  expect(holdsReady(code, 1)).toBe(false);
});
