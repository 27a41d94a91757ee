/**
 * session/preload.ts opens, once the code is shown, the native code a transfer's first bytes
 * need, so that no dlopen falls in the event-loop turn that handles a transfer's first OFFER
 * (a chat line typed with `transfer` waits behind that turn). Run in a fresh process: other
 * tests in this one may have loaded the libraries already.
 */

import { expect, test } from "bun:test";
import { resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

test("preloadSessionCode opens the directory-relative calls (and renameat2) a received file is made and stored with", async () => {
  const script = `
    const { dirCallsLoaded } = await import(${JSON.stringify(`${SRC}/transfer/dir-calls.ts`)});
    const { preloadSessionCode } = await import(${JSON.stringify(`${SRC}/session/preload.ts`)});
    const before = dirCallsLoaded();
    await preloadSessionCode();
    console.log(JSON.stringify({ before, after: dirCallsLoaded() }));
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(out)).toEqual({ before: false, after: true });
});
