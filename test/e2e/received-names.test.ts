/**
 * What a received file is stored as, with real processes: names and folder entries starting
 * with a dot are stored with it replaced (issue 11 item 5), invisible characters are dropped
 * from stored names, --json escapes the characters that cut or disguise a line, and the human
 * "Receiving" line names what will be stored (item 11); the exec bit honours the receiver's
 * umask (item 6).
 */

import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, cleanup, connectedPair, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;

/** Every path under `root`, relative, folders ending in "/". */
function listTree(root: string, prefix = ""): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? [`${prefix}${e.name}/`, ...listTree(root, `${prefix}${e.name}/`)] : [`${prefix}${e.name}`],
    )
    .sort();
}

test(
  "a dot file and a dot folder with dot entries are stored with each leading dot replaced by _",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, ".bash_profile"), "echo owned\n");
    const folder = join(src, ".config");
    mkdirSync(join(folder, ".ssh"), { recursive: true });
    writeFileSync(join(folder, ".ssh", "authorized_keys"), "key\n");
    writeFileSync(join(folder, ".hidden"), "h");
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", join(src, ".bash_profile"), folder, "--to", receiver.code]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    expect(listTree(dir)).toEqual([
      "_bash_profile",
      "_config/",
      "_config/_hidden",
      "_config/_ssh/",
      "_config/_ssh/authorized_keys",
    ]);
    expect(readFileSync(join(dir, "_bash_profile"), "utf8")).toBe("echo owned\n");
  },
  TEST_MS,
);

test(
  "under umask 077 an executable file arrives rwx------ and a plain one rw-------",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, "run.sh"), "#!/bin/sh\n");
    chmodSync(join(src, "run.sh"), 0o755);
    writeFileSync(join(src, "plain.txt"), "x");
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir, "077");
    const sender = startCli("sender", ["send", join(src, "run.sh"), join(src, "plain.txt"), "--to", receiver.code]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    expect((statSync(join(dir, "run.sh")).mode & 0o777).toString(8)).toBe("700");
    expect((statSync(join(dir, "plain.txt")).mode & 0o777).toString(8)).toBe("600");
  },
  TEST_MS,
);

const TRICKY = "a\u0085\u009b\u2028\u2029\u202e\u200b\ufeff\u061cb.txt";

test(
  "--json escapes C1 controls, U+2028/2029 and format characters; the stored name drops them",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, TRICKY), "data");
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", join(src, TRICKY), "--to", receiver.code, "--json"]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    expect(readdirSync(dir)).toEqual(["ab.txt"]);
    for (const cli of [sender, receiver.cli]) {
      const raw = cli.stdout;
      // A line-splitting reader (U+0085, U+2028, U+2029 are line breaks to some) sees whole events.
      expect(/[\u007f-\u009f\u2028\u2029\u200b\u202e\ufeff\u061c]/.test(raw), raw).toBe(false);
      for (const line of cli.lines) JSON.parse(line);
    }
    const offer = sender.lines.map((l) => JSON.parse(l)).find((e) => e.type === "offer");
    expect(offer.name).toBe(TRICKY); // escaped on the wire of text, the same string once parsed
  },
  TEST_MS,
);

test(
  "the human Receiving line names the file as it will be stored",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, TRICKY), "data");
    writeFileSync(join(src, ".env"), "SECRET=1");
    writeFileSync(join(src, "a.txt"), "new");
    const dir = makeTempDir();
    writeFileSync(join(dir, "a.txt"), "already here"); // so the new one is stored as "a (1).txt"
    for (const ask of [[], ["--ask"]]) {
      const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress", ...ask]);
      const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
      const paths = [join(src, TRICKY), join(src, ".env"), join(src, "a.txt")];
      const sender = startCli("sender", ["send", ...paths, "--to", match[1] as string]);
      if (ask.length > 0) receiver.send("y\ny\ny");
      expect(await sender.exitCode(), sender.describe()).toBe(0);
      expect(await receiver.exitCode(), receiver.describe()).toBe(0);
      const receiving = receiver.linesMatching(/^Receiving /).sort();
      const [ab, env, a] = ask.length > 0 ? ["ab (1).txt", "_env (1)", "a (2).txt"] : ["ab.txt", "_env", "a (1).txt"];
      expect(receiving).toEqual([
        `Receiving #1 ${ab} (4 bytes).`,
        `Receiving #3 ${env} (8 bytes).`,
        `Receiving #5 ${a} (3 bytes).`,
      ]);
    }
  },
  TEST_MS,
);

