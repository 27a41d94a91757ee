/** The bench's flags (bench/lib/flags.ts): numbers checked, 0 files skips the small-files case. */

import { expect, test } from "bun:test";
import { parseBenchFlags } from "../../bench/lib/flags.ts";

test("--files 0 and --link-ms 0 are taken (they skip their cases)", () => {
  const flags = parseBenchFlags(["--files", "0", "--link-ms", "0"]);
  expect(flags.smallFiles).toBe(0);
  expect(flags.linkMs).toBe(0);
});

test.each([
  [["--files", "lots"], /--files wants a whole number >= 0, not "lots"/],
  [["--files=-1"], /--files wants a whole number >= 0, not "-1"/],
  [["--files", "1.5"], /--files wants a whole number/],
  [["--runs", "0"], /--runs wants a whole number >= 1, not "0"/],
  [["--runs", ""], /--runs wants a whole number/],
  [["--link-ms", "x"], /--link-ms wants a whole number/],
  [["--size", "0"], /--size wants at least 1 byte/],
  [["--size", "big"], /bad size: "big"/],
])("%p is refused with one line naming the flag", (argv, message) => {
  expect(() => parseBenchFlags(argv)).toThrow(message);
});

test("--pin is off unless asked for", () => {
  expect(parseBenchFlags([]).pin).toBe(false);
  expect(parseBenchFlags(["--pin"]).pin).toBe(true);
});

test("--cli-pause is 0 (transfer typed at once) unless given, in whole ms", () => {
  expect(parseBenchFlags([]).cliPauseMs).toBe(0);
  expect(parseBenchFlags(["--cli-pause", "1000"]).cliPauseMs).toBe(1000);
  expect(() => parseBenchFlags(["--cli-pause", "1s"])).toThrow(/--cli-pause wants a whole number >= 0, not "1s"/);
});

test("--lines names the file each CLI run's lines go to (none unless given)", () => {
  expect(parseBenchFlags([]).linesFile).toBeUndefined();
  expect(parseBenchFlags(["--lines", "/tmp/lines.jsonl"]).linesFile).toBe("/tmp/lines.jsonl");
});
