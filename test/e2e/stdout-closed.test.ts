/**
 * `parley receive --stdout >&-`: standard output closed, so the runtime puts /dev/null there
 * and the file would be thrown away while both sides report it saved. It is a usage error at
 * start (one line, exit 1). A shell's `> /dev/null` (chosen) still receives.
 */

import { afterEach, expect, test } from "bun:test";
import { Cli, cleanup, MAIN, PARLEY, PARLEY_SHELL, WAIT_MS } from "./helpers.ts";

afterEach(cleanup);

/** The CLI with `args`, its stdout as the shell `redirect` leaves it. */
function withStdout(redirect: string, args: readonly string[]): Cli {
  return new Cli("receiver", [], ["bash", "-c", `exec "$0" "$@" ${redirect}`, ...PARLEY, ...args]);
}

test.each([
  ["bun itself", [] as string[]],
  ["through the parley bin (Node)", ["--via-bin"]],
])(
  "receive --stdout >&- (%s): one line on stderr, exit 1, never listens",
  async (_label, via) => {
    const args = ["receive", "--stdout"];
    const cli =
      via.length === 0
        ? withStdout(">&-", args)
        : new Cli(
            "receiver",
            [],
            ["bash", "-c", `exec node "$0" "$@" >&-`, MAIN.replace(/main\.ts$/, "bin.cjs"), ...args],
          );
    // SIGTERM: the bin passes it on to its Bun (a SIGKILL would leave that one running).
    const timer = setTimeout(() => cli.proc.kill("SIGTERM"), WAIT_MS);
    const code = await cli.exited;
    clearTimeout(timer);
    expect(code, cli.stderr).toBe(1);
    expect(cli.stderr).toContain("parley: --stdout: standard output is closed (>&-)");
    expect(cli.stderr).not.toContain("Listening on");
  },
  20_000,
);

test("receive --stdout > /dev/null: listens as usual (the user chose to throw the file away)", async () => {
  const cli = withStdout("> /dev/null", ["receive", "--stdout"]);
  await cli.waitForStderr(/Listening on 127\.0\.0\.1:\d+ · code /);
}, 20_000);

test("receive --stdout at a terminal: refused at start (the peer's escape sequences would run there), exit 1", async () => {
  // script(1) gives the CLI a terminal (a pty) for its standard streams; -e passes its exit code on.
  const command = `exec ${PARLEY_SHELL} receive --stdout`;
  const cli = new Cli("receiver", [], ["script", "-qec", command, "/dev/null"]);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), WAIT_MS);
  const code = await cli.exited;
  clearTimeout(timer);
  const said = cli.stdout + cli.stderr; // the pty carries both
  expect(code, said).toBe(1);
  expect(said).toContain(
    "parley: --stdout: standard output is a terminal, where the peer's bytes would run as escape sequences",
  );
  expect(said).not.toContain("Listening on");
});
