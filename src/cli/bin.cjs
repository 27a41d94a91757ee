#!/usr/bin/env node
// The `parley` command (package.json "bin"): runs what src/cli/launch.sh chooses (asked with
// PARLEY_LAUNCH_WHICH=1, so the rule is launch.sh's alone): the built CLI (build/parley) while
// nothing it was built from has changed, else src/cli/main.ts with Bun, from Node or Bun. Bun is
// this package's own dependency, so `npx parley` works without a global Bun. Signals are passed
// on and the exit code (or signal) comes back unchanged.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const { constants } = os;
const path = require("node:path");
const LAUNCH_ENV = require("./launch-env.cjs");

function findBun() {
  if (process.versions.bun) return process.execPath;
  try {
    return require.resolve("bun/bin/bun.exe");
  } catch {
    return "bun"; // a global Bun, if there is one
  }
}

/**
 * Bun's settings for the source run: this package's bunfig.toml and tsconfig.json (or none),
 * never those of the folder `parley` runs in, which Bun reads by default: a bunfig.toml's preload
 * would run, and a tsconfig.json's (or jsconfig.json's) `paths` map any import, the entry point's
 * too, to a file of that folder (a peer's files received there, or put there by another program:
 * attack32). The build reads none.
 */
function bunSettings() {
  const own = (name) => {
    const file = path.join(__dirname, "../..", name);
    return fs.existsSync(file) ? file : os.devNull;
  };
  return [`--config=${own("bunfig.toml")}`, `--tsconfig-override=${own("tsconfig.json")}`];
}

/** launch.sh's choice, a word a line; the source when it cannot be asked or names Bun. */
function command() {
  const source = [findBun(), ...bunSettings(), path.join(__dirname, "main.ts")];
  let words;
  try {
    words = execFileSync("sh", [path.join(__dirname, "launch.sh")], {
      env: { ...process.env, PARLEY_LAUNCH_WHICH: "1" },
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
  } catch {
    return source;
  }
  return words.length === 1 && words[0] !== "bun" ? words : source;
}

const [file, ...first] = command();
const child = spawn(file, [...first, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...LAUNCH_ENV, ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
// Under `npx parley` npm's `exec` is our parent, and killed (SIGTERM from a script) it passes
// nothing on: this launcher and Bun went on without it, the chat or the listener still running.
// So there, a new parent (npm gone) ends Bun as SIGTERM does (the peer is told). Not for a
// `parley` started otherwise: a shell that exits may leave it running on purpose (nohup, &).
if (process.env.npm_command === "exec") {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill("SIGTERM");
  }, 250).unref();
}
child.on("error", (err) => {
  process.stderr.write(`parley: cannot start Bun (${err.message}); run npm install in the Parley folder\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
