/** The CLI's one map from a peer's reason code (and token) to words. */

import { expect, test } from "bun:test";
import {
  cancelledByUser,
  chattedAfterLeavingLine,
  failureWords,
  peerReasonWords,
  resumable,
  resumeHint,
} from "../../src/cli/reason-words.ts";
import { lostWords, socketErrorWords } from "../../src/session/failure.ts";
import type { TransferInfo } from "../../src/session/index.ts";

const sent: TransferInfo = { id: 1, direction: "send", name: "a.bin", size: 1234 };
const received: TransferInfo = { id: 2, direction: "receive", name: "b.bin", size: null };

test.each([
  [sent, { by: "peer", said: "reject", code: "E_REJECTED" }, "the peer declined: the receiver said no"],
  [
    sent,
    { by: "peer", said: "reject", code: "E_NO_SPACE" },
    "the peer declined: not enough space at the receiver: 1234 bytes offered",
  ],
  [
    sent,
    { by: "peer", said: "cancel", code: "E_WRITE", detail: "EFBIG" },
    "the peer cancelled it: the receiver could not write the file (file too large)",
  ],
  [
    sent,
    { by: "peer", said: "cancel", code: "E_WRITE", detail: "EPIPE" },
    "the peer cancelled it: the receiver could not write the file (broken pipe: its reader went away)",
  ],
  [received, { by: "peer", said: "cancel", code: "E_CANCELLED" }, "the peer cancelled it: cancelled by the sender"],
  [
    sent,
    { by: "peer", said: "received", code: "E_BAD_CHECKSUM" },
    "the peer could not store it: checksum mismatch: the file is corrupt",
  ],
  [
    sent,
    { by: "peer", said: "reject", code: "E_UNSUPPORTED_CHECKSUM", detail: "md5" },
    "the peer declined: unsupported checksum md5",
  ],
  [
    received,
    { by: "peer", said: "cancel", code: "E_NOT_A_FILE", detail: "replaced" },
    "the peer cancelled it: the sender's file was replaced (by a link or another file) since its folder was listed: not sent",
  ],
  [
    received,
    { by: "peer", said: "cancel", code: "E_NOT_A_FILE" },
    "the peer cancelled it: the sender's file is not a regular file",
  ],
  [
    sent,
    { by: "peer", said: "received", code: "E_WRITE", detail: "part-changed" },
    "the peer could not store it: another program changed the receiver's copy (or its folder) while it was written; sending it again sends it whole",
  ],
  [
    sent,
    { by: "peer", said: "reject", code: "E_FROM_THE_FUTURE", detail: "x1" },
    "the peer declined: E_FROM_THE_FUTURE x1",
  ],
] as const)("%o %o -> %s", (info, peer, words) => {
  expect(peerReasonWords(info, peer)).toBe(words);
});

test("a failure of our own keeps our words", () => {
  expect(failureWords(sent, "cannot read /x: permission denied")).toBe("cannot read /x: permission denied");
});

test.each([
  [sent, { by: "us", code: "E_CANCELLED" }, "cancelled by the sender"],
  [received, { by: "us", code: "E_CANCELLED" }, "cancelled by the receiver"],
  [received, { by: "us", code: "E_INTERRUPTED", detail: "terminated" }, "terminated"],
  [
    received,
    { by: "us", code: "E_UNSUPPORTED_CHECKSUM", detail: "md5", declined: true },
    "declined: unsupported checksum md5",
  ],
  [received, { by: "us", code: "E_TOO_MANY_TRANSFERS", declined: true }, "declined: more than 64 transfers at once"],
  [received, { by: "us", code: "E_LEAVING", declined: true }, "declined: the receiver is leaving"],
] as const)("our own %o %o -> %s", (info, why, words) => {
  expect(failureWords(info, why.code, why)).toBe(words);
});

test("a receiver's full disk: sending the file again resumes it, a folder's entry the folder; not said of a stream", () => {
  const full = { by: "peer", said: "cancel", code: "E_WRITE", detail: "ENOSPC" } as const;
  const cut = "the peer cancelled it: the receiver could not write the file (no space left on device)";
  expect(peerReasonWords(sent, full)).toBe(`${cut}; once it has room, sending it again resumes it`);
  expect(peerReasonWords({ ...sent, size: null }, full)).toBe(cut);
  const folder = { group: 1, root: "p", path: ["a.bin"], entries: 2, bytes: 10 };
  expect(peerReasonWords({ ...sent, folder }, full)).toBe(
    `${cut}; once it has room, sending the folder again continues it`,
  );
});

test("a folder refused up front for want of space names the whole folder's size; an entry refused alone its own", () => {
  const folder = { group: 1, root: "p", path: ["a.bin"], entries: 2, bytes: 5000 };
  const whole = { by: "peer", said: "reject", code: "E_NO_SPACE", detail: "folder" } as const;
  expect(peerReasonWords({ ...sent, folder }, whole)).toBe(
    "the peer declined: not enough space at the receiver for the whole folder: 5000 bytes offered",
  );
  const alone = { by: "peer", said: "reject", code: "E_NO_SPACE" } as const;
  expect(peerReasonWords({ ...sent, folder }, alone)).toBe(
    "the peer declined: not enough space at the receiver: 1234 bytes offered",
  );
});

