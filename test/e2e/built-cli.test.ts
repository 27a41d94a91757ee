/**
 * The built CLI and the launcher's choice. src/cli/build-cli.sh (npm's postinstall) builds
 * build/parley; src/cli/launch.sh (package.json's `chat` and `parley` scripts, and the tests'
 * PARLEY) runs it only while nothing it was built from has changed since its build began, and
 * the source otherwise: an edited source is always what runs. The `parley` command (bin.cjs,
 * `npx parley`) asks launch.sh what to run (PARLEY_LAUNCH_WHICH) and runs that. First the choice's
 * cases, in copies of the checkout with a stand-in build (a script) and PARLEY_LAUNCH_WHICH; then
 * the real build in a copy: it is what runs (through launch.sh and through bin.cjs), and after an
 * edit (its modification time set back, as `cp -p` or tar leave it) the edited source is.
 */

import { afterEach, expect, test } from "bun:test";
import {
  chmodSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BUN, Cli, cleanup, makeTempDir, NODE, ROOT, startCli } from "./helpers.ts";

afterEach(cleanup);

/** Beside src/, the files the build is made from that launch.sh watches. */
const WATCHED_FILES = ["package.json", "package-lock.json", "tsconfig.json", "bunfig.toml"];
/** A time long before any build: what `cp -p` or tar leave on a file restored from an old copy. */
const LONG_AGO = new Date("2001-02-03T04:05:06Z");
/** A time after any change a case makes: what a peer can give a file it sends (its mtime is kept). */
const FAR_AHEAD = new Date("2099-01-01T00:00:00Z");
/** launch.sh's `bun` when the source runs: the pinned one (node_modules/.bin), as under `bun run`. */
const PATH_WITH_BUN = `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`;

/** A copy of the checkout's sources and the files launch.sh watches; node_modules by a link, or `nodeModules`. */
function copyOfCheckout(nodeModules: "link" | "copy"): string {
  const tree = makeTempDir();
  cpSync(join(ROOT, "src"), join(tree, "src"), { recursive: true });
  for (const file of WATCHED_FILES) cpSync(join(ROOT, file), join(tree, file));
  if (nodeModules === "link") {
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  } else {
    mkdirSync(join(tree, "node_modules/bun"), { recursive: true });
    cpSync(join(ROOT, "node_modules/.package-lock.json"), join(tree, "node_modules/.package-lock.json"));
    cpSync(join(ROOT, "node_modules/bun/package.json"), join(tree, "node_modules/bun/package.json"));
  }
  return tree;
}

/** What launch.sh in `tree` would run (PARLEY_LAUNCH_WHICH), a word each. */
function launchChoice(tree: string): string[] {
  const run = Bun.spawnSync(["sh", join(tree, "src/cli/launch.sh"), "--version"], {
    env: { ...process.env, PARLEY_LAUNCH_WHICH: "1" },
    stderr: "pipe",
  });
  expect(run.stderr.toString()).toBe("");
  expect(run.exitCode).toBe(0);
  return run.stdout.toString().split("\n").filter(Boolean);
}

/**
 * A copy of the checkout with a stand-in build (a script in build/parley) stamped after every
 * file of the copy was written, then a pause so that what a case changes comes later than the
 * stamp (file times move by the kernel's clock tick, a few ms).
 */
async function checkoutWithStandInBuild(): Promise<string> {
  const tree = copyOfCheckout("copy");
  mkdirSync(join(tree, "build"));
  writeFileSync(join(tree, "build/parley"), '#!/bin/sh\necho "the stand-in build" "$@"\n');
  chmodSync(join(tree, "build/parley"), 0o755);
  // As build-cli.sh leaves it: the stamp a second name of the executable.
  linkSync(join(tree, "build/parley"), join(tree, "build/parley.since"));
  await Bun.sleep(50);
  return tree;
}

const SOURCE = (tree: string) => ["bun", join(tree, "src/cli/main.ts"), "--version"];
const BUILT = (tree: string) => [join(tree, "build/parley"), "--version"];

test("the build runs while nothing it was built from changed since its stamp", async () => {
  const tree = await checkoutWithStandInBuild();
  expect(launchChoice(tree)).toEqual(BUILT(tree));
});

