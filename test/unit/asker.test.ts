/**
 * The y/n asker (issue 11.17): one question at a time, each answer to the question just
 * shown; answers typed ahead wait their turn; the end of input is "no"; piped answers are
 * echoed after their question, as a terminal shows typed ones.
 */

import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Asker } from "../../src/ui/index.ts";

/** Answers typed at a terminal (it echoes them), or with `piped`, from a pipe or a file. */
function setup(piped = false) {
  const input = Object.assign(new PassThrough(), { isTTY: !piped });
  const shown: string[] = [];
  const asker = new Asker(input, { write: (t: string) => shown.push(t) });
  return { input, shown, asker };
}

/** An asker and the human reporter sharing one terminal (its screen, what was written to it). */
async function onOneTerminal() {
  const { makeReporter } = await import("../../src/cli/reporter.ts");
  const input = new PassThrough();
  const screen: string[] = [];
  const terminal = { isTTY: true, columns: 80, write: (t: string | Uint8Array) => screen.push(String(t)) > 0 };
  const asker = new Asker(input, terminal);
  const reporter = makeReporter(
    { json: false, progress: false, stdoutTaken: false },
    { stdout: terminal, stderr: terminal },
  );
  reporter.shareLinesWith(asker);
  return { input, screen, asker, reporter };
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

test("answers from a pipe are written after their question, as a terminal echoes typed ones; the end of input is said on the last line", async () => {
  const { input, shown, asker } = setup(true);
  input.write(`y\n  no  \n\u001b]0;x\u0007${"n".repeat(60)}\n`);
  input.end();
  const results = await Promise.all(["a? ", "b? ", "c? ", "d? "].map((q) => asker.ask(q)));
  expect(results).toEqual([true, false, false, false]);
  expect(shown.join("")).toBe(
    `a? y\nb? no\nc? ^[]0;x^G${"n".repeat(32)} … (28 more characters not shown)\nd? (input ended)\n`,
  );
  asker.close();
});

test("after a question met the end of input, later ones are not shown: each a no, its unasked called", async () => {
  const { input, shown, asker } = setup(true);
  input.write("y\n");
  input.end();
  const unasked: string[] = [];
  const results = await Promise.all(
    ["a? ", "b? ", "c? ", "d? "].map((q) =>
      asker.ask(
        q,
        () => true,
        () => unasked.push(q),
      ),
    ),
  );
  expect(results).toEqual([true, false, false, false]);
  // Each later question was shown with "(input ended)" after it.
  expect(shown.join("")).toBe("a? y\nb? (input ended)\n");
  expect(unasked).toEqual(["c? ", "d? "]);
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

test("a question whose offer went while it waits is answered no when the next is asked, not at its turn", async () => {
  // Before: it waited, held, until the question before it had its answer (a person's, any time later).
  const { input, shown, asker } = setup();
  const first = asker.ask("first? ");
  let wanted = true;
  const second = asker.ask("second? ", () => wanted);
  let secondAnswer: boolean | undefined;
  void second.then((a) => {
    secondAnswer = a;
  });
  wanted = false; // the peer cancelled it
  const third = asker.ask("third? ");
  await Bun.sleep(0);
  expect(secondAnswer, "answered while the first question still waits").toBe(false);
  input.write("y\ny\n");
  expect(await Promise.all([first, third])).toEqual([true, true]);
  expect(shown).toEqual(["first? ", "third? "]);
  asker.close();
});

test("offers made and cancelled while a question waits for a person hold nothing: the heap stays put", async () => {
  // A peer offering and cancelling in a loop while the first question waited: each offer's
  // question waited its turn, held (parley receive --ask: 2 KB an offer, 400 MB after 200,000; attack31).
  const { input, asker } = setup();
  const first = asker.ask("first? ");
  const { heapStats } = await import("bun:jsc");
  const heap = () => {
    Bun.gc(true);
    return heapStats().heapSize;
  };
  const before = heap();
  const gone = () => false;
  for (let i = 0; i < 200_000; i++) void asker.ask(`Accept ${"n".repeat(200)}${i}.bin (4 bytes)? [y/N] `, gone);
  const grown = heap() - before;
  expect(grown, `the heap grew by ${grown} bytes`).toBeLessThan(16 * 1024 * 1024);
  input.write("n\n");
  expect(await first).toBe(false);
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

test("--ask at a terminal: a line printed while a question waits is held, and written after its answer", async () => {
  const { input, screen, asker, reporter } = await onOneTerminal();
  reporter.note("Before any question.");
  const answer = asker.ask("Accept b.txt (3 bytes)? [y/N] ");
  await Bun.sleep(0);
  reporter.note("Saved /in/a.txt; XXH3-64 checksum matched (b34d1a3ab2bece70).");
  // Until session 31: "\n", the line, and the question again below it, which raced with an
  // answer typed before it was read (tmux.test.ts shows what a person saw).
  expect(screen.join("")).toBe("Before any question.\nAccept b.txt (3 bytes)? [y/N] ");
  input.write("y\n"); // not a terminal: the asker echoes it (a terminal would)
  expect(await answer).toBe(true);
  expect(screen.join("")).toBe(
    "Before any question.\nAccept b.txt (3 bytes)? [y/N] y\nSaved /in/a.txt; XXH3-64 checksum matched (b34d1a3ab2bece70).\n",
  );
  reporter.note("After.");
  expect(screen.at(-1)).toBe("After.\n");
  asker.close();
});

test("--ask with the lines going elsewhere (receive --ask > log): the question is not repeated", async () => {
  const { makeReporter } = await import("../../src/cli/reporter.ts");
  const input = new PassThrough();
  const screen: string[] = [];
  const log: string[] = [];
  const asker = new Asker(input, { write: (t: string) => screen.push(t) });
  const reporter = makeReporter(
    { json: false, progress: false, stdoutTaken: false },
    {
      stdout: { isTTY: false, write: (t: string | Uint8Array) => log.push(String(t)) > 0 },
      stderr: { isTTY: true, write: (t: string | Uint8Array) => screen.push(String(t)) > 0 },
    },
  );
  reporter.shareLinesWith(asker);
  const answer = asker.ask("Accept b.txt? [y/N] ");
  await Bun.sleep(0);
  reporter.note("Saved a.txt.");
  expect(screen).toEqual(["Accept b.txt? [y/N] "]);
  expect(log).toEqual(["Saved a.txt.\n"]);
  input.end();
  expect(await answer).toBe(false);
  asker.close();
});

test("--ask with the lines and answers on one terminal, the questions on another (2>/dev/pts/5): the question once, its answer after it", async () => {
  const { makeReporter } = await import("../../src/cli/reporter.ts");
  const input = Object.assign(new PassThrough(), { isTTY: true }); // typed at the lines' terminal
  const questions: string[] = [];
  const lines: string[] = [];
  const terminal = (to: string[]) => ({
    isTTY: true,
    columns: 80,
    write: (t: string | Uint8Array) => to.push(String(t)) > 0,
  });
  const asker = new Asker(input, terminal(questions), false); // io.ts samePlace(stdin, stderr): no
  const reporter = makeReporter(
    { json: false, progress: false, stdoutTaken: false },
    { stdout: terminal(lines), stderr: terminal(questions) },
  );
  reporter.shareLinesWith(asker, false); // samePlace(stdout, stderr): two terminals
  const answer = asker.ask("Accept b.txt? [y/N] ");
  await Bun.sleep(0);
  reporter.note("Saved a.txt.");
  input.write("n\n");
  expect(await answer).toBe(false);
  // Before (both isTTY, so one terminal): "\n" and the question again below it, and the answer,
  // echoed at the other terminal, missing: "Accept a.txt? [y/N] Accept b.txt? [y/N]" on one line.
  expect(questions).toEqual(["Accept b.txt? [y/N] ", "n\n"]);
  expect(lines).toEqual(["Saved a.txt.\n"]);
  asker.close();
});

test("--ask with the lines and the questions in one file (receive --ask > log 2>&1): a line printed while a question waits does not follow it on its line", async () => {
  const { makeReporter } = await import("../../src/cli/reporter.ts");
  const input = Object.assign(new PassThrough(), { isTTY: false });
  const log: string[] = [];
  const file = (isTTY: boolean) => ({ isTTY, write: (t: string | Uint8Array) => log.push(String(t)) > 0 });
  const asker = new Asker(input, file(false));
  const reporter = makeReporter(
    { json: false, progress: false, stdoutTaken: false },
    { stdout: file(false), stderr: file(false) },
  );
  reporter.shareLinesWith(asker, true);
  const answer = asker.ask("Accept folder album (1 entry, 2 bytes)? [y/N] ");
  await Bun.sleep(0);
  reporter.note("Saved /in/f (1).txt.");
  input.write("y\n");
  expect(await answer).toBe(true);
  // Before: "Accept folder album (1 entry, 2 bytes)? [y/N] Saved /in/f (1).txt.\ny\n"; then (until
  // session 31) the question again below the line.
  expect(log.join("")).toBe("Accept folder album (1 entry, 2 bytes)? [y/N] y\nSaved /in/f (1).txt.\n");
  asker.close();
});

test("--ask at a terminal: what is held while a question waits is bounded; the rest is counted and said after the answer", async () => {
  const { input, screen, asker, reporter } = await onOneTerminal();
  const answer = asker.ask("Accept b.txt? [y/N] ");
  await Bun.sleep(0);
  const line = "x".repeat(64 * 1024);
  for (let i = 0; i < 20; i++) reporter.chat(line); // 20 x 64 Ki: more than the 1 Mi characters held
  expect(screen.join("")).toBe("Accept b.txt? [y/N] ");
  input.write("n\n");
  expect(await answer).toBe(false);
  const shown = screen.join("").split("\n");
  expect(shown.filter((l) => l.startsWith("<peer> x")).length).toBe(15);
  expect(shown).toContain("5 lines not shown: more came while the question waited than are kept.");
  asker.close();
});
