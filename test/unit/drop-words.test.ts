/** The words for why a connection was dropped: one sentence per code, a peer's text never in it. */

import { expect, test } from "bun:test";
import { dropWords } from "../../src/cli/drop-words.ts";
import type { DropReason } from "../../src/session/index.ts";

const REASONS: DropReason[] = [
  { code: "E_NOT_PARLEY", detail: "no HELLO" },
  { code: "E_OWN_PORT" },
  { code: "E_CODE_REQUIRED" },
  { code: "E_REFUSED", refusal: undefined },
  { code: "E_REFUSED", refusal: "E_BUSY" },
  { code: "E_TOO_MANY_GUESSES" },
  { code: "E_WRONG_CODE" },
  { code: "E_SILENT" },
  { code: "E_TIMEOUT" },
  { code: "E_CLOSED" },
  { code: "E_EVICTED" },
  { code: "E_PROTOCOL", detail: "a frame before the connection was picked" },
  { code: "E_NO_ANSWER" },
  { code: "E_DISPLACED" },
  { code: "E_WITHDRAWN", refusal: "E_CODE_REQUIRED" },
  { code: "E_WITHDRAWN", refusal: undefined },
  { code: "E_BUSY" },
];

test.each(REASONS.map((r) => [r.code, r] as const))("%s has words of its own", (_code, reason) => {
  const words = dropWords(reason);
  expect(words).toMatch(/^[a-zA-Z]/);
  expect(words).not.toContain("undefined");
  expect(words).not.toContain(reason.code);
});

test("a refusal code from the peer is worded by us", () => {
  expect(dropWords({ code: "E_WITHDRAWN", refusal: "E_BUSY" })).toBe(
    "the peer refused the connection (busy: already connected to a peer)",
  );
});
