import { afterEach, test } from "bun:test";
import { cleanup, connectedPair } from "./helpers.ts";

afterEach(cleanup);
test("scratch", async () => {
  const { b } = await connectedPair();
  await b.cli.waitForLine(/never/, 300);
});
