/**
 * `parley send` / `parley receive` with a mailbox: allocate a code and wait (`code
 * 7-purple-sausage`, a `code` event with --json), or join the code given (PEER, --to,
 * PARLEY_CODE, --code-file); then the session runs as in the direct flow. A plain wormhole
 * client's text goes to stdout with --stdout, else it is shown as its chat line.
 */

import { parseWormholeCode } from "../crypto/wormhole-code.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import type { PeerLink } from "./connect.ts";
import { EXIT_OK, EXIT_TRANSFER } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { describeMeetFailure, MailboxMeet } from "./mailbox-meet.ts";
import type { MailboxConfig } from "./mailbox-options.ts";
import type { Reporter } from "./reporter.ts";

export interface MailboxCommandIo {
  readonly role: "send" | "receive";
  readonly options: SendOptions | ReceiveOptions;
  readonly link: PeerLink;
  readonly reporter: Reporter;
}

/**
 * Meets through the mailbox and resolves with the exit code once the run is over and the
 * mailbox let go.
 * @throws UsageError when the code given is not a mailbox code
 */
export async function runWithMailbox(io: MailboxCommandIo, peer: string | undefined): Promise<number> {
  const { options, reporter } = io;
  const given = peer ?? options.peerCode;
  const code = given === undefined ? undefined : parseWormholeCode(given)?.code;
  if (given !== undefined && code === undefined) {
    throw new UsageError(`"${given}" is not a mailbox code (like 7-purple-sausage)`);
  }
  const other = io.role === "send" ? "parley receive" : "parley send <paths> --to";
  const meet = new MailboxMeet({
    rendezvous: io.link.rendezvous,
    config: options.mailbox as MailboxConfig,
    ...(options.peerName === undefined ? {} : { name: options.peerName }),
    code: (c) => {
      if (code === undefined) reporter.mailboxCode(c, `Waiting for the peer: ${other} ${c} (with the same mailbox)`);
    },
    path: (_line, path, address) => reporter.path(path, address),
    wormholeText: (text) => {
      reporter.note("A plain wormhole client (not Parley) joined: it sent a text message.");
      if ("stdout" in options && options.stdout) process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      else reporter.chat(text);
      io.link.finish(io.role === "receive" ? EXIT_OK : EXIT_TRANSFER);
    },
  });
  meet.meet(code).catch((err: unknown) => {
    const failure = describeMeetFailure(err);
    if (!failure) throw err;
    reporter.error(failure.code, failure.line.replace(/^Error: /, ""));
    io.link.finish(failure.exitCode);
  });
  const exitCode = await io.link.exitCode;
  await meet.release();
  return exitCode;
}
