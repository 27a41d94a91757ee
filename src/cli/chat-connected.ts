/**
 * The chat's part that only a connected peer needs: a chat line checked against the protocol's
 * limit, the `transfer` and `transfers` commands, and the transfers' events as lines (the
 * TransferPresenter). Loaded with the session layer after the code is shown (chat.ts hands
 * it to PeerLink as `loadWithSession`), so the send planner, the transfer wording and the
 * protocol's modules stay off the start-up path.
 */

import { existsSync } from "node:fs";
import { MAX_CHAT_BYTES } from "../protocol/frame-types.ts";
import { chatFits } from "../protocol/messages.ts";
import type { Session, SessionEvents } from "../session/index.ts";
import { formatBytes } from "../ui/progress.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import type { Terminal } from "../ui/terminal.ts";
import { transferPathsOrSay } from "./input.ts";
import { failureWords, resumable, resumeHint } from "./reason-words.ts";
import {
  NOTHING_SENT,
  planSends,
  resumeSecretWarning,
  type SendPlan,
  skippedLine,
  startSends,
  UnsendablePaths,
} from "./send-plan.ts";
import { TransferPresenter } from "./transfer-presenter.ts";

export type TransferEvents = Pick<
  SessionEvents,
  "transferStarted" | "transferProgressed" | "transferFinished" | "transferFailed"
>;

export class ChatWithPeer {
  private readonly presenter: TransferPresenter;

  constructor(private readonly terminal: Terminal) {
    this.presenter = new TransferPresenter(terminal);
  }

  /** Sends a chat line, or says why not. */
  sendChat(session: Session, text: string): void {
    if (!session.isOpen) {
      this.terminal.print("Not sent: the session is closing.");
      return;
    }
    if (!chatFits(text)) {
      this.terminal.print(`Not sent: a chat line can be at most ${MAX_CHAT_BYTES / 1024} KiB; send a file instead.`);
      return;
    }
    session.sendChat(text);
  }

  /** `transfers`: one line per transfer in progress. */
  listTransfers(session: Session): void {
    const list = session.transferStatus;
    if (list.length === 0) {
      this.terminal.print("No transfers in progress.");
      return;
    }
    for (const { info, bytes, checking } of list) {
      const arrow = info.direction === "send" ? "sending" : "receiving";
      const name = sanitizeForTerminal(info.name);
      if (checking) {
        this.terminal.print(`#${info.id} ${arrow} ${name}: checking what an earlier attempt left, to resume`);
        continue;
      }
      const of =
        info.size === null
          ? ""
          : ` of ${formatBytes(info.size)} (${info.size === 0 ? 100 : Math.floor((bytes / info.size) * 100)}%)`;
      this.terminal.print(`#${info.id} ${arrow} ${name}: ${formatBytes(bytes)}${of}`);
    }
  }

  /** `transfer <path>...`: plans the sends and hands them to the session. */
  startTransfers(session: Session, args: string): void {
    let plan: SendPlan;
    const paths = transferPathsOrSay(
      args,
      (p) => existsSync(p),
      (line) => this.terminal.print(line),
    );
    if (!paths) return;
    try {
      plan = planSends(paths, "stdin");
    } catch (err) {
      if (!(err instanceof UnsendablePaths)) throw err;
      for (const problem of err.problems) this.terminal.print(`Error: ${sanitizeForTerminal(problem.message)}`);
      if (err.problems.length < paths.length) this.terminal.print(NOTHING_SENT);
      return;
    }
    if (plan.sends.some((send) => send.kind === "stdin")) {
      this.terminal.print("Error: - (standard input) is the chat's own input here; use parley send - instead.");
      return;
    }
    const exposed = resumeSecretWarning();
    if (exposed) this.terminal.print(exposed);
    for (const entry of plan.skipped) this.terminal.print(skippedLine(entry));
    startSends(
      session,
      plan,
      () => new ReadableStream(),
      (err) => this.terminal.print(`Error: ${err.message}`),
    );
  }

  readonly transferEvents: TransferEvents = {
    transferStarted: (info) => this.presenter.started(info),
    transferProgressed: (info, bytes) => this.presenter.progressed(info, bytes),
    transferFinished: (done) => this.presenter.finished(done),
    transferFailed: (info, reason, code, peer) =>
      this.presenter.failed(
        info,
        failureWords(info, reason, peer) + resumeHint(info, code, peer),
        resumable(info, code, peer),
      ),
  };

  /** The session ended: a folder still missing entries ends with its summary. */
  sessionEnded(): void {
    this.presenter.sessionEnded();
  }
}
