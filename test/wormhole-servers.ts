/**
 * Test helper: magic-wormhole's own servers on free ports of 127.0.0.1: one pair the test files
 * share (WormholeServers.shared(): `bun test` runs every file in one process, and a pair took
 * 1-4 s to start, once per file before; stopped after the run by test/run-hooks.ts), and pairs
 * of their own for tests that kill one. The mailbox server and the transit relay are the Debian
 * packages python3-magic-wormhole-mailbox-server and magic-wormhole-transit-relay, run
 * with twistd3 in the foreground; each binds a port of the OS's choice itself (port 0: no window
 * between choosing a port and binding it for another process to take it), is ready when its log
 * says which port it listens on, and is stopped by its pid. A start that fails says why in one
 * line: the command, and twistd's reason or the end of its output.
 *
 * Where they are not installed the tests that need them are skipped, and say so loudly; with
 * PARLEY_REQUIRE_WORMHOLE=1 (set by .ci/run) their absence is a failure instead.
 */

import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const MAILBOX_PACKAGE = "/usr/lib/python3/dist-packages/wormhole_mailbox_server";
const RELAY_PACKAGE = "/usr/lib/python3/dist-packages/wormhole_transit_relay";

/** Why the servers cannot run here, or undefined when they can. */
export function wormholeServersMissing(): string | undefined {
  if (!Bun.which("twistd3")) return "twistd3 is not installed";
  if (!existsSync(MAILBOX_PACKAGE)) return "python3-magic-wormhole-mailbox-server is not installed";
  if (!existsSync(RELAY_PACKAGE)) return "magic-wormhole-transit-relay is not installed";
  return undefined;
}

/**
 * True when the tests may use the servers. Otherwise prints which tests are skipped and why,
 * or throws when PARLEY_REQUIRE_WORMHOLE=1.
 */
export function wormholeServersAvailable(what: string): boolean {
  const missing = wormholeServersMissing();
  if (!missing) return true;
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1") {
    throw new Error(`PARLEY_REQUIRE_WORMHOLE=1 but ${missing}: ${what} cannot run`);
  }
  console.warn(`\n*** SKIPPED: ${what}: ${missing} (apt-get install ${DEBIAN_PACKAGES}) ***\n`);
  return false;
}

export const DEBIAN_PACKAGES = "python3-magic-wormhole-mailbox-server magic-wormhole-transit-relay magic-wormhole";

/** A port the OS just handed out and took back (a tiny race with other processes, as usual). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** How long a server may take to say it listens: 0.6-0.8 s idle here, 3.6-4.4 s beside 8 busy loops. */
const START_TIMEOUT_MS = 45_000;

/** The last lines of a server's output, its timestamps cut, as one line. */
function outputTail(text: string, lines = 3): string {
  const kept = text
    .split("\n")
    .map((line) => line.replace(/^\S+ \[[^\]]*\] /, "").trim())
    .filter((line) => line !== "")
    .slice(-lines);
  return kept.length === 0 ? "(no output)" : kept.join(" | ");
}

