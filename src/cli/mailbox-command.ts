/**
 * `parley send` / `parley receive` with a mailbox: allocate a code and wait (`code
 * 7-crossover-clockwork`, a `code` event with --json), or join the code given (PEER, --to,
 * PARLEY_CODE, --code-file); then the session runs as in the direct flow. With a plain wormhole
 * client the one transfer of its protocol runs instead (plain-run.ts): its text (to stdout
 * with --stdout, else as its chat line), the file it sends, or the file we send.
 */

import { parseWormholeCode, type WormholeCode } from "../crypto/wormhole-code.ts";
import type { OfferDecision, TransferInfo } from "../session/index.ts";
import type { PlainPeer } from "../session/plain-peer.ts";
import { StreamReceiver } from "../transfer/index.ts";
import { codeOnCommandLineNote } from "./codes.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import type { PeerLink } from "./connect.ts";
import { EXIT_TRANSFER } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";
import type { CliIo } from "./io.ts";
import { describeMeetFailure, MailboxMeet } from "./mailbox-meet.ts";
import { type MailboxConfig, mistypedMailboxCode } from "./mailbox-options.ts";
import type { PlainOutput } from "./plain-run.ts";
import type { Reporter } from "./reporter-interface.ts";
import { codeOutputWarning } from "./secret-files.ts";
import { openStreamOutput, outputStallMs, type StreamOutput } from "./stream-output.ts";
import { textLine } from "./text-line.ts";

export interface MailboxCommandIo {
  readonly role: "send" | "receive";
  readonly options: SendOptions | ReceiveOptions;
  readonly link: PeerLink;
  readonly reporter: Reporter;
  /** The command's io: a plain peer's text goes to its stdout under --stdout. */
  readonly cli: Pick<CliIo, "stdout" | "stderr" | "outputStat" | "env">;
  /** Where received files go. */
  readonly downloadDir: string;
  /** Receive: asks (--ask) or checks (--stdout) an offer before it is taken. */
  readonly decide?: (offer: TransferInfo, stillWanted: () => boolean) => OfferDecision | Promise<OfferDecision>;
  /**
   * Set once a transfer with a plain wormhole client has written something: removes it if the run
   * ends early (a file arriving, a folder's zip received or sent).
   */
  removePlainWritten?: () => void;
}

/**
 * Why a send cannot go to a plain wormhole client, which takes one file (or folder) of known size
 * per code: its words for the wormhole user (the client shows them) and ours, with what to do.
 * Undefined when it can go (one path, not standard input).
 */
export function notOneFile(paths: readonly string[]): { peer: string; ours: string } | undefined {
  if (paths.length > 1) {
    return {
      peer: `the sender has ${paths.length} files or folders to send, and a wormhole client takes one per code`,
      ours: `a plain wormhole client takes one file or folder per code, not ${paths.length}: send them one at a time, each with its own code (or put them in a folder and send that), or have the peer run parley receive`,
    };
  }
  if (paths[0] === "-") {
    return {
      peer: "the sender is sending its standard input, and a wormhole client takes a file of known size",
      ours: "a plain wormhole client cannot take standard input (it takes a file of known size): save it to a file and send that, or have the peer run parley receive",
    };
  }
  return undefined;
}

/** The one transfer with a plain wormhole client, worded by the reporter. */
async function runPlain(io: MailboxCommandIo, peer: PlainPeer): Promise<number> {
  const { PLAIN_PEER_LINE, receiveFromPlain } = await import("./plain-run.ts");
  const { sendToPlain } = await import("./plain-send.ts");
  const { plainFolders } = await import("./plain-folders.ts");
  const { options, reporter } = io;
  const toStdout = "stdout" in options && options.stdout;
  const out: PlainOutput = {
    note: (line) => reporter.note(line),
    text: (text) => {
      if (toStdout) io.cli.stdout.write(textLine(text));
      // Labelled as the chat labels it: a wormhole client has no name to show, and a bare line
      // could pass for one of ours (--stdout gives the bare text, as `wormhole receive` prints it).
      else reporter.chat(text, "wormhole");
    },
    offered: (info) => reporter.offered(info),
    receiving: (info) => reporter.receiving(info),
    progressed: (info, bytes) => reporter.progressed(info, bytes),
    done: (done) => reporter.done(done),
    entryStored: (done, root, entry) => reporter.entryStored(done, root, entry),
    failed: (info, reason, code) => reporter.failed(info, reason, code),
    error: (code, message) => reporter.error(code, message),
    path: (via) => reporter.path(via, true),
    connected: (path, address) => reporter.plainConnected(path, address),
  };
  if (io.role === "receive") {
    const decide = io.decide;
    const asks = {
      dir: io.downloadDir,
      started: (remove: () => void) => {
        io.removePlainWritten = remove;
      },
      // A plain peer's offer cannot be withdrawn while we ask: it is wanted until answered.
      ...(decide ? { decide: async (info: TransferInfo) => decide(info, () => true) } : {}),
    };
    // The file's bytes go to standard output itself, as in the direct flow (receive-command.ts).
    let output: StreamOutput | undefined;
    try {
      return await receiveFromPlain(peer, out, {
        ...asks,
        ...(toStdout
          ? {
              openSink: (info: TransferInfo) => {
                output ??= openStreamOutput();
                return new StreamReceiver(output.fd, info.name, info.size, "sha256", outputStallMs(io.cli.env));
              },
            }
          : { folders: plainFolders(asks) }),
      });
    } finally {
      output?.close();
    }
  }
  // As receiving from one says (receiveFromPlain): what this peer can and cannot do.
  out.note(PLAIN_PEER_LINE);
  const { text, limitRate } = options as SendOptions;
  if (text !== undefined) return sendToPlain(peer, { kind: "text", text }, out);
  const paths = (options as SendOptions).paths;
  const notOne = notOneFile(paths);
  if (notOne !== undefined) {
    await peer.decline(notOne.peer);
    reporter.error("E_ONE_FILE", notOne.ours);
    return EXIT_TRANSFER;
  }
  const path = paths[0] as string; // one path (a send without --text names at least one)
  const rate = limitRate === undefined ? {} : { bytesPerSecond: limitRate };
  const folders = plainFolders({
    dir: io.downloadDir,
    started: (remove) => {
      io.removePlainWritten = remove;
    },
    ...rate,
  });
  return sendToPlain(peer, { kind: "path", path: expandHome(path) }, out, folders, rate);
}

