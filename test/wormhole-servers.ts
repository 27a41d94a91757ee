/**
 * Test helper: magic-wormhole's own servers on free ports of 127.0.0.1: one pair the test files
 * of a process share (WormholeServers.shared(): a pair takes 1-4 s to start; under `bun test
 * --parallel=2` once a worker, not once a file; stopped once that process has ended), and
 * servers of their own for tests that kill one. The mailbox server and the transit relay are the Debian
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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * Polls a starting server's log until it says which port it listens on. `exited`: how its process
 * ended (an exit code or signal, or "gone"), or undefined while it runs.
 * @returns the port, or why there is none and whether the end of its output should be added
 *   (not when `why` is already twistd's own line)
 */
async function portFromLog(
  log: string,
  exited: () => string | undefined,
): Promise<number | { readonly why: string; readonly tail: boolean }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const text = readIfAny(log);
    const listening = / starting on (\d+)\n/.exec(text); // a whole line: the file may end mid-line
    if (listening) return Number(listening[1]);
    const cannot = /Couldn't listen on (\S+?): (.*)\n/.exec(text);
    if (cannot) return { why: `cannot listen on ${cannot[1]}: ${cannot[2]}`, tail: false };
    const ended = exited();
    if (ended !== undefined) return { why: `exited (${ended}) before listening`, tail: true };
    if (Date.now() > deadline)
      return { why: `said it listens on no port within ${START_TIMEOUT_MS / 1000} s`, tail: true };
    await Bun.sleep(25); // polling the log of a server still coming up; the deadline bounds it
  }
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
    const failed = async (why: string, tail: boolean): Promise<never> => {
      const output = tail ? `; its output ends: ${outputTail(`${readIfAny(errors)}\n${readIfAny(log)}`)}` : "";
      await new WormholeServer(proc, port, dir).stop();
      throw new Error(`twistd3 ${plugin} ${endpoint} ${why}${output}`);
    };
    const listening = await portFromLog(log, () =>
      proc.exitCode !== null || proc.signalCode !== null ? String(proc.exitCode ?? proc.signalCode) : undefined,
    );
    return typeof listening === "number"
      ? new WormholeServer(proc, listening, dir)
      : failed(listening.why, listening.tail);
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

/** The pair the test files share, once started (in this file's realm; the process's, see processPair). */
let shared: Promise<WormholePair> | undefined;

/**
 * The folder TMPDIR named as this module loaded, before test/run-hooks.ts pointed TMPDIR at a
 * folder of the file's own (removed after the file): where the process's pair keeps its files.
 */
const GIVEN_TMP = tmpdir();

/** A process by its pid, or false once it is gone (exited and not yet waited for counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readIfAny(`/proc/${pid}/stat`); // "PID (COMMAND) STATE ...": Z, a zombie
  return !/\) Z /.test(stat);
}

/**
 * The shared pair's keeper, `sh -c KEEPER sh DIR PID ENDPOINT`: starts both servers in DIR, writes
 * "MAILBOX_PID RELAY_PID ITS_PID" to DIR/pids, then waits for process PID (the test process) to
 * end; then stops them (SIGTERM, SIGKILL after 5 s), waits for them and removes DIR.
 */
const KEEPER = `cd "$1" || exit 1
twistd3 -n --pidfile= --logfile=- wormhole-mailbox "$3" "--channel-db=$1/mailbox.sqlite" >mailbox.log 2>mailbox.err </dev/null &
m=$!
twistd3 -n --pidfile= --logfile=- transitrelay "$3" >relay.log 2>relay.err </dev/null &
r=$!
echo "$m $r $$" >pids.new && mv pids.new pids
while kill -0 "$2" 2>/dev/null; do sleep 1; done
kill "$m" "$r" 2>/dev/null
( sleep 5; kill -9 "$m" "$r" 2>/dev/null ) &
k=$!
wait "$m" "$r"
kill "$k" 2>/dev/null
cd / && rm -rf "$1"`;

/** Where a pair of servers listens: all that the test files sharing one use. */
export interface WormholePair {
  readonly mailbox: { readonly port: number };
  readonly relay: { readonly port: number };
  /** ws://127.0.0.1:PORT/v1 */
  readonly mailboxUrl: string;
  /** tcp:127.0.0.1:PORT */
  readonly transitHelper: string;
}