/** A file's text, or "" while it does not exist yet. */
function readIfAny(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

const running = new Set<Subprocess>();
// Last resort if the test runner goes down before afterAll: no servers left behind.
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

export class WormholeServer {
  private constructor(
    readonly proc: Subprocess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  /**
   * Starts `twistd3 -n --pidfile= --logfile=- PLUGIN --port=tcp:PORT:interface=HOST ...` and
   * resolves once its log says "... starting on PORT" (it then accepts connections).
   * @param port - 0 (the default): the port twistd binds is the OS's choice, read from that line.
   *   A port chosen beforehand could be taken by another process before twistd binds it, and
   *   twistd does not exit then: it logs CannotListenError and idles, while whatever had taken
   *   the port answered in its place.
   * @throws Error with one line: the command and what went wrong (twistd's CannotListenError; or,
   *   with the end of its output, an exit or no word for START_TIMEOUT_MS); the process is stopped first
   */
  static async start(
    plugin: "wormhole-mailbox" | "transitrelay",
    host = "127.0.0.1",
    port = 0,
    /** The folder of its database and log (restart: the one it had); a new one when not given. */
    reuseDir?: string,
  ): Promise<WormholeServer> {
    const dir = reuseDir ?? mkdtempSync(join(tmpdir(), "parley-wormhole-"));
    const endpoint = `--port=tcp:${port}:interface=${host}`;
    const args = ["twistd3", "-n", "--pidfile=", "--logfile=-", plugin, endpoint];
    if (plugin === "wormhole-mailbox") args.push(`--channel-db=${join(dir, "mailbox.sqlite")}`);
    // Files, not pipes: the log grows with every connection, and a pipe nobody reads would block it.
    const log = join(dir, "twistd.log");
    const errors = join(dir, "stderr.txt");
    rmSync(log, { force: true }); // a restart's log: the line waited for is this run's
    const proc = Bun.spawn(args, { cwd: dir, stdout: Bun.file(log), stderr: Bun.file(errors) });
    running.add(proc);
    /** @param tail - add the end of its output (not when `why` is already twistd's own line) */
    const failed = async (why: string, tail = true): Promise<never> => {
      const output = tail ? `; its output ends: ${outputTail(`${readIfAny(errors)}\n${readIfAny(log)}`)}` : "";
      await new WormholeServer(proc, port, dir).stop();
      throw new Error(`twistd3 ${plugin} ${endpoint} ${why}${output}`);
    };
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const text = readIfAny(log);
      const listening = / starting on (\d+)\n/.exec(text); // a whole line: the file may end mid-line
      if (listening) return new WormholeServer(proc, Number(listening[1]), dir);
      const cannot = /Couldn't listen on (\S+?): (.*)\n/.exec(text);
      if (cannot) return failed(`cannot listen on ${cannot[1]}: ${cannot[2]}`, false);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return failed(`exited (${proc.exitCode ?? proc.signalCode}) before listening`);
      }
      if (Date.now() > deadline) return failed(`said it listens on no port within ${START_TIMEOUT_MS / 1000} s`);
      await Bun.sleep(25); // polling the log of a server still coming up; the deadline bounds it
    }
  }

  /** Stops the server by its pid (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * How many messages a mailbox server's database holds (read-only, beside the running server):
   * a side's PAKE message there means the server answered its claim and it opened its mailbox.
   */
  storedMessages(): number {
    const db = new Database(join(this.dir, "mailbox.sqlite"), { readonly: true });
    try {
      db.exec("PRAGMA busy_timeout = 5000"); // the server may be writing: wait for its lock
      return (db.query("SELECT COUNT(*) AS n FROM messages").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /** Stops the process (as stop()) but keeps its folder: its database, for restart(). */
  async halt(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    running.delete(this.proc);
  }

  /**
   * A mailbox server stopped by halt() (or running: it is halted first) started again on the same
   * port with the same database, as a server restarted by its administrator: the new one.
   * `freshDatabase`: in a new folder instead (a server that came back without its state).
   */
  async restart(options: { freshDatabase?: boolean } = {}): Promise<WormholeServer> {
    await this.halt();
    if (options.freshDatabase) rmSync(this.dir, { recursive: true, force: true });
    return WormholeServer.start(
      "wormhole-mailbox",
      "127.0.0.1",
      this.port,
      options.freshDatabase ? undefined : this.dir,
    );
  }
}

/** The pair the test files share, once started. */
let shared: Promise<WormholeServers> | undefined;

/** A mailbox server and a transit relay, started together. */
export class WormholeServers {
  private constructor(
    readonly mailbox: WormholeServer,
    readonly relay: WormholeServer,
  ) {}

  /** @throws the first failed start's Error, once the other server (if it started) is stopped */
  static async start(): Promise<WormholeServers> {
    const [mailbox, relay] = await Promise.allSettled([
      WormholeServer.start("wormhole-mailbox"),
      WormholeServer.start("transitrelay"),
    ]);
    if (mailbox.status === "fulfilled" && relay.status === "fulfilled") {
      return new WormholeServers(mailbox.value, relay.value);
    }
    // Not left running: nothing else would stop the one that started.
    for (const one of [mailbox, relay]) if (one.status === "fulfilled") await one.value.stop();
    throw mailbox.status === "rejected" ? mailbox.reason : (relay as PromiseRejectedResult).reason;
  }

  /**
   * The pair every test file may use (a mailbox keeps each code's state apart, and the files run
   * one after the other): started by the first that asks, stopped once every file has run
   * (stopSharedWormholeServers, test/run-hooks.ts). Not to be stopped by a file, nor killed: a
   * test that kills a server starts one of its own.
   */
  static shared(): Promise<WormholeServers> {
    shared ??= WormholeServers.start();
    return shared;
  }

  /** ws://127.0.0.1:PORT/v1 */
  get mailboxUrl(): string {
    return `ws://127.0.0.1:${this.mailbox.port}/v1`;
  }

  /** tcp:127.0.0.1:PORT */
  get transitHelper(): string {
    return `tcp:127.0.0.1:${this.relay.port}`;
  }

  async stop(): Promise<void> {
    await Promise.all([this.mailbox.stop(), this.relay.stop()]);
  }
}

/** Stops the shared pair, if one was started (after the whole run: test/run-hooks.ts). */
export async function stopSharedWormholeServers(): Promise<void> {
  const pair = await shared?.catch(() => undefined);
  shared = undefined;
  await pair?.stop();
}
