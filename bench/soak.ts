/**
 * `bun run soak [seconds] [attack...]`: each attack a local stranger can make without the code
 * (test/attacks.ts) against a real `parley receive`, for `seconds` each (default 60), with the
 * receiver's RSS and CPU sampled every 500 ms; then a real sender must still get its file in.
 * Prints one RESULT line per attack. The suite runs a few seconds of each (soak.test.ts).
 */

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTACKS, type AttackName, processUsage, startAttack } from "../test/attacks.ts";
import { spawnParley } from "./lib/parley-command.ts";

const seconds = Number(process.argv[2] ?? 60);
const chosen = (process.argv.slice(3) as AttackName[]).filter((a) => ATTACKS.includes(a));
const CONNECTIONS = 17;

async function soak(name: AttackName): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "parley-soak-"));
  const receiver = spawnParley(["receive", "--dir", join(dir, "in"), "--json"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = receiver.stdout.getReader();
    let out = "";
    while (!/"type":"listening"/.test(out)) out += new TextDecoder().decode((await reader.read()).value);
    const { port, code } = JSON.parse(out.split("\n").find((l) => l.includes('"listening"')) as string);
    let stderrLines = 0;
    void (async () => {
      for await (const chunk of receiver.stderr) stderrLines += new TextDecoder().decode(chunk).split("\n").length - 1;
    })();
    const attack = startAttack(name, port, CONNECTIONS);
    let maxRss = 0;
    const start = processUsage(receiver.pid);
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      await Bun.sleep(500);
      maxRss = Math.max(maxRss, processUsage(receiver.pid).rssBytes);
    }
    const end = processUsage(receiver.pid);
    const cpu = (end.cpuMs - start.cpuMs) / (performance.now() - started);
    // The real peer, during the attack.
    const file = join(dir, "real.bin");
    writeFileSync(file, randomBytes(1 << 20));
    const sender = spawnParley(["send", file, "--to", code], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => sender.kill("SIGKILL"), 20_000);
    const senderExit = await sender.exited;
    clearTimeout(timer);
    if (senderExit !== 0) {
      const said = (await new Response(sender.stdout).text()) + (await new Response(sender.stderr).text());
      console.log(`real sender (exit ${senderExit}) said: ${said.trim().split("\n").slice(-3).join(" | ")}`);
    }
    attack.stop();
    console.log(
      `RESULT\t${name}\tseconds=${seconds}\tconnections=${attack.opened()}\tmaxRssMiB=${(maxRss / 2 ** 20).toFixed(0)}` +
        `\tcpu=${(cpu * 100).toFixed(0)}%\tstderrLines=${stderrLines}\trealSenderExit=${senderExit}`,
    );
    reader.releaseLock();
  } finally {
    receiver.kill("SIGKILL");
    await receiver.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of chosen.length > 0 ? chosen : ATTACKS) await soak(name);
