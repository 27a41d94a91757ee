/**
 * Issue 11 item 7: a `.part` an earlier peer left belongs to that sender's transfer. A stranger
 * offering the same name (a real receiver process, a hand-made authenticated peer) gets a new
 * file: ACCEPT at offset 0 with no prefix digest (no guess oracle), and START 0 + CANCEL
 * leave the old `.part` byte for byte as it was. Only an offer with the `.part`'s resume token
 * resumes it, and even then a cancel does not delete a `.part` this session did not make.
 */

import { afterEach, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, type Frame, FrameType } from "../../src/protocol/index.ts";
import { resumeTokenFor } from "../../src/transfer/index.ts";
import { markAsParleyPart } from "../integration/peers.ts";
import { cleanup, rawLeaderInto, seededBytes, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const jsonOf = (f: Frame) => JSON.parse(new TextDecoder().decode(f.payload));
/** Where the earlier peer's file was: its resume token is made from this path. */
const EARLIER_SOURCE = "/home/earlier-peer/contract.pdf";

/** Bob listening, with a 4 KiB contract.pdf.part an earlier sender left, and a raw peer connected to him. */
async function bobWithEarlierPart() {
  const b = await startPeer("bob");
  const part = join(b.dir, "contract.pdf.part");
  const earlier = seededBytes(4096, 7);
  writeFileSync(part, earlier);
  markAsParleyPart(part, EARLIER_SOURCE);
  const raw = await rawLeaderInto(b);
  return { b, part, earlier, raw };
}

async function nthFrame(frames: Frame[], type: number, n: number): Promise<Frame> {
  for (;;) {
    const f = frames.filter((x) => x.type === type)[n];
    if (f) return f;
    await Bun.sleep(5);
  }
}

test.each([
  ["no token", {}],
  ["another token", { token: "0123456789abcdef0123456789abcdef" }],
])(
  "a stranger offering contract.pdf with %s gets no digest and cannot touch the earlier .part",
  async (_what, token) => {
    const { b, part, earlier, raw } = await bobWithEarlierPart();
    raw.send(encodeMessage({ kind: "offer", id: 1, name: "contract.pdf", size: 8192, algo: "xxh3", ...token }));
    const accept = jsonOf(await nthFrame(raw.frames, FrameType.Accept, 0));
    expect(accept).toEqual({ id: 1, offset: 0 }); // a new file: no prefix digest
    raw.send(
      Buffer.concat([
        encodeMessage({ kind: "start", id: 1, offset: 0 }),
        encodeMessage({ kind: "cancel", id: 1, code: "E_CANCELLED" }),
      ]),
    );
    await b.cli.waitForLine(/contract.*failed/);
    expect(readFileSync(part).equals(earlier)).toBe(true);
    expect(readdirSync(b.dir)).toEqual(["contract.pdf.part"]); // the stranger's own .part went
  },
  TEST_MS,
);

test(
  "the earlier sender's token resumes the .part (offset and digest); a cancel then keeps it",
  async () => {
    const { b, part, earlier, raw } = await bobWithEarlierPart();
    const token = resumeTokenFor(EARLIER_SOURCE);
    raw.send(encodeMessage({ kind: "offer", id: 1, name: "contract.pdf", size: 8192, algo: "xxh3", token }));
    const accept = jsonOf(await nthFrame(raw.frames, FrameType.Accept, 0));
    expect(accept.offset).toBe(4096);
    expect(typeof accept.prefix).toBe("string");
    raw.send(encodeMessage({ kind: "cancel", id: 1, code: "E_CANCELLED" }));
    await b.cli.waitForLine(/contract.*failed/);
    expect(readFileSync(part).equals(earlier)).toBe(true);
  },
  TEST_MS,
);
