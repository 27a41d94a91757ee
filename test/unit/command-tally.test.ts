/** CommandTally: a command of several transfers ends once, when as many as its tag says have ended. */

import { expect, test } from "bun:test";
import { CommandTally, MAX_OPEN_COMMANDS } from "../../src/ui/command-tally.ts";

const send = (seq: number, transfers: number) => ({ direction: "send" as const, command: { seq, transfers } });

test("each command ends once, when its last transfer ends, whatever the order across commands", () => {
  const t = new CommandTally();
  expect(t.ended(send(1, 2), 5)).toBeUndefined();
  expect(t.ended(send(2, 3), 10)).toBeUndefined();
  expect(t.ended(send(1, 2), 5)).toEqual({
    transfers: 2,
    saved: 2,
    failed: 0,
    cancelled: 0,
    bytes: 10,
    cutBytes: 0,
    entries: 0,
  });
  expect(t.ended(send(2, 3), undefined)).toBeUndefined();
  expect(t.ended(send(2, 3), 1)).toEqual({
    transfers: 3,
    saved: 2,
    failed: 1,
    cancelled: 0,
    bytes: 11,
    cutBytes: 0,
    entries: 0,
  });
  expect(t.ended({ direction: "send" }, 7)).toBeUndefined(); // no command's
});

test("the same number in the other direction is another command (the peer numbers its own)", () => {
  const t = new CommandTally();
  expect(t.ended(send(1, 2), 1)).toBeUndefined();
  expect(t.ended({ direction: "receive", command: { seq: 1, transfers: 2 } }, 1)).toBeUndefined();
  expect(t.ended(send(1, 2), 1)?.saved).toBe(2);
});

test("commands a peer never finishes are bounded: the oldest is forgotten", () => {
  const t = new CommandTally();
  expect(t.ended(send(1, 2), 1)).toBeUndefined();
  for (let seq = 2; seq <= MAX_OPEN_COMMANDS + 1; seq++) t.ended(send(seq, 1e9), 1);
  // Command 1 was forgotten: its second transfer starts a count of its own, so it does not end it.
  expect(t.ended(send(1, 2), 1)).toBeUndefined();
  // Still remembered: the newest.
  expect(t.ended(send(MAX_OPEN_COMMANDS + 1, 1e9), 1)).toBeUndefined();
});

test("an entry refused with its whole folder fails with the entries never offered (folderRest)", () => {
  const t = new CommandTally();
  expect(t.ended(send(1, 5), 3)).toBeUndefined();
  // The folder's second entry refused whole: it and the 3 never offered end the command.
  expect(t.ended({ ...send(1, 5), folderRest: 3 }, undefined)).toEqual({
    transfers: 5,
    saved: 1,
    failed: 4,
    cancelled: 0,
    bytes: 3,
    cutBytes: 0,
    entries: 0,
  });
});

test("a folder's entries are counted apart: a command of a file and a folder of 3 is 4 transfers, 3 of them entries", () => {
  const t = new CommandTally();
  const folder = { group: 1, root: "pics", path: ["a.jpg"], entries: 3, bytes: 3 };
  expect(t.ended(send(1, 4), 5)).toBeUndefined();
  expect(t.ended({ ...send(1, 4), folder }, 1)).toBeUndefined();
  expect(t.ended({ ...send(1, 4), folder, folderRest: 1 }, undefined)).toEqual({
    transfers: 4,
    saved: 2,
    failed: 2,
    cancelled: 0,
    bytes: 6,
    cutBytes: 0,
    entries: 3,
  });
});
