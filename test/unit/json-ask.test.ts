/**
 * `receive --json --ask` with the events and the questions on one terminal: an event that comes
 * while a question waits is held until its answer is read, then written whole on its own line.
 * Before, it was written after "[y/N] " (the JSON line cut in two on screen, the answer typed
 * after it); showing the question again below it instead raced with an answer the terminal had
 * echoed and this process had not read yet. The screen here is one list of writes, the
 * terminal's echo of a typed answer included.
 */

import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { JsonReporter } from "../../src/cli/json-reporter.ts";
import type { TransferInfo } from "../../src/session/index.ts";
import { Asker } from "../../src/ui/index.ts";

function file(id: number, name: string): TransferInfo {
  return { id, direction: "receive", name, size: 6 };
}

/** One terminal: the reporter's events and notes, the asker's questions, and what the user types (echoed). */
function terminal() {
  const screen: string[] = [];
  const tty = { write: (s: string) => screen.push(s) > 0, isTTY: true };
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const reporter = new JsonReporter(tty, tty, true);
  const asker = new Asker(input, tty);
  reporter.shareLinesWith(asker);
  /** Types `line` and Enter: the terminal echoes it at once; the process reads it later. */
  const type = (line: string) => {
    screen.push(`${line}\n`);
    input.write(`${line}\n`);
  };
  return { screen, reporter, asker, type, text: () => screen.join("") };
}

const offerLine = (id: number, name: string) =>
  `{"type":"offer","id":${id},"direction":"receive","name":"${name}","size":6}\n`;

test("an event while the question waits is written after its answer, on a line of its own", async () => {
  const { reporter, asker, type, text } = terminal();
  reporter.offered(file(1, "a.txt"));
  const answer = asker.ask("Accept a.txt (6 bytes)? [y/N] ");
  await Bun.sleep(5);
  reporter.offered(file(3, "b.txt"));
  reporter.note("a note on stderr");
  expect(text()).toBe(`${offerLine(1, "a.txt")}Accept a.txt (6 bytes)? [y/N] `);
  type("y");
  expect(await answer).toBe(true);
  expect(text()).toBe(
    `${offerLine(1, "a.txt")}Accept a.txt (6 bytes)? [y/N] y\n${offerLine(3, "b.txt")}a note on stderr\n`,
  );
  asker.close();
});

test("an answer typed before the process reads it: the event after it is not put before it, the question not shown again", async () => {
  const { reporter, asker, type, text } = terminal();
  const answer = asker.ask("Accept a.txt (6 bytes)? [y/N] ");
  await Bun.sleep(5);
  type("y"); // echoed; read on a later turn
  reporter.offered(file(3, "b.txt"));
  expect(await answer).toBe(true);
  expect(text()).toBe(`Accept a.txt (6 bytes)? [y/N] y\n${offerLine(3, "b.txt")}`);
  asker.close();
});

test("progress held while a question waits: one event a transfer, its latest", async () => {
  const { reporter, asker, type, screen } = terminal();
  const answer = asker.ask("Accept b.txt (6 bytes)? [y/N] ");
  await Bun.sleep(5);
  for (const bytes of [1, 2, 3]) {
    reporter.progressed(file(1, "a.txt"), bytes);
    await Bun.sleep(110); // past PROGRESS_EVERY_MS: each is an event
  }
  type("n");
  expect(await answer).toBe(false);
  const events = screen.filter((s) => s.startsWith("{")).map((s) => JSON.parse(s) as { type: string; bytes: number });
  expect(events).toEqual([expect.objectContaining({ type: "progress", bytes: 3 })]);
  asker.close();
});

test("a signal's end of the question's line writes what was held", async () => {
  const { reporter, asker, text } = terminal();
  void asker.ask("Accept a.txt (6 bytes)? [y/N] ");
  await Bun.sleep(5);
  reporter.offered(file(3, "b.txt"));
  asker.endLine();
  expect(text()).toBe(`Accept a.txt (6 bytes)? [y/N] \n${offerLine(3, "b.txt")}`);
  asker.close();
});

test("a question whose offer is gone (the peer left) holds nothing: its line is ended, the event written", async () => {
  const { reporter, asker, text } = terminal();
  let wanted = true;
  void asker.ask("Accept a.txt (6 bytes)? [y/N] ", () => wanted);
  await Bun.sleep(5);
  wanted = false;
  reporter.bye("interrupted");
  expect(text()).toBe(`Accept a.txt (6 bytes)? [y/N] \n{"type":"bye","reason":"interrupted"}\n`);
  asker.close();
});

test("events to another place than the questions' (a pipe, a file) are written at once", async () => {
  const events: string[] = [];
  const questions: string[] = [];
  const reporter = new JsonReporter(
    { write: (s: string) => events.push(s) > 0 },
    { write: (s: string) => questions.push(s) > 0, isTTY: true },
    true,
  );
  const asker = new Asker(Object.assign(new PassThrough(), { isTTY: true }), {
    write: (s: string) => questions.push(s) > 0,
  });
  reporter.shareLinesWith(asker);
  void asker.ask("Accept a.txt (6 bytes)? [y/N] ");
  await Bun.sleep(5);
  reporter.offered(file(3, "b.txt"));
  expect(events).toEqual([offerLine(3, "b.txt")]);
  asker.close();
});

test("events elsewhere than the question: a note held for it is written before the bye that ends the session", async () => {
  // review31: the note came out a turn after asker.close(), after "(input ended)" and the bye.
  const writes: string[] = [];
  const out = { write: (s: string) => writes.push(`out: ${s}`) > 0, isTTY: false };
  const err = { write: (s: string) => writes.push(`err: ${s}`) > 0, isTTY: true };
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const reporter = new JsonReporter(out, err, true);
  const asker = new Asker(input, err);
  reporter.shareLinesWith(asker, false);
  let wanted = true;
  const answer = asker.ask("Accept a.txt (6 bytes)? [y/N] ", () => wanted);
  await Bun.sleep(5);
  reporter.note("a note on stderr");
  expect(writes).toEqual(["err: Accept a.txt (6 bytes)? [y/N] "]); // held: it would follow "[y/N] "
  wanted = false; // the session ended: the offer is gone
  reporter.bye("done");
  asker.close();
  expect(await answer).toBe(false);
  await Bun.sleep(5);
  expect(writes).toEqual([
    "err: Accept a.txt (6 bytes)? [y/N] ",
    "err: \n",
    "err: a note on stderr\n",
    'out: {"type":"bye","reason":"done"}\n',
  ]);
});
