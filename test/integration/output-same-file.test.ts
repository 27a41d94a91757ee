/**
 * processIo().outputStat and sameFile, in a real process: standard output and error sent to one
 * file (`> log 2>&1`) are told apart from two files, so `receive --ask > log 2>&1` keeps its
 * questions' lines whole (reporter.ts's shareLinesWith); and samePlace: one terminal (by its
 * path or as /dev/tty) told apart from two.
 */

import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "parley-same-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCRIPT = `
import { processIo, sameFile } from ${JSON.stringify(join(import.meta.dir, "../../src/cli/io.ts"))};
const io = processIo();
console.log("same " + sameFile(io.outputStat?.(false), io.outputStat?.(true)));
`;

function run(stdout: number, stderr: number): void {
  const child = Bun.spawnSync([process.execPath, "-e", SCRIPT], { stdout, stderr });
  expect(child.exitCode).toBe(0);
}

test("one file for both: same; two files: not", () => {
  const log = join(dir, "log");
  const fd = openSync(log, "w");
  run(fd, fd);
  closeSync(fd);
  expect(readFileSync(log, "utf8")).toBe("same true\n");

  const out = openSync(join(dir, "out"), "w");
  const err = openSync(join(dir, "err"), "w");
  run(out, err);
  closeSync(out);
  closeSync(err);
  expect(readFileSync(join(dir, "out"), "utf8")).toBe("same false\n");
});

const PLACE_SCRIPT = `
import { writeFileSync } from "node:fs";
import { processIo, samePlace } from ${JSON.stringify(join(import.meta.dir, "../../src/cli/io.ts"))};
const io = processIo();
const [input, out, err] = [io.inputStat?.(), io.outputStat?.(false), io.outputStat?.(true)];
const same = (a, b) => a !== undefined && b !== undefined && samePlace(a, b);
writeFileSync(process.argv[2], same(out, err) + " " + same(input, err));
`;

/**
 * python3 opens two terminals (ptys) and runs the script with its input and output on the first
 * and its errors on the first, on the second, or on /dev/tty with the first as its controlling
 * terminal.
 */
const PTYS = `
import fcntl, os, pty, subprocess, sys, termios
bun, script, dir = sys.argv[1:4]
m1, s1 = pty.openpty()
m2, s2 = pty.openpty()
def ctty():
    os.setsid()
    fcntl.ioctl(s1, termios.TIOCSCTTY, 0)
    os.dup2(os.open("/dev/tty", os.O_WRONLY), 2)
for name, err, pre in [("one", s1, os.setsid), ("two", s2, os.setsid), ("devtty", s1, ctty)]:
    subprocess.run([bun, script, os.path.join(dir, name)], stdin=s1, stdout=s1, stderr=err, preexec_fn=pre, check=True)
`;

test("one terminal for both, by its path or as /dev/tty: the same place; two terminals: not (isTTY said both were one)", () => {
  const script = join(dir, "place.ts");
  writeFileSync(script, PLACE_SCRIPT);
  const child = Bun.spawnSync(["python3", "-c", PTYS, process.execPath, script, dir], { stderr: "pipe" });
  expect(child.exitCode, child.stderr.toString()).toBe(0);
  const place = (name: string) => readFileSync(join(dir, name), "utf8");
  // Standard output beside error, then standard input beside error (receive --ask's answers).
  expect([place("one"), place("two"), place("devtty")]).toEqual(["true true", "false false", "true true"]);
});