test(
  "chat: the Receiving line names the file as it is stored when its name is taken",
  async () => {
    const { a, b } = await connectedPair();
    writeFileSync(join(b.dir, "a.txt"), "already here");
    const src = join(makeTempDir(), "a.txt");
    writeFileSync(src, "new");
    a.cli.send(`transfer ${src}`);
    await b.cli.waitForLine(/^Saved /);
    expect(b.cli.linesMatching(/^Receiving /)).toEqual(["Receiving #1 a (1).txt (3 bytes)."]);
    expect(readFileSync(join(b.dir, "a (1).txt"), "utf8")).toBe("new");
  },
  TEST_MS,
);

test(
  "the sender is told the name the receiver stored the file under (issue 11 item 28)",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, "mid50.bin"), "new");
    writeFileSync(join(src, "same.txt"), "s");
    const dir = makeTempDir();
    writeFileSync(join(dir, "mid50.bin"), "already here");
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", [
      "send",
      join(src, "mid50.bin"),
      join(src, "same.txt"),
      "--to",
      receiver.code,
      "--no-progress",
    ]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    expect(readFileSync(join(dir, "mid50 (1).bin"), "utf8")).toBe("new");
    expect(sender.linesMatching(/^#\d+ mid50\.bin: the receiver saved it as mid50 \(1\)\.bin and its /)).toHaveLength(
      1,
    );
    expect(sender.linesMatching(/^#\d+ same\.txt: the receiver saved it and its /)).toHaveLength(1); // same name: not repeated

    const again = await jsonReceiver(dir);
    const json = startCli("sender", ["send", join(src, "mid50.bin"), "--to", again.code, "--json"]);
    expect(await json.exitCode(), json.describe()).toBe(0);
    await again.cli.exitCode();
    const done = json.lines.map((l) => JSON.parse(l)).find((e) => e.type === "done");
    expect(done.storedAs).toBe("mid50 (2).bin");
  },
  TEST_MS,
);

test(
  "a folder stored under another name (its name taken, or a dot replaced): the sender's summary and --json say which",
  async () => {
    // Before, the receiver said "Saved folder .../photos (1)" and the sender "Folder photos: the
    // receiver saved 2 entries", as if it were in photos (a file's line says "saved it as x (1).bin").
    const src = makeTempDir();
    mkdirSync(join(src, "photos", "sub"), { recursive: true });
    writeFileSync(join(src, "photos", "a.jpg"), "a");
    writeFileSync(join(src, "photos", "sub", "b.jpg"), "b");
    mkdirSync(join(src, ".config"));
    writeFileSync(join(src, ".config", "c"), "c");
    const dir = makeTempDir();
    mkdirSync(join(dir, "photos")); // a finished folder of that name is there: never merged into
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", join(src, "photos"), join(src, ".config"), "--to", receiver.code]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    expect(listTree(dir)).toEqual([
      "_config/",
      "_config/c",
      "photos (1)/",
      "photos (1)/a.jpg",
      "photos (1)/sub/",
      "photos (1)/sub/b.jpg",
      "photos/",
    ]);
    expect(sender.linesMatching(/^Folder /).sort()).toEqual([
      "Folder .config: the receiver saved 1 entry in _config, its XXH3-64 checksum matched.",
      "Folder photos: the receiver saved 2 entries in photos (1), each XXH3-64 checksum matched.",
    ]);
    const json = startCli("sender2", ["send", join(src, "photos"), "--json", "--to", (await jsonReceiver(dir)).code]);
    expect(await json.exitCode(), json.describe()).toBe(0);
    const done = json.lines
      .map((l) => JSON.parse(l) as { type: string; storedRoot?: string })
      .filter((e) => e.type === "done");
    expect(done.map((e) => e.storedRoot)).toEqual(["photos (2)", "photos (2)"]);
  },
  TEST_MS,
);