/**
 * The mailbox code to join: the one given on the command line, else PARLEY_CODE's or
 * --code-file's. Its number alone there (`--to 7`, as a port alone goes with a direct code kept
 * out of ps) takes the code kept there when its number is that.
 * @throws UsageError when what is given is not a mailbox code, or not the kept code's number, or
 *   looks mistyped (a word one typo from the list's)
 */
function mailboxCodeGiven(peer: string | undefined, kept: string | undefined): string | undefined {
  if (peer !== undefined && /^\d+$/.test(peer.trim())) {
    const number = peer.trim();
    if (kept === undefined) {
      throw new UsageError(
        `"${number}" is only a mailbox code's number: give the whole code (like ${number}-crossover-clockwork), or put it in PARLEY_CODE or a --code-file`,
      );
    }
    const keptCode = parseWormholeCode(kept);
    if (keptCode?.nameplate !== number) {
      throw new UsageError(
        `"${number}" is not the number of the mailbox code in PARLEY_CODE or --code-file (${keptCode?.nameplate}-...)`,
      );
    }
    return notMistyped(keptCode);
  }
  const given = peer ?? kept;
  const code = given === undefined ? undefined : parseWormholeCode(given);
  if (given !== undefined && code === undefined) {
    throw new UsageError(`"${given}" is not a mailbox code (like 7-crossover-clockwork)`);
  }
  return notMistyped(code);
}

/**
 * `code`'s password, unless it looks mistyped (mistypedMailboxCode): trying it would spend the
 * peer's code. @throws UsageError saying the word meant
 */
function notMistyped(code: WormholeCode | undefined): string | undefined {
  const typo = code && mistypedMailboxCode(code);
  if (typo !== undefined) throw new UsageError(typo);
  return code?.code;
}

/**
 * Meets through the mailbox and resolves with the exit code once the run is over and the
 * mailbox let go.
 * @throws UsageError when the code given is not a mailbox code
 */
export async function runWithMailbox(io: MailboxCommandIo, peer: string | undefined): Promise<number> {
  const { options, reporter } = io;
  const code = mailboxCodeGiven(peer, options.peerCode);
  const note = codeOnCommandLineNote(peer);
  if (note) reporter.note(note);
  // The code in PARLEY_CODE, as the direct flow's hint (codes.ts peerCommandHint): on a command
  // line it gets the note that other users can see it (ps). The wormhole client takes it there,
  // named only where it could take what is sent (one file or folder, or --text).
  const sendsOne =
    io.role === "send" && ((options as SendOptions).text !== undefined || !notOneFile((options as SendOptions).paths));
  const other = (c: string) =>
    io.role === "send"
      ? `PARLEY_CODE=${c} parley receive (with the same mailbox)${sendsOne ? `, or wormhole receive ${c}` : ""}`
      : `PARLEY_CODE=${c} parley send <paths> (with the same mailbox), or wormhole send --code ${c} <file>`;
  const meet = new MailboxMeet({
    rendezvous: io.link.rendezvous,
    config: options.mailbox as MailboxConfig,
    ...(options.peerName === undefined ? {} : { name: options.peerName }),
    code: (c) => {
      if (code !== undefined) return;
      reporter.mailboxCode(c, `Waiting for the peer: ${other(c)}`);
      io.link.codeShown();
      const exposed = codeOutputWarning(io.cli.outputStat?.("stdout" in options && options.stdout));
      if (exposed) io.cli.stderr.write(`${exposed}\n`);
    },
    path: (via) => reporter.path(via, false),
    mailboxLost: (line, withinMs) => reporter.mailboxLost(line, withinMs),
    mailboxBack: (line) => reporter.mailboxBack(line),
    plainPeer: (plain) => {
      io.link.peerMet(); // no Session will say so: the warm-up stops here
      runPlain(io, plain).then(
        (exitCode) => io.link.finish(exitCode),
        (err: unknown) => {
          throw err;
        },
      );
    },
  });
  if (code === undefined) io.link.codeComing(); // the warm-up's delay counts from its line
  meet.meet(code).catch((err: unknown) => {
    if (meet.abandoned) return; // the run is over (a signal): nothing more to say
    const failure = describeMeetFailure(err, code);
    if (!failure) throw err;
    reporter.error(failure.code, failure.line.replace(/^Error: /, ""));
    io.link.finish(failure.exitCode);
  });
  const exitCode = await io.link.exitCode;
  // A signal ended the run in the middle of a plain peer's transfer: no `.part` stays (no
  // resume), nor a folder's temp zip.
  io.removePlainWritten?.();
  await meet.release();
  return exitCode;
}
