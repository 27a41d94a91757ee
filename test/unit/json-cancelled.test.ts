/**
 * --json's counts at the session's end tell cancelled transfers from failed ones, as the human
 * lines do: E_COMMAND_INCOMPLETE's `command` and E_FOLDER_INCOMPLETE's `folder` carry `cancelled`
 * (of their `failed`). Before, a cancel counted as one more failed only.
 */

import { expect, test } from "bun:test";
import { JsonReporter } from "../../src/cli/json-reporter.ts";
import type { TransferInfo } from "../../src/session/index.ts";

function reporter() {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) > 0 };
  return { json: new JsonReporter(out, out, true), events: () => lines.map((l) => JSON.parse(l)) };
}

test("a command of three cut short after one cancelled and one failed: cancelled 1 of failed 2", () => {
  const { json, events } = reporter();
  const command = { seq: 1, transfers: 3 };
  const file = (id: number): TransferInfo => ({ id, direction: "receive", name: `f${id}.bin`, size: 10, command });
  json.failed(file(1), "cancelled by the sender", "E_CANCELLED");
  json.failed(file(3), "the disk is full", "E_WRITE");
  json.sessionEnded();
  const incomplete = events().find((e) => e.code === "E_COMMAND_INCOMPLETE");
  expect(incomplete?.command).toEqual({ seq: 1, transfers: 3, saved: 0, failed: 2, cancelled: 1, bytes: 0 });
});

test("a folder of three cut short after an entry cancelled: its E_FOLDER_INCOMPLETE says cancelled 1", () => {
  const { json, events } = reporter();
  const entry = (id: number): TransferInfo => ({
    id,
    direction: "receive",
    name: `e${id}.bin`,
    size: 10,
    folder: { group: 1, root: "album", path: [`e${id}.bin`], entries: 3, bytes: 30 },
  });
  json.offered(entry(1));
  json.failed(entry(1), "cancelled by the sender", "E_CANCELLED");
  json.sessionEnded();
  const incomplete = events().find((e) => e.code === "E_FOLDER_INCOMPLETE");
  expect(incomplete?.folder).toMatchObject({ entries: 3, done: 0, failed: 1, cancelled: 1 });
});
