import { expect, test } from "bun:test";
import { firstHelloFromEnv } from "../../src/cli/connect.ts";

test("PARLEY_FIRST_HELLO_MS: a positive whole number of ms is passed on; anything else keeps the default", () => {
  expect(firstHelloFromEnv({ PARLEY_FIRST_HELLO_MS: "500" })).toEqual({ firstHelloMs: 500 });
  expect(firstHelloFromEnv({ PARLEY_FIRST_HELLO_MS: "1" })).toEqual({ firstHelloMs: 1 });
  for (const value of [undefined, "", "0", "-5", "1.5", "abc", "500ms", "1e3", " 500", "9999999"]) {
    expect(firstHelloFromEnv({ PARLEY_FIRST_HELLO_MS: value }), String(value)).toEqual({});
  }
});
