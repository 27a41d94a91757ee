/**
 * The chat trace (src/session/chat-trace.ts): off unless PARLEY_CHAT_TRACE is set; the stamps it
 * saves, in order, on one clock, a peer's text kept on one line; slow work kept, quick work not;
 * and where it saves them: a new file only its owner can read, never over a file or through a
 * link already at that name, and a trace it cannot write costs one line, not the exit code or
 * a stack trace.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatTrace, chatTrace } from "../../src/session/chat-trace.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function traceIn(): { trace: ChatTrace; file: string; dir: string; warnings: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
  dirs.push(dir);
  const warnings: string[] = [];
  const trace = new ChatTrace(join(dir, "t"), (line) => warnings.push(line));
  return { trace, file: join(dir, `t.${process.pid}`), dir, warnings };
}

/** The saved lines as [stage, epoch ms, extra, text]. */
function saved(file: string): string[][] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [stage, at, extra, ...text] = line.split(" ");
      return [stage as string, at as string, extra as string, text.join(" ")];
    });
}

describe("chat trace", () => {
  test("is off unless PARLEY_CHAT_TRACE is set", () => {
    expect(process.env.PARLEY_CHAT_TRACE).toBeUndefined();
    expect(chatTrace).toBeUndefined();
  });

  test("saves each stage of a line with a shared-clock time, in order", () => {
    const { trace, file } = traceIn();
    const before = Date.now();
    trace.stamp("in", "c 1");
    trace.stamp("out", "c 1");
    trace.save();
    const lines = saved(file);
    expect(lines.map(([stage, , , text]) => `${stage} ${text}`)).toEqual(["in c 1", "out c 1"]);
    const [inAt, outAt] = lines.map(([, at]) => Number(at));
    expect(inAt).toBeGreaterThanOrEqual(before - 1);
    expect(outAt).toBeGreaterThanOrEqual(inAt as number);
  });

  test("a decoded chat line is stamped with the read it came in and the records before it", async () => {
    const { trace, file } = traceIn();
    // One socket read: three records handled in one synchronous run, the chat in the third.
    trace.recordHandled();
    trace.recordHandled();
    trace.recordHandled();
    trace.chatDecoded("c 7");
    await Promise.resolve(); // the read ends (microtask checkpoint): the next record starts a new one
    trace.recordHandled();
    trace.chatDecoded("c 8");
    trace.save();
    const reads = saved(file).filter(([stage]) => stage === "read");
    expect(reads.map(([, , extra, text]) => `${text}: ${extra}`)).toEqual(["c 7: 2.00", "c 8: 0.00"]);
    const decoded = saved(file).filter(([stage]) => stage === "decoded");
    expect(decoded.map(([, , , text]) => text)).toEqual(["c 7", "c 8"]);
  });

  test("keeps work only when it took a millisecond or more", () => {
    const { trace, file } = traceIn();
    trace.took("quick", trace.begin());
    const slow = trace.begin();
    const until = performance.now() + 2;
    while (performance.now() < until) {
      // busy: the work being measured
    }
    trace.took("slow", slow);
    trace.save();
    const kept = saved(file);
    expect(kept.map(([stage]) => stage)).toEqual(["slow"]);
    // wall ms / on-CPU ms / waiting-for-CPU ms
    const [wall] = String(kept[0]?.[2]).split("/").map(Number);
    expect(wall).toBeGreaterThanOrEqual(2);
  });

  test("a peer's line cannot add lines of its own to the file or carry escape sequences", () => {
    const { trace, file } = traceIn();
    trace.chatDecoded("hi\nshown 1.000 0 forged\u001b[2J\\x0a");
    trace.save();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["read", "decoded"]);
    expect(lines[1]?.endsWith(" hi\\x0ashown 1.000 0 forged\\x1b[2J\\x5cx0a")).toBe(true);
  });

  test("saves to a new file only its owner can read (the chat text is in it)", () => {
    const { trace, file } = traceIn();
    trace.stamp("in", "a private line");
    expect(trace.save()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("never overwrites a file already at its name, nor writes through a link there", () => {
    const { trace, file, dir, warnings } = traceIn();
    trace.stamp("in", "c 1");
    writeFileSync(file, "precious\n");
    expect(trace.save()).toBe(false);
    expect(readFileSync(file, "utf8")).toBe("precious\n");

    // A link planted at the guessable name (a shared folder, a known pid) to someone's file.
    rmSync(file);
    const victim = join(dir, "victim");
    writeFileSync(victim, "victim's own\n");
    symlinkSync(victim, file);
    expect(trace.save()).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("victim's own\n");
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toBe(`parley: chat trace not written to ${file} (EEXIST)`);
  });

  test("a trace it cannot write at exit costs one line on stderr, not the exit code or a stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
    dirs.push(dir);
    const module = join(import.meta.dir, "../../src/session/chat-trace.ts");
    const run = Bun.spawnSync({
      cmd: [
        process.execPath,
        "-e",
        `import { chatTrace } from ${JSON.stringify(module)}; chatTrace?.stamp("in", "x");`,
      ],
      env: { ...process.env, PARLEY_CHAT_TRACE: join(dir, "missing-folder", "t") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = run.stderr.toString();
    expect(run.exitCode).toBe(0);
    expect(stderr).toMatch(/^parley: chat trace not written to .*missing-folder\/t\.\d+ \(ENOENT\)\n$/);
  });
});
