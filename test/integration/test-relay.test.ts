/** The test relay (test/relay.ts): its delay may shrink, and nothing overtakes what came before it. */

import { expect, test } from "bun:test";
import { connect, createServer, type Socket } from "node:net";
import { startRelay } from "../relay.ts";

test("a delay cut to 0 mid-stream: what comes after waits for what is still held", async () => {
  let received = "";
  const server = createServer((socket: Socket) => {
    socket.on("data", (chunk) => {
      received += chunk.toString();
      socket.write(chunk); // echoed back through the relay
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  const relay = await startRelay(port, undefined, undefined, { delayMs: 150 });
  let echoed = "";
  const { promise: allBack, resolve: back } = Promise.withResolvers<void>();
  const client = connect(relay.port, "127.0.0.1");
  client.on("data", (chunk) => {
    echoed += chunk.toString();
    if (echoed.length === 4) back();
  });
  try {
    await new Promise<void>((resolve) => client.on("connect", () => resolve()));
    client.write("ab");
    await Bun.sleep(20); // "ab" is held in the relay (150 ms)
    relay.setDelayMs(0);
    client.write("cd");
    await allBack;
    expect(received).toBe("abcd");
    expect(echoed).toBe("abcd");
  } finally {
    client.destroy();
    relay.stop();
    server.close();
  }
});