const CHANGES: readonly (readonly [string, (tree: string) => void])[] = [
  [
    "a source file edited, its modification time set back (cp -p, tar)",
    (tree) => {
      const file = join(tree, "src/cli/cli.ts");
      writeFileSync(file, readFileSync(file, "utf8").replace("Read when asked", "Read when asked (edited)"));
      utimesSync(file, LONG_AGO, LONG_AGO);
    },
  ],
  ["a source file added", (tree) => writeFileSync(join(tree, "src/cli/added.ts"), "export {};\n")],
  ["a source file removed", (tree) => rmSync(join(tree, "src/cli/listening-words.ts"))],
  [
    "a source file renamed",
    (tree) => renameSync(join(tree, "src/cli/listening-words.ts"), join(tree, "src/cli/listening-words2.ts")),
  ],
  [
    "a source folder restored from an old copy (its files and the folder's time set back)",
    (tree) => {
      const folder = join(tree, "src/protocol");
      const old = join(tree, "protocol.old");
      cpSync(folder, old, { recursive: true, preserveTimestamps: true });
      rmSync(folder, { recursive: true });
      renameSync(old, folder);
      utimesSync(folder, LONG_AGO, LONG_AGO);
    },
  ],
  ["package.json edited", (tree) => writeFileSync(join(tree, "package.json"), "{}\n")],
  ["package-lock.json edited", (tree) => writeFileSync(join(tree, "package-lock.json"), "{}\n")],
  ["a bun.lock made (bun install)", (tree) => writeFileSync(join(tree, "bun.lock"), "{}\n")],
  ["a source file's mode changed (no byte of it)", (tree) => chmodSync(join(tree, "src/cli/cli.ts"), 0o600)],
  ["tsconfig.json edited", (tree) => writeFileSync(join(tree, "tsconfig.json"), "{}\n")],
  ["bunfig.toml edited", (tree) => writeFileSync(join(tree, "bunfig.toml"), "\n")],
  [
    "the installed packages changed (npm's node_modules/.package-lock.json)",
    (tree) => writeFileSync(join(tree, "node_modules/.package-lock.json"), "{}\n"),
  ],
  ["Bun reinstalled", (tree) => writeFileSync(join(tree, "node_modules/bun/package.json"), "{}\n")],
  ["no stamp (a build under way, or one that failed)", (tree) => rmSync(join(tree, "build/parley.since"))],
  ["no build", (tree) => rmSync(join(tree, "build/parley"))],
  [
    "a stamp of its own, not the executable's second name, its time the future (a build/ build-cli.sh did not make)",
    (tree) => {
      rmSync(join(tree, "build/parley.since"));
      writeFileSync(join(tree, "build/parley.since"), "");
      utimesSync(join(tree, "build/parley.since"), FAR_AHEAD, FAR_AHEAD);
    },
  ],
];

test.each(CHANGES)("the source runs after a change: %s", async (_name, change) => {
  const tree = await checkoutWithStandInBuild();
  change(tree);
  expect(launchChoice(tree)).toEqual(SOURCE(tree));
});

