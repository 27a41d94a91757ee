/**
 * What the chat loads before it shows "Listening on ... · code ...": the modules reachable by
 * static imports from src/cli/main.ts and from src/cli/chat.ts (which the chat command imports
 * first). The session layer, the record crypto and the PAKE, node:readline with Node's stdio
 * streams, the progress-bar and hash packages, the protocol, the transfers' wording
 * (cli/chat-connected.ts), node:util, node:fs, node:path and the mailbox's word lists are loaded
 * after the code is shown, or only when used (dynamic import or require at first use): each of
 * them cost milliseconds of start-up, and every module on the path costs some. Read from the
 * source files, so a new static import that pulls one of them back in fails here by name.
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/** Targets of the value imports and re-exports of one file (`import type` is erased: skipped). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s)?[^;]*?from\s+"([^"]+)"/g)) {
    if (m[1]) continue;
    out.push(m[2] as string);
  }
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+"([^"]+)"/g)) out.push(m[1] as string);
  return out;
}

/** Every module reachable from `entries` by static imports: src files (relative to src/) and packages. */
function reachable(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = entries.map((e) => resolve(SRC, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const key = file.slice(SRC.length + 1);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const target of staticImports(file)) {
      if (!target.startsWith(".")) seen.add(target);
      else if (target.endsWith(".ts")) queue.push(resolve(dirname(file), target));
    }
  }
  return seen;
}

const startPath = reachable(["cli/main.ts", "cli/chat.ts"]);

test("the path to the chat's code line reaches the listener, the code words and the first lines", () => {
  for (const needed of ["cli/connect.ts", "net/endpoints.ts", "crypto/codes.ts", "ui/starting-terminal.ts"]) {
    expect(startPath).toContain(needed);
  }
});

test.each([
  "session/rendezvous.ts",
  "session/session.ts",
  "crypto/key-schedule.ts",
  "crypto/record.ts",
  "crypto/cpace.ts",
  "ui/terminal.ts",
  "cli/send-command.ts",
  "cli/receive-command.ts",
  "cli/mailbox-chat.ts",
  "node:readline",
  "node:readline/promises",
  "cli-progress",
  "@node-rs/xxhash",
  "@noble/curves/ed25519.js",
  "@scure/bip39/wordlists/english.js",
  "node:util",
  "protocol/messages.ts",
  "net/mailbox-socket.ts",
  "net/transit.ts",
  "cli/chat-connected.ts",
  "cli/transfer-presenter.ts",
  "cli/folder-presenter.ts",
  "cli/transfer-words.ts",
  "cli/send-plan.ts",
  "cli/reason-words.ts",
  "ui/progress.ts",
  "crypto/wormhole-code.ts",
  "transfer/checksum.ts",
  "transfer/errors.ts",
  "node:os",
  "cli/drop-lines.ts",
  "cli/drop-words.ts",
  "node:fs",
  "node:path",
  "cli/command-args.ts",
  "net/connection.ts",
  "session/limits.ts",
  "cli/wildcard.ts",
])("%s is not loaded before the code is shown", (module) => {
  expect(startPath).not.toContain(module);
});

test("no layer's index.ts (which loads the whole layer) is on the path", () => {
  expect([...startPath].filter((m) => m.endsWith("/index.ts"))).toEqual([]);
});

test("the chat command itself is loaded only when it runs", () => {
  expect(reachable(["cli/main.ts"])).not.toContain("cli/chat.ts");
});

test("the CLI loads the OS's error words lazily in one place (cli/os-words.ts), not once per caller", () => {
  const lazy = readdirSync(resolve(SRC, "cli"))
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => readFileSync(resolve(SRC, "cli", f), "utf8").includes('require("../transfer/errors.ts")'));
  expect(lazy).toEqual(["os-words.ts"]);
  expect(startPath).toContain("cli/os-words.ts"); // on the path, and light: it loads nothing itself
  expect(staticImports(resolve(SRC, "cli/os-words.ts"))).toEqual([]);
});

/**
 * `parley send` and `parley receive` before their code line (session 17): the command's parser
 * (required by cli.ts), the command and what it imports. The reporters, the session layer and
 * the protocol's codec, the file sender (digests), the folder walker, node:crypto and the
 * mailbox load with the session layer after the line, or only when used.
 */
const transferStartPath = reachable([
  "cli/main.ts",
  "cli/command-args.ts",
  "cli/send-command.ts",
  "cli/receive-command.ts",
]);

test("the path to send's and receive's code line reaches the listener, the plan and the first lines", () => {
  for (const needed of [
    "cli/connect.ts",
    "cli/send-plan.ts",
    "transfer/readable-file.ts",
    "cli/starting-reporter.ts",
  ]) {
    expect(transferStartPath).toContain(needed);
  }
});