test("a receiver writing to its output (CANCEL with bytes): what reached it, and no resume, whatever the reason", () => {
  const full = { by: "peer", said: "cancel", code: "E_WRITE", detail: "ENOSPC", bytes: 1000 } as const;
  expect(peerReasonWords(sent, full)).toBe(
    "the peer cancelled it: the receiver could not write to its output (no space left on device): 1000 of the 1234 bytes reached it; a file written to an output cannot resume (sending it again sends it whole)",
  );
  const stalled = { by: "peer", said: "cancel", code: "E_WRITE", bytes: 0 } as const;
  expect(peerReasonWords({ ...sent, size: null }, stalled)).toBe(
    "the peer cancelled it: the receiver could not write to its output: 0 bytes reached it; a file written to an output cannot resume (sending it again sends it whole)",
  );
  // Nothing read its output for 10 s (StreamReceiver): no errno, so the detail says it.
  const unread = { by: "peer", said: "cancel", code: "E_WRITE", detail: "stalled", bytes: 1000 } as const;
  expect(peerReasonWords(sent, unread)).toBe(
    "the peer cancelled it: the receiver could not write to its output (its reader stopped reading it): 1000 of the 1234 bytes reached it; a file written to an output cannot resume (sending it again sends it whole)",
  );
});

test("resumeHint: a file cut by a lost connection or the peer's Ctrl-C; never a stream, a folder entry or another failure", () => {
  const file: TransferInfo = { id: 1, direction: "receive", name: "a.bin", size: 10 };
  const mine: TransferInfo = { ...file, direction: "send" };
  const interrupted = { by: "peer", said: "cancel", code: "E_INTERRUPTED" } as const;
  expect(resumeHint(file, "E_CONNECTION")).toBe("; the sender sending it again resumes it");
  expect(resumeHint(mine, "E_CONNECTION")).toBe("; sending it again resumes it");
  expect(resumeHint({ ...mine, nothingKept: true }, "E_CONNECTION")).toBe(""); // accepted whole, none sent: nothing kept
  // Cut before the receiver answered: it may hold an earlier try's .part, or nothing.
  expect(resumeHint({ ...mine, unanswered: true }, "E_CONNECTION")).toBe(
    "; sending it again resumes it if the receiver kept part of it",
  );
  expect(resumeHint(file, "E_CANCELLED", interrupted)).toBe("; the sender sending it again resumes it");
  expect(resumeHint({ ...file, size: null }, "E_CONNECTION")).toBe("");
  const folder = { group: 1, root: "p", path: ["a.bin"], entries: 2, bytes: 10 };
  expect(resumeHint({ ...file, folder }, "E_CONNECTION")).toBe("");
  expect(resumeHint(file, "E_BAD_CHECKSUM")).toBe("");
  expect(resumeHint(file, "E_CANCELLED", { by: "peer", said: "cancel", code: "E_CANCELLED" })).toBe("");
});

test("resumeHint and resumable: a file we send resumes later only with our resume secret stored; a file we receive as before", () => {
  const file: TransferInfo = { id: 1, direction: "receive", name: "a.bin", size: 10 };
  const mine: TransferInfo = { ...file, direction: "send" };
  expect(resumeHint(mine, "E_CONNECTION", undefined, false)).toBe("");
  expect(resumable(mine, "E_CONNECTION", undefined, false)).toBe(false);
  expect(resumable(mine, "E_CONNECTION", undefined, true)).toBe(true);
  // The receiver cannot know the sender's secret: its line stays.
  expect(resumeHint(file, "E_CONNECTION", undefined, false)).toBe("; the sender sending it again resumes it");
  expect(resumable(file, "E_CONNECTION", undefined, false)).toBe(true);
});

test("resumeHint: a file this side's own Ctrl-C, SIGTERM or SIGHUP cut keeps what arrived too; an offer it declined has nothing", () => {
  const file: TransferInfo = { id: 1, direction: "receive", name: "a.bin", size: 10 };
  const mine: TransferInfo = { ...file, direction: "send" };
  const hungUp = { by: "us", code: "E_INTERRUPTED", detail: "hung up" } as const;
  expect(resumeHint(file, "E_INTERRUPTED", hungUp)).toBe("; the sender sending it again resumes it");
  expect(resumeHint(mine, "E_INTERRUPTED", hungUp)).toBe("; sending it again resumes it");
  expect(resumeHint(file, "E_INTERRUPTED", { ...hungUp, declined: true })).toBe("");
  expect(resumeHint(file, "E_CANCELLED", { by: "us", code: "E_CANCELLED" })).toBe("");
});

