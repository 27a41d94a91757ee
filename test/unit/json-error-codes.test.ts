/**
 * The `--json` error codes (src/cli/json-error-codes.ts) against the README's list ("Error
 * codes") and against the source: every `E_...` code written anywhere in src/ is either one an
 * `error` event can carry (listed, and documented) or one this file says never reaches an event,
 * and why. A new code in src/ fails here until it is put on one side: on the first, the README
 * needs its line. JsonReporter emits only listed codes (a peer's unknown one as E_REMOTE).
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { JSON_ERROR_CODES, jsonErrorCode } from "../../src/cli/json-error-codes.ts";
import { JsonReporter } from "../../src/cli/json-reporter.ts";
import type { TransferInfo } from "../../src/session/index.ts";

const ROOT = resolve(import.meta.dir, "../..");

/**
 * Codes in src/ that never reach an `error` event, by why. Each holds only while the code
 * named in its reason still turns them into another code (or into words).
 */
const NEVER_IN_AN_EVENT: Readonly<Record<string, string>> = {
  // A refusal's reason on the wire (REJECT / CANCEL): both sides' events say E_REJECTED, the words say which.
  E_UNSUPPORTED_CHECKSUM: "offer-refusal.ts: wire reason of an E_REJECTED",
  E_TOO_MANY_TRANSFERS: "offer-refusal.ts: wire reason of an E_REJECTED",
  E_LEAVING: "offer-refusal.ts: wire reason of an E_REJECTED",
  E_SEND_ONLY: "send-command.ts refuseOffers: wire reason of an E_REJECTED",
  E_STDOUT_FOLDER: "receive-command.ts decideOffer: wire reason of an E_REJECTED",
  E_STDOUT_ONE_FILE: "receive-command.ts decideOffer: wire reason of an E_REJECTED",
  E_NO_ANSWER: "receive-command.ts (--ask, input ended): wire reason of an E_REJECTED; also a drop reason",
  // Why a connection was dropped before it became the session: words (drop-words.ts); a dial's event is E_CONNECT.
  E_NOT_PARLEY: "handshake drop reason",
  E_OWN_PORT: "handshake drop reason",
  E_CODE_REQUIRED: "handshake drop reason (and its BYE's wire reason)",
  E_BUSY: "handshake drop reason (and its BYE's wire reason)",
  E_REFUSED: "handshake drop reason",
  E_TOO_MANY_GUESSES: "handshake drop reason",
  E_SILENT: "handshake drop reason",
  E_TIMEOUT: "handshake drop reason",
  E_CLOSED: "handshake drop reason (NetError's E_CLOSED is never thrown)",
  E_EVICTED: "handshake drop reason",
  E_PROTOCOL: "rendezvous drop reason",
  E_DISPLACED: "rendezvous drop reason",
  E_WITHDRAWN: "rendezvous drop reason",
  // Errors that end the connection: the session's connectionLost is E_CONNECTION (before it, a drop: E_CONNECT).
  E_FRAME_TOO_LARGE: "ProtocolError: ends the connection",
  E_FRAME_TOO_SMALL: "ProtocolError: ends the connection",
  E_UNKNOWN_TYPE: "ProtocolError: ends the connection",
  E_BAD_MESSAGE: "ProtocolError: ends the connection",
  E_UNEXPECTED: "ProtocolError: ends the connection",
  E_VERSION: "ProtocolError: ends the connection",
  E_BAD_POINT: "CryptoError of a PAKE: a drop, or E_PEER_PROTOCOL through the mailbox",
  // A class's code whose events carry a finer one.
  E_BAD_ZIP: "ZipError's TransferError code: plain-folders.ts reports its zipCode (E_ZIP_...)",
};

/** Every `E_...` code written in the files under `dir` (comments too: a code named is a code). */
function codesIn(dir: string): Set<string> {
  const codes = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|cjs|js)$/.test(entry.name)) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), "utf8");
    for (const m of text.matchAll(/\bE_[A-Z][A-Z0-9_]*\b/g)) codes.add(m[0]);
  }
  return codes;
}

/** The codes the README's "Error codes" list gives a line each (a line may name several). */
function readmeListedCodes(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n#### Error codes\n");
  expect(start, 'README has an "Error codes" section').toBeGreaterThan(0);
  const rest = readme.slice(start + 1);
  const section = rest.slice(0, rest.slice(1).search(/\n#/) + 1);
  const codes: string[] = [];
  let inLead = false;
  for (const line of section.split("\n")) {
    // A line's codes are those it starts with, up to the colon (a long list wraps onto the next line).
    if (line.startsWith("- `E_")) inLead = true;
    else if (!line.startsWith("  `E_")) inLead = false;
    if (!inLead) continue;
    const lead = line.split(/`:/)[0] as string;
    for (const m of lead.matchAll(/`(E_[A-Z0-9_]+)/g)) codes.push(m[1] as string);
    if (line.includes("`:")) inLead = false;
  }
  return codes;
}

test("the README's list of error codes is the reporter's, each once", () => {
  const listed = readmeListedCodes();
  expect(new Set(listed).size, "no code listed twice").toBe(listed.length);
  expect([...listed].sort()).toEqual([...JSON_ERROR_CODES].sort());
});

test("every E_ code in src/ can reach an error event (listed) or is known not to, and none is both", () => {
  const inSource = codesIn(join(ROOT, "src"));
  const listed = new Set<string>(JSON_ERROR_CODES);
  const unclassified = [...inSource].filter((code) => !listed.has(code) && !(code in NEVER_IN_AN_EVENT));
  expect(unclassified, "new codes: list them in json-error-codes.ts (and the README), or in NEVER_IN_AN_EVENT").toEqual(
    [],
  );
  expect(Object.keys(NEVER_IN_AN_EVENT).filter((code) => listed.has(code))).toEqual([]);
  // Neither table keeps a code src/ no longer has (E_REMOTE is the reporter's own, written there).
  expect([...listed, ...Object.keys(NEVER_IN_AN_EVENT)].filter((code) => !inSource.has(code))).toEqual([]);
});

test("every E_ code the README names anywhere is one an event can carry", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const named = new Set([...readme.matchAll(/\bE_[A-Z][A-Z0-9_]*\b/g)].map((m) => m[0]));
  const listed = new Set<string>(JSON_ERROR_CODES);
  expect([...named].filter((code) => !listed.has(code))).toEqual([]);
});

test("the reporter's error events carry listed codes only: another (a peer's unknown reason) as E_REMOTE", () => {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) === 0 || true };
  const reporter = new JsonReporter(out, out, true);
  const info: TransferInfo = { id: 2, direction: "send", name: "a.bin", size: 10 };
  reporter.failed(info, "the peer could not store it: E_QUOTA_GONE", "E_QUOTA_GONE");
  reporter.failed(info, "the peer could not store it: the receiver could not write the file", "E_WRITE");
  reporter.error("E_SOMETHING_NEW", "what it was");
  reporter.error("E_CONNECTION", "lost");
  const events = lines.map((line) => JSON.parse(line) as { code: string; message: string });
  expect(events.map((e) => e.code)).toEqual(["E_REMOTE", "E_WRITE", "E_REMOTE", "E_CONNECTION"]);
  expect(events[0]?.message, "the peer's own code stays in the words").toContain("E_QUOTA_GONE");
  expect(jsonErrorCode("E_ZIP_BOMB")).toBe("E_ZIP_BOMB");
});
