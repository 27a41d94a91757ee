#!/usr/bin/env node
// The `parley` command (package.json "bin"): runs src/cli/main.ts with Bun, from Node or Bun.
// Bun is this package's own dependency, so `npx parley` works without a global Bun. Signals
// are passed on and the exit code (or signal) comes back unchanged.
"use strict";
const { spawn } = require("node:child_process");
const { constants } = require("node:os");
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

const child = spawn(findBun(), [path.join(__dirname, "main.ts"), ...process.argv.slice(2)], {
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
