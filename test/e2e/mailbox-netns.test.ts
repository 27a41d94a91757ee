/**
 * Two peers that cannot reach each other, as behind two NATs: each Parley runs in a network
 * namespace of its own, joined to the root namespace by a veth pair (198.18.1.0/24 and
 * 198.18.2.0/24, the benchmarking range), with forwarding between them off; the mailbox server
 * and the transit relay listen in the root namespace on 198.18.1.1, which both can reach. With
 * no flag, each Parley tries the other's address, gets nowhere, and uses the relay: chat and a
 * transfer work and the path is reported. The namespaces and links are removed afterwards.
 * Needs root (ip netns); without it the test says so and skips, except in CI.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WormholeServer, wormholeServersAvailable } from "../wormhole-servers.ts";
import { Cli, cleanup, makeTempDir, PARLEY } from "./helpers.ts";

const tag = `p${process.pid % 100000}`;
const nsA = `${tag}-a`;
const nsB = `${tag}-b`;

function sh(args: string[]): { ok: boolean; err: string } {
  const r = Bun.spawnSync(args, { stdout: "ignore", stderr: "pipe" });
  return { ok: r.exitCode === 0, err: r.stderr.toString().trim() };
}

/** Why namespaces cannot be made here, or undefined. */
function namespacesMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (ip netns needs it)";
  if (!Bun.which("ip")) return "no ip command (iproute2)";
  const probe = `${tag}-probe`;
  const made = sh(["ip", "netns", "add", probe]);
  if (!made.ok) return `ip netns add failed: ${made.err}`;
  sh(["ip", "netns", "del", probe]);
  return undefined;
}

const serversOk = wormholeServersAvailable("network namespace test (test/e2e/mailbox-netns.test.ts)");
const missing = serversOk ? namespacesMissing() : "no wormhole servers";
if (serversOk && missing) {
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1") throw new Error(`network namespace test cannot run: ${missing}`);
  console.warn(`\n*** SKIPPED: network namespace test (test/e2e/mailbox-netns.test.ts): ${missing} ***\n`);
}
const runs = serversOk && !missing;

let mailbox: WormholeServer | undefined;
let relay: WormholeServer | undefined;

function setUpNamespaces(): void {
  const steps: string[][] = [];
  for (const [ns, n] of [
    [nsA, 1],
    [nsB, 2],
  ] as const) {
    const outside = `${tag}-v${n}`;
    const inside = `${tag}-v${n}p`;
    steps.push(
      ["ip", "netns", "add", ns],
      ["ip", "link", "add", outside, "type", "veth", "peer", "name", inside],
      ["ip", "link", "set", inside, "netns", ns],
      ["ip", "addr", "add", `198.18.${n}.1/24`, "dev", outside],
      ["ip", "link", "set", outside, "up"],
      // Forwarding off on the root side of each link: nothing passes between the namespaces.
      ["sysctl", "-qw", `net.ipv4.conf.${outside}.forwarding=0`],
      ["ip", "netns", "exec", ns, "ip", "addr", "add", `198.18.${n}.2/24`, "dev", inside],
      ["ip", "netns", "exec", ns, "ip", "link", "set", inside, "up"],
      ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
      ["ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", `198.18.${n}.1`],
    );
  }
  for (const step of steps) {
    const r = sh(step);
    if (!r.ok) throw new Error(`${step.join(" ")}: ${r.err}`);
  }
}

function tearDownNamespaces(): void {
  // Deleting a namespace deletes the veth pairs with their ends in it.
  for (const ns of [nsA, nsB]) sh(["ip", "netns", "del", ns]);
  for (const n of [1, 2]) sh(["ip", "link", "del", `${tag}-v${n}`]);
}

beforeAll(async () => {
  if (!runs) return;
  setUpNamespaces();
  [mailbox, relay] = await Promise.all([
    WormholeServer.start("wormhole-mailbox", "198.18.1.1"),
    WormholeServer.start("transitrelay", "198.18.1.1"),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([mailbox?.stop(), relay?.stop()]);
  if (runs) tearDownNamespaces();
}, 90_000);
afterEach(cleanup);

function inNamespace(ns: string, label: string, args: string[]): Cli {
  // Blank: the hints name the namespace's own address (the run's 127.0.0.1 would be each namespace's own loopback).
  return new Cli(label, args, ["ip", "netns", "exec", ns, ...PARLEY, ...args], undefined, {
    env: { PARLEY_HINT_ADDRESSES: "" },
  });
}

describe.skipIf(!runs)("two namespaces, no route between them", () => {
  test("no direct address works: the relay is used, chat and a transfer work, the path is said", async () => {
    const servers = [
      "--relay-url",
      `ws://198.18.1.1:${mailbox?.port}/v1`,
      "--transit-helper",
      `tcp:198.18.1.1:${relay?.port}`,
    ];
    const src = join(makeTempDir(), "payload.bin");
    const bytes = randomBytes(4 * 1024 * 1024);
    writeFileSync(src, bytes);
    const dirB = makeTempDir();
    const a = inNamespace(nsA, "alice", [...servers, "--name", "alice", "--no-progress", "--dir", makeTempDir()]);
    const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 20_000);
    const b = inNamespace(nsB, "bob", [...servers, "--name", "bob", "--no-progress", "--dir", dirB]);
    await b.waitForLine(/^Waiting in the mailbox · code /, 20_000);
    b.send(match[1] as string);
    const relayAt = `through the relay at 198\\.18\\.1\\.1:${relay?.port}\\. `;
    // A line typed before the session starts is taken as a code: chat only once both are connected.
    await Promise.all([
      a.waitForLine(new RegExp(`^Connected to bob ${relayAt}`), 40_000),
      b.waitForLine(new RegExp(`^Connected to alice ${relayAt}`), 40_000),
    ]);
    a.send("through the relay");
    await b.waitForLine(/^<alice> through the relay$/);
    b.send("got it");
    await a.waitForLine(/^<bob> got it$/);
    a.send(`transfer ${src}`);
    await b.waitForLine(/payload\.bin.*(matched|verified)/, 30_000);
    expect(readFileSync(join(dirB, "payload.bin")).equals(bytes)).toBe(true);
    a.send("exit");
    expect(await a.exitCode()).toBe(0);
    expect(await b.exitCode()).toBe(0);
  }, 120_000);
});
