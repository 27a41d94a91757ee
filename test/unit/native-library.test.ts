/**
 * lazyLibrary (src/native/library.ts): the first name that loads and passes the check wins,
 * names that do not load are skipped, and the answer is kept for the process.
 */

import { FFIType } from "bun:ffi";
import { expect, test } from "bun:test";
import { lazyLibrary } from "../../src/native/library.ts";

const GETPID = { getpid: { args: [], returns: FFIType.i32 } } as const;
const LIBC = process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";

test("skips a name that does not load and opens the next", () => {
  const load = lazyLibrary(["libparley-no-such-library.so.9", LIBC], GETPID);
  expect(load()?.getpid()).toBe(process.pid);
});

test("null when no name loads", () => {
  expect(lazyLibrary(["libparley-no-such-library.so.9"], GETPID)()).toBeNull();
});

test("a library without one of the symbols is skipped", () => {
  const missing = { parley_no_such_symbol: { args: [], returns: FFIType.i32 } } as const;
  expect(lazyLibrary([LIBC], missing)()).toBeNull();
});

test("a library the check refuses is skipped; the check runs once, the answer is kept", () => {
  let checks = 0;
  const refused = lazyLibrary([LIBC], GETPID, () => {
    checks++;
    return false;
  });
  expect(refused()).toBeNull();
  expect(refused()).toBeNull();
  expect(checks).toBe(1);

  const load = lazyLibrary([LIBC], GETPID);
  expect(load()).toBe(load());
});
