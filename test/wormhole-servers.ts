/**
 * Test helper: magic-wormhole's own servers on free ports of 127.0.0.1: one pair the test files
 * share (WormholeServers.shared(): `bun test` runs every file in one process, and a pair took
 * 1-4 s to start, once per file before; stopped after the run by test/run-hooks.ts), and pairs
 * of their own for tests that kill one. The mailbox server and the transit relay are the Debian
 * packages python3-magic-wormhole-mailbox-server and magic-wormhole-transit-relay, run
 * with twistd3 in the foreground; each is ready when its port accepts a connection and is
 * stopped by its pid.
 *
 * Where they are not installed the tests that need them are skipped, and say so loudly; with
 * PARLEY_REQUIRE_WORMHOLE=1 (set by .ci/run) their absence is a failure instead.
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(
  port: number,
  proc: Subprocess,
  host = "127.0.0.1",
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the server on port ${port} exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(s) {
            s.end();
            resolve(true);
          },
          data() {},
          connectError() {
            resolve(false);
          },
        },
      }).catch(() => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50); // polling a port that is still coming up; the deadline bounds it
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs / 1000} s`);
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

  /** Starts `twistd3 -n --pidfile= PLUGIN --port=tcp:PORT:interface=HOST ...`. */
  static async start(plugin: "wormhole-mailbox" | "transitrelay", host = "127.0.0.1"): Promise<WormholeServer> {
    const dir = mkdtempSync(join(tmpdir(), "parley-wormhole-"));
    const port = freePort();
    const args = [
      "twistd3",
      "-n",
      "--pidfile=",
      "--logfile=twistd.log",
      plugin,
      `--port=tcp:${port}:interface=${host}`,
    ];
    if (plugin === "wormhole-mailbox") args.push(`--channel-db=${join(dir, "mailbox.sqlite")}`);
    const proc = Bun.spawn(args, { cwd: dir, stdout: "ignore", stderr: "ignore" });
    running.add(proc);
    const server = new WormholeServer(proc, port, dir);
    try {
      await waitForPort(port, proc, host);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Stops the server by its pid (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    running.delete(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
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

  static async start(): Promise<WormholeServers> {
    const [mailbox, relay] = await Promise.all([
      WormholeServer.start("wormhole-mailbox"),
      WormholeServer.start("transitrelay"),
    ]);
    return new WormholeServers(mailbox, relay);
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