test("a folder named build received into a checkout without one is not what runs (attack32)", async () => {
  // The chat saves into the folder it started in, the checkout under `npx bun run chat`; with no
  // build/ there (removed, or never made), a peer's folder build (an executable parley, a stamp
  // whose time it chooses: a sent file keeps it) was run by the next `npx parley` or `bun run chat`.
  const tree = copyOfCheckout("copy");
  const sent = join(makeTempDir(), "build");
  mkdirSync(sent);
  writeFileSync(join(sent, "parley"), '#!/bin/sh\necho "the peer\'s build" "$@"\n');
  chmodSync(join(sent, "parley"), 0o755);
  writeFileSync(join(sent, "parley.since"), "");
  utimesSync(join(sent, "parley.since"), FAR_AHEAD, FAR_AHEAD);
  const receiver = startCli("receiver", ["receive", "--dir", tree, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", ["send", sent, "--to", match[1] as string, "--no-progress"]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(0);
  expect(existsSync(join(tree, "build/parley.since"))).toBe(true); // it came: the case is reached
  expect(launchChoice(tree)).toEqual(SOURCE(tree));
});

test.skipIf(!NODE)(
  "a tsconfig.json or jsconfig.json in the folder Parley runs in is not read by bin.cjs's source run (attack32)",
  () => {
    // Bun takes $cwd/tsconfig.json (else jsconfig.json) by default, and its `paths` map any
    // import, the entry point's too: a peer's files received there (or another program's) ran
    // instead of Parley at the next `parley` whose build was stale.
    const tree = copyOfCheckout("link"); // no build: bin.cjs runs the source
    const env = { ...process.env, PATH: PATH_WITH_BUN };
    for (const [config, packaged] of [
      ["tsconfig.json", true],
      ["jsconfig.json", true],
      ["tsconfig.json", false], // a package without its own tsconfig.json (npm pack's files)
    ] as const) {
      if (!packaged) rmSync(join(tree, "tsconfig.json"));
      const here = makeTempDir();
      writeFileSync(join(here, config), '{"compilerOptions": {"baseUrl": ".", "paths": {"*": ["./hostile.ts"]}}}\n');
      writeFileSync(join(here, "hostile.ts"), 'require("node:fs").writeFileSync(import.meta.dir + "/ran", "");\n');
      // The file's own check: Bun itself, running Parley's source there, runs it.
      Bun.spawnSync([BUN, join(tree, "src/cli/main.ts"), "--version"], { cwd: here, env });
      expect(existsSync(join(here, "ran")), config).toBe(true);
      rmSync(join(here, "ran"));
      const ran = Bun.spawnSync([NODE as string, join(tree, "src/cli/bin.cjs"), "--version"], {
        cwd: here,
        env,
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(ran.stdout.toString(), `${config}: ${ran.stderr}`).toStartWith("parley ");
      expect(existsSync(join(here, "ran")), config).toBe(false);
    }
  },
  60_000,
);

/** The executable of the one child of `pid` (bin.cjs's Bun or build), by /proc. */
function childExe(pid: number): string {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ");
  expect(children.length).toBe(1);
  return realpathSync(`/proc/${children[0]}/exe`);
}

test.skipIf(!NODE)(
  "the real build: it is what runs (launch.sh, and bin.cjs: `npx parley`), and after an edit the edited source is",
  async () => {
    const tree = copyOfCheckout("link");
    const build = Bun.spawnSync(["sh", join(tree, "src/cli/build-cli.sh")], { stdout: "pipe", stderr: "pipe" });
    expect(build.stderr.toString()).toBe("");
    expect(existsSync(join(tree, "build/parley.since"))).toBe(true);
    const env = { PATH: PATH_WITH_BUN };
    const dir = makeTempDir();
    const launched = (label: string) =>
      new Cli(label, [], ["sh", join(tree, "src/cli/launch.sh"), "--no-progress", "--dir", dir], dir, { env });
    // As `npx parley` runs it: the bin under Node, from npm's exec (its PATH has node_modules/.bin).
    const viaBin = (label: string) =>
      new Cli(label, [], [NODE as string, join(tree, "src/cli/bin.cjs"), "--no-progress", "--dir", dir], dir, { env });

    const built = launched("built");
    await built.waitForLine(/^Listening on /);
    expect(realpathSync(`/proc/${built.proc.pid}/exe`)).toBe(realpathSync(join(tree, "build/parley")));
    built.endInput();
    expect(await built.exitCode()).toBe(0);
    const builtViaBin = viaBin("built, bin.cjs");
    await builtViaBin.waitForLine(/^Listening on /);
    expect(childExe(builtViaBin.proc.pid)).toBe(realpathSync(join(tree, "build/parley")));
    builtViaBin.endInput();
    expect(await builtViaBin.exitCode()).toBe(0);

    const file = join(tree, "src/cli/shell-folder.ts");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("Relative paths (transfer, --dir)", "Edited: relative paths"),
    );
    utimesSync(file, LONG_AGO, LONG_AGO);
    const edited = launched("edited");
    await edited.waitForLine(/^Edited: relative paths are resolved from /);
    expect(realpathSync(`/proc/${edited.proc.pid}/exe`)).toBe(realpathSync(BUN));
    edited.endInput();
    expect(await edited.exitCode()).toBe(0);
    const editedViaBin = viaBin("edited, bin.cjs");
    await editedViaBin.waitForLine(/^Edited: relative paths are resolved from /);
    expect(childExe(editedViaBin.proc.pid)).toBe(realpathSync(BUN));
    editedViaBin.endInput();
    expect(await editedViaBin.exitCode()).toBe(0);
  },
  120_000,
);

/**
 * A stand-in for node_modules/.bin/bun's `build ... --outfile OUT` in `tree`: it reads the
 * source's marker (src/cli/marker.txt) and says so (read.$RUN), waits for go.$RUN, then fails
 * if fail.$RUN exists, else writes a script printing what it read and renames it to OUT (as
 * Bun's build does: a file of its own, then a rename).
 */
function standInBun(tree: string): void {
  mkdirSync(join(tree, "node_modules/.bin"), { recursive: true });
  writeFileSync(join(tree, "src/cli/marker.txt"), "the first source\n");
  writeFileSync(
    join(tree, "node_modules/.bin/bun"),
    [
      "#!/bin/sh",
      "for a; do out=$a; done",
      "read -r marker < src/cli/marker.txt",
      ': > "read.$RUN"',
      'while [ ! -e "go.$RUN" ]; do sleep 0.02; done',
      '[ -e "fail.$RUN" ] && exit 1',
      'printf "#!/bin/sh\\necho %s\\n" "$marker" > "made.$RUN" && chmod +x "made.$RUN" && mv "made.$RUN" "$out"',
      "",
    ].join("\n"),
  );
  chmodSync(join(tree, "node_modules/.bin/bun"), 0o755);
}

/** Waits (bounded) for `file` to exist. */
async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 1000 && !existsSync(file); i++) await Bun.sleep(10);
  expect(existsSync(file)).toBe(true);
}

/** What `tree`'s launcher would run prints: the build's marker, or "the source". */
function whatRuns(tree: string): string {
  const choice = launchChoice(tree);
  if (choice[0] === "bun") return "the source";
  return Bun.spawnSync([choice[0] as string])
    .stdout.toString()
    .trim();
}

test("two builds at once (two npm ci): the later one's stamp never marks the earlier one's build", async () => {
  const tree = copyOfCheckout("copy");
  standInBun(tree);
  const build = (run: string) =>
    Bun.spawn(["sh", join(tree, "src/cli/build-cli.sh")], {
      env: { ...process.env, RUN: run },
      stdout: "pipe",
      stderr: "pipe",
    });
  const first = build("A");
  await waitForFile(join(tree, "read.A"));
  // The source changes after the first build read it, before the second build begins.
  writeFileSync(join(tree, "src/cli/marker.txt"), "the edited source\n");
  writeFileSync(join(tree, "fail.B"), "");
  const second = build("B");
  await waitForFile(join(tree, "read.B"));
  writeFileSync(join(tree, "go.A"), "");
  expect(await first.exited).toBe(0);
  // The first build holds the first source: the edit is later than its stamp, so the source runs.
  expect(whatRuns(tree)).toBe("the source");
  writeFileSync(join(tree, "go.B"), "");
  expect(await second.exited).toBe(0);
  expect(await new Response(second.stderr).text()).toContain("the build failed");
  expect(whatRuns(tree)).toBe("the source");
});

test("a find that cannot compare change times (BusyBox's has no -cnewer): the source runs, never the build", async () => {
  const tree = await checkoutWithStandInBuild();
  const bin = makeTempDir();
  // As BusyBox 1.35's find answers (checked by hand): the option refused, nothing printed.
  writeFileSync(join(bin, "find"), '#!/bin/sh\necho "find: unrecognized: -cnewer" >&2\nexit 1\n');
  chmodSync(join(bin, "find"), 0o755);
  const file = join(tree, "src/cli/cli.ts");
  writeFileSync(file, `${readFileSync(file, "utf8")}\n`);
  const run = Bun.spawnSync(["sh", join(tree, "src/cli/launch.sh"), "--version"], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, PARLEY_LAUNCH_WHICH: "1" },
  });
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString().split("\n").filter(Boolean)).toEqual(SOURCE(tree));
});

