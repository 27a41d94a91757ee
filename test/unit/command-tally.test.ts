/** CommandTally: which outgoing transfer belongs to which command, and when a command has ended. */

import { expect, test } from "bun:test";
import { CommandTally } from "../../src/ui/command-tally.ts";

test("ids go to commands in the order the sends were handed over; each command ends once", () => {
  const t = new CommandTally();
  t.started(2, 2);
  t.started(3, 3);
  for (const id of [1, 3, 5, 7, 9]) t.offered(id);
  expect(t.saved(3, 10)).toBeUndefined();
  expect(t.saved(1, 5)).toEqual({ units: 2, transfers: 2, saved: 2, failed: 0, bytes: 15 });
  expect(t.failed(9)).toBeUndefined();
  expect(t.saved(5, 1)).toBeUndefined();
  expect(t.saved(7, 1)).toEqual({ units: 3, transfers: 3, saved: 2, failed: 1, bytes: 2 });
  expect(t.saved(11, 1)).toBeUndefined(); // not a command's
});

test("a send that was never handed over counts as failed and takes no id", () => {
  const t = new CommandTally();
  t.started(2, 2);
  t.offered(1);
  expect(t.notTaken()).toBeUndefined();
  t.started(2, 2);
  t.offered(3);
  t.offered(5);
  expect(t.saved(1, 4)).toEqual({ units: 2, transfers: 2, saved: 1, failed: 1, bytes: 4 });
});
