/**
 * Real chat processes on 127.0.0.1: `cancel ID` on a folder's entry (its id from `transfers`)
 * stops the whole folder, from either side; both sides say so and end the folder as incomplete,
 * the receiver keeps no later entry, and the chat goes on.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, makeTempDir, type Peer, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 60_000;
const ENTRIES = 20;

async function connect(a: Peer, b: Peer): Promise<void> {
  a.cli.send(b.code);
  await Promise.all([a.cli.waitForLine(/^Connected to/), b.cli.waitForLine(/^Connected to/)]);
}

/** photos/: first.txt (tiny), then e02.bin ... e20.bin of 1 MiB each. */
function photos(): string {
  const root = join(makeTempDir(), "photos");
  mkdirSync(root);
  writeFileSync(join(root, "first.txt"), "hello\n");
  for (let i = 2; i <= ENTRIES; i++)
    writeFileSync(join(root, `e${String(i).padStart(2, "0")}.bin`), Buffer.alloc(1 << 20, i));
  return root;
}

/**
 * The second entry of photos/ that `transfers` lists going `verb`, asked again until two are
 * listed: the receiver may list the folder's first entry before the next offers have come. Each
 * listing is closed by the line an unknown command prints, typed right after it.
 */
async function secondListed(peer: Peer, verb: string): Promise<RegExpExecArray> {
  const entry = new RegExp(`^#(\\d+) ${verb} photos/(\\S+): `);
  for (let asked = 0; asked < 100; asked++) {
    const from = peer.cli.lines.length;
    peer.cli.send("transfers");
    peer.cli.send("/listed");
    const end = await peer.cli.waitForLine(/^Unknown command \/listed\./, undefined, from);
    const listed = peer.cli.lines
      .slice(from, end.index)
      .map((line) => entry.exec(line))
      .filter((m) => m !== null);
    if (listed.length >= 2) return listed[1] as RegExpExecArray;
    await Bun.sleep(20);
  }
  throw new Error(`${peer.cli.describe()}\nnever two entries of photos/ listed ${verb}`);
}

for (const side of ["sender", "receiver"] as const) {
  test(
    `the ${side}'s cancel on the folder's 2nd entry stops the whole folder; both sides say so`,
    async () => {
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "2M"]), startPeer("bob")]);
      await connect(a, b);
      const root = photos();
      const notes = join(root, "..", "notes.txt");
      writeFileSync(notes, "after the folder");
      a.cli.send(`transfer ${root} ${notes}`);
      await b.cli.waitForLine(/^Receiving folder photos/);
      const canceller = side === "sender" ? a : b;
      const verb = side === "sender" ? "sending" : "receiving";
      // The second entry listed (the walk's order, not the names'): its id, and its name.
      const match = await secondListed(canceller, verb);
      const [id, name] = [match[1] as string, (match[2] as string).replace(".", "\\.")];
      canceller.cli.send(`cancel ${id}`);
      const Verb = side === "sender" ? "Sending" : "Receiving";
      await canceller.cli.waitForLine(
        new RegExp(`^${Verb} #${id} photos/${name} failed: cancelled by the ${side}, with its whole folder\\.$`),
      );
      const other = side === "sender" ? b : a;
      const OtherVerb = side === "sender" ? "Receiving" : "Sending";
      const theirs = `the peer cancelled it: cancelled by the ${side}, with its whole folder`;
      await other.cli.waitForLine(new RegExp(`^${OtherVerb} #${id} photos/${name} failed: ${theirs}\\.$`));
      // Both end the folder now, not at the session's end: every entry is counted.
      await a.cli.waitForLine(/^Folder photos: .*of 20 entries cancelled/);
      await b.cli.waitForLine(/^Folder photos: .*of 20 entries cancelled/);
      // The folder's end is said before the next file of the command is offered: notes.txt's
      // Sending line came between the cancelled entries and "Folder photos: ...".
      const folderEnd = await a.cli.waitForLine(/^Folder photos: /);
      const notesSent = await a.cli.waitForLine(/^Sending #\d+ notes\.txt /);
      expect(folderEnd.index, a.cli.describe()).toBeLessThan(notesSent.index);
      await b.cli.waitForLine(/^Saved .*notes\.txt; /);
      a.cli.send("transfers");
      await a.cli.waitForLine(/^No transfers in progress\.$/);
      a.cli.send("still talking");
      await b.cli.waitForLine(/^<alice> still talking$/);
      const stored = readdirSync(join(b.dir, "photos")).filter((n) => n !== ".parley-unfinished" && n !== "first.txt");
      expect(stored).toEqual([]); // no later entry, no .part of a cancelled one
    },
    TEST_MS,
  );
}