test("a lost socket's error is said from its OS code, not in the runtime's text", () => {
  const reset = Object.assign(new Error("ECONNRESET: connection reset by peer, read"), { code: "ECONNRESET" });
  expect(socketErrorWords(reset)).toBe(
    "the peer's side reset it (its program ended without closing it, or something on the way cut it)",
  );
  expect(socketErrorWords(Object.assign(new Error("x"), { code: "ETIMEDOUT" }))).toBe(
    "it timed out (no answer from the peer's machine)",
  );
  expect(socketErrorWords(new Error("something else"))).toBe("something else");
});

test("a connection through a transit relay that ends without a BYE is not blamed on the peer: the relay may have gone", () => {
  const reset = Object.assign(new Error("ECONNRESET: connection reset by peer, read"), { code: "ECONNRESET" });
  const timedOut = Object.assign(new Error("x"), { code: "ETIMEDOUT" });
  expect(lostWords(undefined)).toBe("the peer closed the connection without saying goodbye");
  expect(lostWords(reset)).toBe(socketErrorWords(reset));
  expect(lostWords(undefined, { path: "direct", address: "192.0.2.7:40123" })).toBe(lostWords(undefined));
  expect(lostWords(undefined, { path: "relay", address: "127.0.0.1:4001" })).toBe(
    "the connection through the relay 127.0.0.1:4001 closed without a goodbye from the peer (the relay or the peer went away)",
  );
  expect(lostWords(reset, { path: "relay", address: "relay.example:4001" })).toBe(
    "the connection through the relay relay.example:4001 was cut without a goodbye from the peer (the relay or the peer went away)",
  );
  expect(lostWords(timedOut, { path: "relay", address: "relay.example:4001" })).toBe(
    "it timed out (no answer from the peer's machine), through the relay relay.example:4001",
  );
});

test("a folder's entry cancelled with its whole folder says so, on both sides; a file alone does not", () => {
  const folder = { group: 1, root: "p", path: ["a.bin"], entries: 3, bytes: 10 };
  const entry: TransferInfo = { ...sent, folder };
  const whole = { by: "peer", said: "cancel", code: "E_CANCELLED", detail: "folder" } as const;
  expect(failureWords(entry, "E_CANCELLED folder", whole)).toBe(
    "the peer cancelled it: cancelled by the receiver, with its whole folder",
  );
  expect(failureWords(entry, "E_CANCELLED", { by: "us", code: "E_CANCELLED", detail: "folder" })).toBe(
    "cancelled by the sender, with its whole folder",
  );
  expect(failureWords(sent, "E_CANCELLED folder", whole)).toBe("the peer cancelled it: cancelled by the receiver");
});

test("after a Ctrl-C both lines read as plain sentences: no 'cancelled: interrupted', no two bracketed phrases in a row (newuser20)", () => {
  const mine: TransferInfo = { id: 2, direction: "send", name: "x.bin", size: 10 };
  const theirs: TransferInfo = { ...mine, direction: "receive" };
  const ownCtrlC = { by: "us", code: "E_INTERRUPTED", detail: "interrupted" } as const;
  const sender = failureWords(mine, "interrupted", ownCtrlC) + resumeHint(mine, "E_INTERRUPTED", ownCtrlC);
  expect(sender).toBe("interrupted; sending it again resumes it");
  // The session's own reason for a peer that said BYE (session.ts: "the peer left (REASON)").
  const receiver = failureWords(theirs, "the peer left (interrupted)") + resumeHint(theirs, "E_CONNECTION");
  expect(receiver).toBe("the peer left (interrupted); the sender sending it again resumes it");
});

test("cancelledByUser: a user's cancel on either side, not a peer's failure told as a CANCEL", () => {
  expect(cancelledByUser("E_CANCELLED", { by: "us", code: "E_CANCELLED" })).toBe(true);
  expect(cancelledByUser("E_CANCELLED", { by: "peer", said: "cancel", code: "E_CANCELLED" })).toBe(true);
  expect(cancelledByUser("E_CANCELLED", { by: "peer", said: "cancel", code: "E_CANCELLED", detail: "folder" })).toBe(
    true,
  );
  expect(cancelledByUser("E_CANCELLED")).toBe(true);
  // The sender's file gone or unreadable: the sender counts it failed, and so does the receiver.
  expect(cancelledByUser("E_CANCELLED", { by: "peer", said: "cancel", code: "E_NOT_FOUND" })).toBe(false);
  expect(cancelledByUser("E_CANCELLED", { by: "peer", said: "cancel", code: "E_READ", detail: "EIO" })).toBe(false);
  expect(cancelledByUser("E_CONNECTION")).toBe(false);
});

test("a peer's chat line after its LEAVING: one sentence for the chat (the peer's name) and send/receive (The peer)", () => {
  expect(chattedAfterLeavingLine("bob")).toBe(
    "bob sent a line after saying it was leaving: not shown, nor any after it (a Parley sends none then).",
  );
  expect(chattedAfterLeavingLine("The peer")).toBe(
    "The peer sent a line after saying it was leaving: not shown, nor any after it (a Parley sends none then).",
  );
});
