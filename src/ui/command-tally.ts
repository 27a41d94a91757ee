/**
 * One `transfer a b c` (or `parley send a b c`) command sends several transfers: this keeps
 * count per command, so the UI can end it with one summary line. Pure bookkeeping.
 *
 * Which transfer belongs to which command: the session gives ids to a command's sends in the
 * order they were handed to it, first come first served, so each new outgoing id belongs to
 * the oldest command that still has sends without an id.
 */

export interface CommandSummary {
  /** Files and folders the command named (a folder counts once). */
  readonly units: number;
  /** Transfers handed to the session (a folder's entries each count). */
  readonly transfers: number;
  /** Of those: saved by the receiver, and failed. */
  readonly saved: number;
  readonly failed: number;
  /** Verified bytes of the saved ones. */
  readonly bytes: number;
}

interface Command {
  summary: CommandSummary;
  /** Sends that have no id yet. */
  unclaimed: number;
}

export class CommandTally {
  private readonly waiting: Command[] = [];
  private readonly byId = new Map<number, Command>();

  /** A command handed `transfers` sends (for `units` files and folders) to the session. */
  started(units: number, transfers: number): void {
    if (transfers === 0) return;
    this.waiting.push({ summary: { units, transfers, saved: 0, failed: 0, bytes: 0 }, unclaimed: transfers });
  }

  /**
   * A send of the newest command could not be handed to the session (the file went away):
   * it takes no id and counts as failed. @returns the summary if that ended the command
   */
  notTaken(): CommandSummary | undefined {
    const command = this.waiting.at(-1);
    if (!command) return undefined;
    command.unclaimed--;
    if (command.unclaimed === 0) this.waiting.pop();
    command.summary = { ...command.summary, failed: command.summary.failed + 1 };
    const s = command.summary;
    return s.saved + s.failed === s.transfers ? s : undefined;
  }

  /** An outgoing transfer was offered (or failed to open): it takes its place in its command. */
  offered(id: number): void {
    this.claim(id);
  }

  /** @returns the command's summary when this was its last transfer to end */
  saved(id: number, bytes: number): CommandSummary | undefined {
    return this.ended(id, (s) => ({ ...s, saved: s.saved + 1, bytes: s.bytes + bytes }));
  }

  /** @returns the command's summary when this was its last transfer to end */
  failed(id: number): CommandSummary | undefined {
    return this.ended(id, (s) => ({ ...s, failed: s.failed + 1 }));
  }

  private ended(id: number, count: (s: CommandSummary) => CommandSummary): CommandSummary | undefined {
    const command = this.claim(id);
    if (!command) return undefined;
    this.byId.delete(id);
    command.summary = count(command.summary);
    const s = command.summary;
    return s.saved + s.failed === s.transfers ? s : undefined;
  }

  private claim(id: number): Command | undefined {
    const known = this.byId.get(id);
    if (known) return known;
    const command = this.waiting[0];
    if (!command) return undefined;
    command.unclaimed--;
    if (command.unclaimed === 0) this.waiting.shift();
    this.byId.set(id, command);
    return command;
  }
}
