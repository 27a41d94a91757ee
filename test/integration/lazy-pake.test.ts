/**
 * The PAKE code loads lazily (kept out of start-up). A handshake whose first frames arrive
 * before it has loaded holds them and completes once it is there.
 */

import { afterEach, expect, test } from "bun:test";
import { resolve } from "node:path";
import { TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

test("frames that arrive before the PAKE code has loaded are held, and the handshake completes", async () => {
  const target = new TestPeer("target", "sha256", { codeWords: "ribbon-walnut" });
  peers.push(target);
  const child = Bun.spawn(
    [process.execPath, "test/fixtures/dial-before-pake-loads.ts", String(target.listener.port), "ribbon-walnut"],
    { cwd: resolve(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" },
  );
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  expect(out).toContain("LOADED BEFORE HANDSHAKE false"); // the held path was taken
  expect(out).toContain("CONNECTED code");
  expect(code).toBe(0);
  await target.waitFor("chat", (e) => e.text === "hello after a lazy load");
});
