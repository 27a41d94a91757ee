/**
 * The y/n asker (issue 11.17): one question at a time, each answer to the question just
 * shown; answers typed ahead wait their turn; the end of input is "no".
 */

import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Asker } from "../../src/ui/index.ts";

function setup() {
  const input = new PassThrough();
  const shown: string[] = [];
  const asker = new Asker(input, { write: (t: string) => shown.push(t) });
  return { input, shown, asker };
}

test("three offers at once: one question shown at a time, each answer goes to the file it names", async () => {
  const { input, shown, asker } = setup();
  const answers = ["mid50.bin", "big300.bin", "small.txt"].map((name) => asker.ask(`Accept ${name}? [y/N] `));
  await Bun.sleep(0);
  expect(shown).toEqual(["Accept mid50.bin? [y/N] "]); // not all three at once
  input.write("y\n");
  expect(await answers[0]).toBe(true);
  await Bun.sleep(0);
  expect(shown).toEqual(["Accept mid50.bin? [y/N] ", "Accept big300.bin? [y/N] "]);
  input.write("n\n");
  expect(await answers[1]).toBe(false);
  input.write("yes\n");
  expect(await answers[2]).toBe(true);
  expect(shown).toHaveLength(3);
  asker.close();
});

test("answers piped ahead are used in order; the end of input answers no", async () => {
  const { input, asker } = setup();
  input.write("y\nn\n");
  input.end();
  const results = await Promise.all([asker.ask("a? "), asker.ask("b? "), asker.ask("c? ")]);
  expect(results).toEqual([true, false, false]);
  asker.close();
});

test("the end of input ends the question's line and is told apart from a typed no", async () => {
  const { input, shown, asker } = setup();
  const typed = asker.ask("a? ");
  input.write("n\n");
  expect(await typed).toBe(false);
  expect(asker.inputEnded).toBe(false);
  const unanswered = asker.ask("b? ");
  input.end();
  expect(await unanswered).toBe(false);
  expect(asker.inputEnded).toBe(true);
  expect(shown).toEqual(["a? ", "b? ", "\n"]);
  asker.close();
});

test("a question no longer wanted when its turn comes is skipped", async () => {
  const { input, shown, asker } = setup();
  const first = asker.ask("first? ");
  const second = asker.ask("second? ", () => false);
  const third = asker.ask("third? ");
  input.write("y\ny\n");
  expect(await Promise.all([first, second, third])).toEqual([true, false, true]);
  expect(shown).toEqual(["first? ", "third? "]);
  asker.close();
});

test("endLine ends a question's line only while it waits for its answer", async () => {
  const { input, shown, asker } = setup();
  asker.endLine(); // nothing asked: nothing to end
  expect(shown).toEqual([]);
  const answer = asker.ask("a? ");
  await Bun.sleep(0);
  asker.endLine(); // a signal's line is about to be printed
  asker.endLine();
  expect(shown).toEqual(["a? ", "\n"]);
  input.write("y\n");
  await answer;
  asker.endLine(); // answered: its line was ended by the Enter
  expect(shown).toEqual(["a? ", "\n"]);
  asker.close();
});