test(
  "names npm and Bun act on in their folder (package.json, node_modules, bunfig.toml, the lockfiles, tsconfig.json) are stored with a _ before them",
  async () => {
    // attack32: received where the user runs Parley next, a peer's package.json made npm's project
    // root there: `npx parley` ran its bin, `npx bun run chat` its chat script, as the user.
    const marker = join(makeTempDir(), "ran");
    const src = makeTempDir();
    const pkg = { name: "x", version: "1.0.0", bin: { parley: "x.js" }, scripts: { chat: `echo ran > ${marker}` } };
    writeFileSync(join(src, "package.json"), JSON.stringify(pkg));
    writeFileSync(join(src, "bunfig.toml"), 'preload = ["./x.js"]\n');
    writeFileSync(join(src, "npm-shrinkwrap.json"), "{}");
    writeFileSync(join(src, "Bun.lock"), "{}"); // a case-insensitive disk opens it as bun.lock
    writeFileSync(join(src, "tsconfig.json"), "{}");
    writeFileSync(join(src, "jsconfig.json"), "{}");
    mkdirSync(join(src, "node_modules", "parley"), { recursive: true });
    writeFileSync(join(src, "node_modules", "parley", "package.json"), "{}");
    mkdirSync(join(src, "proj"));
    writeFileSync(join(src, "proj", "package.json"), "{}");
    const sent = [
      "package.json",
      "bunfig.toml",
      "npm-shrinkwrap.json",
      "Bun.lock",
      "tsconfig.json",
      "jsconfig.json",
      "node_modules",
      "proj",
    ];
    const dir = makeTempDir();
    const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const sender = startCli("sender", ["send", ...sent.map((n) => join(src, n)), "--to", match[1] as string]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.exitCode(), receiver.describe()).toBe(0);
    expect(listTree(dir)).toEqual([
      "_Bun.lock",
      "_bunfig.toml",
      "_jsconfig.json",
      "_node_modules/",
      "_node_modules/parley/",
      "_node_modules/parley/_package.json",
      "_npm-shrinkwrap.json",
      "_package.json",
      "_tsconfig.json",
      "proj/",
      "proj/_package.json",
    ]);
    // Said: the receiver's lines name the stored names, the sender's say what the receiver stored.
    expect(receiver.linesMatching(/^Receiving #\d+ _package\.json /)).toHaveLength(1);
    expect(sender.linesMatching(/^#\d+ package\.json: the receiver saved it as _package\.json /)).toHaveLength(1);
    expect(sender.linesMatching(/^Folder node_modules: the receiver saved 1 entry in _node_modules,/)).toHaveLength(1);
    // What the user's next `bun run chat` there does: no script of the peer's runs.
    const run = Bun.spawnSync([BUN, "run", "chat"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    expect(existsSync(marker), `${run.stdout}${run.stderr}`).toBe(false);
  },
  TEST_MS,
);

test(
  "a folder named bin received is stored as _bin; a bin inside a folder keeps its name",
  async () => {
    // attack32: received into the home folder (receive's default folder is the current one), a
    // peer's bin with executables in it is on the PATH from the next login (Debian's ~/.profile
    // adds $HOME/bin when it exists), ahead of the system's npx, node and sh.
    const src = makeTempDir();
    mkdirSync(join(src, "bin"));
    writeFileSync(join(src, "bin", "npx"), "#!/bin/sh\necho the peer's npx\n");
    chmodSync(join(src, "bin", "npx"), 0o755);
    mkdirSync(join(src, "proj", "bin"), { recursive: true });
    writeFileSync(join(src, "proj", "bin", "tool"), "t");
    const dir = makeTempDir();
    const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const sender = startCli("sender", ["send", join(src, "bin"), join(src, "proj"), "--to", match[1] as string]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.exitCode(), receiver.describe()).toBe(0);
    expect(listTree(dir)).toEqual(["_bin/", "_bin/npx", "proj/", "proj/bin/", "proj/bin/tool"]);
    expect(receiver.linesMatching(/^Receiving folder _bin: 1 entry/)).toHaveLength(1);
    expect(sender.linesMatching(/^Folder bin: the receiver saved 1 entry in _bin,/)).toHaveLength(1);
  },
  TEST_MS,
);