test.skipIf(!NODE)(
  "a bunfig.toml in the folder Parley runs in (a received file) is not read: the build, and bin.cjs's source",
  async () => {
    const tree = copyOfCheckout("link");
    const build = Bun.spawnSync(["sh", join(tree, "src/cli/build-cli.sh")], { stdout: "pipe", stderr: "pipe" });
    expect(build.stderr.toString()).toBe("");
    // What a peer can leave in a download folder (no leading dot: stored under its own name).
    const here = makeTempDir();
    writeFileSync(join(here, "bunfig.toml"), 'preload = ["./hostile.ts"]\n');
    writeFileSync(join(here, "hostile.ts"), 'require("node:fs").writeFileSync(import.meta.dir + "/ran", "");\n');
    // The file's own check: Bun itself reads it there.
    Bun.spawnSync([BUN, "-e", "1"], { cwd: here });
    expect(existsSync(join(here, "ran"))).toBe(true);
    rmSync(join(here, "ran"));

    const env = { ...process.env, PATH: PATH_WITH_BUN };
    const run = (argv: string[]) => {
      const ran = Bun.spawnSync([...argv, "--version"], { cwd: here, env, stdout: "pipe", stderr: "pipe" });
      expect(ran.stdout.toString()).toStartWith("parley ");
      expect(existsSync(join(here, "ran"))).toBe(false);
    };
    expect(launchChoice(tree)).toEqual(BUILT(tree));
    run([join(tree, "build/parley")]);
    run([NODE as string, join(tree, "src/cli/bin.cjs")]);
    // An edit: bin.cjs runs the source with Bun.
    writeFileSync(join(tree, "src/cli/added.ts"), "export {};\n");
    expect(launchChoice(tree)).toEqual(SOURCE(tree));
    run([NODE as string, join(tree, "src/cli/bin.cjs")]);
  },
  120_000,
);