test.each([
  "session/rendezvous.ts",
  "session/session.ts",
  "crypto/key-schedule.ts",
  "cli/reporter.ts",
  "cli/json-reporter.ts",
  "cli/transfer-presenter.ts",
  "cli/folder-presenter.ts",
  "cli/transfer-words.ts",
  "cli/reason-words.ts",
  "cli/ask-offers.ts",
  "cli/mailbox-command.ts",
  "cli/stream-output.ts",
  "ui/asker.ts",
  "ui/progress.ts",
  "node:readline",
  "node:readline/promises",
  "node:crypto",
  "node:path",
  "node:os",
  "cli-progress",
  "@node-rs/xxhash",
  "protocol/messages.ts",
  "transfer/file-sender.ts",
  "transfer/folder-walk.ts",
  "transfer/resume-token.ts",
  "transfer/stream-receiver.ts",
  "transfer/checksum.ts",
  "session/limits.ts",
])("%s is not loaded before send or receive shows its code", (module) => {
  expect(transferStartPath).not.toContain(module);
});

test("no layer's index.ts is on send's or receive's path to the code line", () => {
  expect([...transferStartPath].filter((m) => m.endsWith("/index.ts"))).toEqual([]);
});

test("receive's path to the code line has no send plan (nor node:fs before the download folder's check)", () => {
  const receivePath = reachable(["cli/main.ts", "cli/command-args.ts", "cli/receive-command.ts"]);
  for (const module of ["cli/send-command.ts", "cli/send-plan.ts", "transfer/readable-file.ts", "node:fs"]) {
    expect(receivePath).not.toContain(module);
  }
});

test("the resume secret's check before send's code line (required by send-plan.ts) loads no node:crypto", () => {
  // resumeSecretWarning requires resume-token.ts at its first call, before the code is shown.
  const resumeToken = reachable(["transfer/resume-token.ts"]);
  expect(resumeToken).not.toContain("node:crypto");
  expect([...resumeToken].filter((m) => !m.startsWith("node:"))).toEqual([
    "transfer/resume-token.ts",
    "transfer/errors.ts",
  ]);
});

/**
 * What a direct session loads once the code is shown (session 23): the session layer
 * (rendezvous.ts), the native code's preload and the warm-up, the reporters, the chat's connected
 * part and the drop lines, then the PAKE. Each imports the leaf modules it uses, not a layer's
 * index.ts, which loaded the magic-wormhole, zip and stream code with every session: 153 modules
 * here before, 122 now (not counting the packages' own files: the SecretBox cipher's four among
 * them), for a process that never meets a wormhole peer. Those load with the mailbox
 * (cli/mailbox-command.ts) or at first use.
 */
const sessionPath = reachable([
  "session/rendezvous.ts",
  "session/preload.ts",
  "cli/warm-up.ts",
  "cli/reporter.ts",
  "cli/json-reporter.ts",
  "cli/chat-connected.ts",
  "cli/drop-lines.ts",
  "cli/drop-words.ts",
  "crypto/cpace.ts",
]);

test("a direct session's load reaches the session, the record crypto, the PAKE and the file receiver", () => {
  for (const needed of [
    "session/session.ts",
    "crypto/record.ts",
    "crypto/secure-connection.ts",
    "crypto/cpace.ts",
    "transfer/file-receiver.ts",
    "transfer/file-sender.ts",
  ]) {
    expect(sessionPath).toContain(needed);
  }
});

test("no layer's index.ts is on a direct session's load", () => {
  expect([...sessionPath].filter((m) => m.endsWith("/index.ts"))).toEqual([]);
});

test.each([
  "crypto/secretbox.ts",
  "crypto/transit-records.ts",
  "crypto/wormhole-keys.ts",
  "@noble/ciphers/salsa.js",
  "@noble/hashes/hkdf.js",
  "net/mailbox-socket.ts",
  "net/transit.ts",
  "protocol/wormhole-transfer.ts",
  "session/mailbox-rendezvous.ts",
  "session/plain-peer.ts",
  "transfer/stream-receiver.ts",
  "transfer/zip-plan.ts",
  "transfer/zip-part.ts",
  "ui/asker.ts",
  "node:readline/promises",
])("%s (the mailbox's, a wormhole peer's or --ask's) is not loaded with a direct session", (module) => {
  expect(sessionPath).not.toContain(module);
});

test("send's and receive's output (reporters, loaded with the session) loads no node:readline", () => {
  // Only the chat's terminal, --ask's asker and the mailbox's prompts need it: the progress bar's
  // clear is written as its bytes (cli/reporter.ts CLEAR_DOWN), test/unit/progress-bar-clear.test.ts.
  const output = reachable(["cli/reporter.ts", "cli/json-reporter.ts", "cli/one-shot-run.ts", "cli/reason-words.ts"]);
  expect(output).not.toContain("node:readline");
});

/**
 * The lists above name what must stay off the paths; a module new to them is caught by its
 * count (session 27: the chat's wildcard matcher joined the chat's path unnoticed, +130 page
 * faults and ~3 ms of CPU to the code line). One more module on a path: measure its start-up
 * first (`npx bun bench/start-up-ab.ts --a OLD_TREE`), then raise the count here, saying why in the commit.
 */
test("the paths to the code lines hold no more modules than measured: the chat's 32, send's and receive's 42", () => {
  expect(startPath.size, [...startPath].sort().join(" ")).toBeLessThanOrEqual(32);
  expect(transferStartPath.size, [...transferStartPath].sort().join(" ")).toBeLessThanOrEqual(42);
});
