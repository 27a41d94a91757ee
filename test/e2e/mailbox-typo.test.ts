/**
 * A mailbox code with a word one typo from the PGP list (6-unicorn-burban for 6-unicorn-burbank)
 * is not tried, against the real mailbox server: trying it ended both sides with "wrong code ...
 * a mailbox code is good for one try", the peer's code spent. receive with it on the command
 * line or in a --code-file ends with the word meant, exit 1, and the right code still works; the
 * chat's code prompt says so and asks again, and the same code typed again is tried as typed.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EVEN_WORDS, ODD_WORDS } from "../../src/crypto/wormhole-words.ts";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";
import { parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mistyped mailbox codes (test/e2e/mailbox-typo.test.ts)");
afterEach(cleanup);

const TEST_MS = 60_000;
const WORDS = new Set([...ODD_WORDS, ...EVEN_WORDS]);

/** The code with its last word's last letter left out ("burbank" -> "burban"), and that word. */
function mistyped(code: string): { typo: string; word: string } {
  const word = code.split("-").at(-1) as string;
  const short = WORDS.has(word.slice(0, -1)) ? word.slice(1) : word.slice(0, -1);
  return { typo: `${code.slice(0, -word.length)}${short}`, word };
}

/** `bun run chat` with the test's mailbox, plain output, its own download folder. */
function mailboxChat(name: string, extra: readonly string[] = []) {
  return startCli(name, [...kit.mailbox(), "--name", name, "--no-progress", "--dir", makeTempDir(), ...extra]);
}

/** Alice's chat waiting in the mailbox, her code, and the code one letter off (with the word it misses). */
async function aliceWaiting() {
  const alice = mailboxChat("alice");
  const { match } = await alice.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 30_000);
  const code = match[1] as string;
  return { alice, code, ...mistyped(code) };
}

describe.skipIf(!kit.available)("a mistyped mailbox code (real mailbox server)", () => {
  test.each([
    ["on the command line", false],
    ["in a --code-file", true],
  ])(
    "receive with it %s: not tried, the word meant said, exit 1; the right code then works",
    async (_where, inFile) => {
      const file = join(makeTempDir(), "note.txt");
      writeFileSync(file, "typed once, right\n");
      const sender = startCli("sender", ["send", file, ...kit.mailbox(), "--json"]);
      const code = await parleyCode(sender);
      const { typo, word } = mistyped(code);
      const codeFile = join(makeTempDir(), "code.txt");
      writeFileSync(codeFile, `${typo}\n`);
      const dir = makeTempDir();
      const given = inFile ? ["--code-file", codeFile] : [typo];
      const wrong = startCli("typo", ["receive", ...given, ...kit.mailbox(), "--dir", dir]);
      expect(await wrong.exitCode(), wrong.describe()).toBe(1);
      const said = `${wrong.stdout}\n${wrong.stderr}`;
      expect(said).toContain(`${typo} looks mistyped, nothing was tried`);
      expect(said).toContain(`(did you mean "${word}"?)`);
      expect(said).toContain("type it twice at the code prompt of parley");
      expect(said).not.toContain("wrong code");
      // Before: both sides ended with "wrong code", the sender's code spent.
      const right = startCli("receiver", ["receive", code, ...kit.mailbox(), "--dir", dir]);
      expect(await right.exitCode(30_000), right.describe()).toBe(0);
      expect(await sender.exitCode(30_000), sender.describe()).toBe(0);
      expect(readFileSync(join(dir, "note.txt")).equals(readFileSync(file))).toBe(true);
    },
    TEST_MS,
  );

  test(
    "the chat's code prompt: not tried, said with the word meant; the right code then meets the peer",
    async () => {
      const { alice, code, typo, word } = await aliceWaiting();
      const bob = mailboxChat("bob");
      bob.send(typo);
      const { line } = await bob.waitForLine(/^Not tried, it looks mistyped/, 30_000, 0, /^Joining/);
      expect(line).toContain(`(did you mean "${word}"?)`);
      expect(line).toContain("the very same code again is tried as typed");
      bob.send(code);
      await bob.waitForLine(new RegExp(`^Joining ${code}\\.\\.\\.$`));
      bob.send("hello alice, second try");
      await alice.waitForLine(/^<bob> hello alice, second try$/, 30_000);
      expect(alice.stdout).not.toContain("wrong code");
      bob.send("exit");
      expect(await bob.exitCode()).toBe(0);
      expect(await alice.exitCode()).toBe(0);
    },
    TEST_MS,
  );

  test(
    "a script's mistyped code piped to the chat, then the end of its input: the line, exit 1 (a failed code), nothing tried",
    async () => {
      const { alice, typo } = await aliceWaiting();
      const bob = mailboxChat("bob");
      bob.send(typo);
      bob.endInput();
      // Before: exit 0, as if the script had given up on its own; a code tried and failed is 1 (2 for a wrong one).
      expect(await bob.exitCode(), bob.describe()).toBe(1);
      expect(bob.lines.some((l) => l.startsWith("Not tried, it looks mistyped"))).toBe(true);
      expect(bob.stdout).not.toContain("Joining");
      alice.send("exit");
      expect(await alice.exitCode()).toBe(0);
      expect(alice.stdout).not.toContain("wrong code");
    },
    TEST_MS,
  );

  test(
    "the chat's code prompt: the same code typed again, another typo between, is tried as typed (a code the peer chose)",
    async () => {
      const { alice, code, typo, word } = await aliceWaiting();
      const bob = mailboxChat("bob");
      bob.send(typo);
      const first = await bob.waitForLine(/^Not tried, it looks mistyped/, 30_000);
      // Another typo in between: refused too, and the first typed again is still tried as typed.
      bob.send(`${code}x`);
      const second = await bob.waitForLine(/^Not tried, it looks mistyped/, 30_000, first.index + 1, /^Joining/);
      expect(second.line).toContain(`"${word}x" is not a word of mailbox codes`);
      bob.send(typo);
      await bob.waitForLine(new RegExp(`^Joining ${typo}\\.\\.\\.$`), 30_000, second.index + 1, /^Not tried/);
      // Alice's code is not the typo: tried, it is a wrong code on both sides, as before.
      await alice.waitForLine(/wrong code/, 30_000);
      await bob.waitForLine(/wrong code/, 30_000);
      bob.endInput();
      alice.endInput();
      await bob.exitCode();
      await alice.exitCode();
    },
    TEST_MS,
  );

  test(
    "the chat with --connect and a mistyped code: the line, exit 1, nothing tried",
    async () => {
      const { alice, typo, word } = await aliceWaiting();
      const bob = mailboxChat("bob", ["--connect", typo]);
      expect(await bob.exitCode(), bob.describe()).toBe(1);
      expect(`${bob.stdout}\n${bob.stderr}`).toContain(`(did you mean "${word}"?)`);
      alice.send(`exit`);
      expect(await alice.exitCode()).toBe(0);
      expect(alice.stdout).not.toContain("wrong code");
    },
    TEST_MS,
  );

  test(
    "a script's chat with --connect and no mailbox code at all: a usage error, exit 1, as a direct one's",
    async () => {
      // Before: "Error: not a mailbox code ...", then at the end of input exit 0, as if it had given up.
      const bob = mailboxChat("bob", ["--connect", "not-a-code"]);
      bob.endInput();
      expect(await bob.exitCode(), bob.describe()).toBe(1);
      expect(bob.stderr).toContain("--connect: not a mailbox code (like 7-crossover-clockwork)");
    },
    TEST_MS,
  );
});
