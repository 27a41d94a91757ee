/**
 * A tmux client in control mode for test/e2e/tmux.test.ts: tmux commands in, their answers out,
 * over one process's pipes (tmux(1), CONTROL MODE).
 */

import type { Subprocess } from "bun";

/**
 * One tmux client in control mode (`-C`, attached to a session of its own) that tmux.test.ts
 * reads the panes through: a command line in, its answer between `%begin` and `%end` out. A new
 * `tmux capture-pane` process per look cost ~12 ms of CPU here (fork, exec, connect), and
 * spawnSync held this process's one event loop meanwhile: tests waiting at once queued behind
 * each other's looks (20 a second each). Started, and the server with it, before the tests
 * (started at once, they raced to start the server: "server exited unexpectedly"); it ends
 * with the server.
 */
export class TmuxControl {
  private readonly proc: Subprocess<"pipe", "pipe", "ignore">;
  /** Answers still to come, in the order the commands were written; the first is new-session's. */
  private readonly waiting: Array<{ resolve: (lines: string[]) => void; reject: (err: Error) => void }> = [];
  private ended = false;
  /** Resolves once its session is made: the server runs. */
  readonly ready = new Promise<string[]>((resolve, reject) => this.waiting.push({ resolve, reject }));

  /** Starts the client (and the server, if none runs) on the server socket `socket`. */
  constructor(tmux: string, socket: string) {
    this.proc = Bun.spawn([tmux, "-S", socket, "-C", "new-session", "-s", "control", "sleep 3600"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
    });
    void this.read();
  }

  /** The output lines of one tmux command (arguments without spaces or quotes). @throws Error on %error */
  run(...args: string[]): Promise<string[]> {
    if (this.ended) return Promise.reject(new Error("the tmux control client has ended"));
    const answer = new Promise<string[]>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.proc.stdin.write(`${args.join(" ")}\n`);
    this.proc.stdin.flush();
    return answer;
  }

  /**
   * Kills the server through this client, and waits for the client to exit (the server waits for
   * its clients: killed by another one, it lingered for seconds after the run).
   */
  async killServer(): Promise<void> {
    if (!this.ended) {
      this.proc.stdin.write("kill-server\n");
      this.proc.stdin.flush();
    }
    await Promise.race([this.proc.exited, Bun.sleep(2_000)]);
    this.proc.kill("SIGKILL"); // nothing if it exited
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    // Inside an answer: the line that ends it (%end or %error with its %begin's time and number).
    let block: { end: string; error: string; lines: string[] } | undefined;
    for await (const chunk of this.proc.stdout) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (block === undefined) {
          // Notifications (%window-add, %sessions-changed, ...) come between answers: not ours.
          if (line.startsWith("%begin ")) {
            const tail = line.slice("%begin ".length);
            block = { end: `%end ${tail}`, error: `%error ${tail}`, lines: [] };
          }
        } else if (line === block.end || line === block.error) {
          const waiter = this.waiting.shift();
          if (line === block.end) waiter?.resolve(block.lines);
          else waiter?.reject(new Error(block.lines.join("\n")));
          block = undefined;
        } else block.lines.push(line);
      }
    }
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error("the tmux control client ended"));
  }
}