/** The shared pair as the files after the first see it: its ports. */
class PairAt implements WormholePair {
  constructor(
    readonly mailbox: { readonly port: number },
    readonly relay: { readonly port: number },
  ) {}

  get mailboxUrl(): string {
    return `ws://127.0.0.1:${this.mailbox.port}/v1`;
  }

  get transitHelper(): string {
    return `tcp:127.0.0.1:${this.relay.port}`;
  }
}

/** A mailbox server and a transit relay, started together. */
export class WormholeServers implements WormholePair {
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
   * The pair every test file may use (a mailbox keeps each code's state apart): started by the
   * first file of this process that asks, and stopped once the process has ended. Under
   * `bun test --parallel` (the README's test command) each file runs in a realm of its own in
   * one of the workers, and the subprocesses a file started are killed after it: a pair of the
   * file's own took 2.3-2.5 s to start, once a file (12 files, ~30 s of the suite's file time).
   * Not to be stopped by a file, nor killed: a test that kills a server starts one of its own.
   */
  static shared(): Promise<WormholePair> {
    shared ??= WormholeServers.processPair();
    return shared;
  }

  /**
   * This process's pair: the one an earlier file started (DIR/ports), or a new one, started by
   * a keeper process that no file owns (started through a shell that exits at once) and that
   * stops the servers once this process is gone (it looks once a second).
   * @throws Error with one line, as WormholeServer.start's; nothing is left running
   */
  private static async processPair(): Promise<WormholePair> {
    const dir = join(GIVEN_TMP, `parley-wormhole-pair-${process.pid}`);
    const record = join(dir, "ports");
    const known = readIfAny(record).trim().split(" ").map(Number);
    const [mailboxPid, relayPid, mailboxPort, relayPort] = known as [number, number, number, number];
    if (known.length === 4 && known.every((n) => Number.isInteger(n) && n > 0) && alive(mailboxPid) && alive(relayPid))
      return new PairAt({ port: mailboxPort }, { port: relayPort });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const endpoint = "--port=tcp:0:interface=127.0.0.1";
    const launch = 'k=$1; shift; sh -c "$k" sh "$@" </dev/null >/dev/null 2>&1 &';
    await Bun.spawn(["sh", "-c", launch, "sh", KEEPER, dir, String(process.pid), endpoint], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    }).exited;
    const deadline = Date.now() + START_TIMEOUT_MS;
    let pids: number[] = [];
    while (pids.length !== 3) {
      if (Date.now() > deadline)
        throw new Error(`the wormhole servers' keeper (sh) did not start within ${START_TIMEOUT_MS / 1000} s`);
      await Bun.sleep(10); // polling for the keeper's pids file; the deadline bounds it
      pids = readIfAny(join(dir, "pids")).trim().split(" ").filter(Boolean).map(Number);
    }
    const [m, r, keeper] = pids as [number, number, number];
    const stopAll = (): void => {
      for (const pid of [keeper, m, r]) if (alive(pid)) process.kill(pid, "SIGKILL"); // the keeper first: it stops nothing more
      rmSync(dir, { recursive: true, force: true });
    };
    const ports: number[] = [];
    for (const [plugin, pid, name] of [
      ["wormhole-mailbox", m, "mailbox"],
      ["transitrelay", r, "relay"],
    ] as const) {
      const log = join(dir, `${name}.log`);
      const errors = join(dir, `${name}.err`);
      const port = await portFromLog(log, () => (alive(pid) ? undefined : "gone"));
      if (typeof port !== "number") {
        const output = port.tail ? `; its output ends: ${outputTail(`${readIfAny(errors)}\n${readIfAny(log)}`)}` : "";
        stopAll();
        throw new Error(`twistd3 ${plugin} ${endpoint} ${port.why}${output}`);
      }
      ports.push(port);
    }
    writeFileSync(`${record}.new`, `${m} ${r} ${ports.join(" ")}\n`);
    renameSync(`${record}.new`, record);
    return new PairAt({ port: ports[0] as number }, { port: ports[1] as number });
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
