/**
 * The chat trace: the session's part (src/session/chat-trace.ts) is off until the CLI installs
 * one, keeps its stamps in order on one clock, a peer's text on one line, slow work with the
 * thread times it is given and quick work not, and does no I/O of its own; the CLI's part
 * (src/cli/chat-trace-file.ts) saves them to a new file only its owner can read, never over a
 * file or through a link already at that name, and a trace it cannot write costs one line,
 * not the exit code or a stack trace.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveChatTrace } from "../../src/cli/chat-trace-file.ts";
import { ChatTrace, chatTrace, installChatTrace } from "../../src/session/chat-trace.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface TraceIn {
  readonly trace: ChatTrace;
  readonly file: string;
  readonly dir: string;
  readonly warnings: string[];
  /** Saves the trace to `file` as the CLI does at exit. */
  save(): boolean;
}

function traceIn(threadTimes?: () => { cpu: number; queued: number }): TraceIn {
  const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
  dirs.push(dir);
  const warnings: string[] = [];
  const trace = new ChatTrace(threadTimes);
  const file = join(dir, "t.1");
  return { trace, file, dir, warnings, save: () => saveChatTrace(trace, file, (line) => warnings.push(line)) };
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
  test("is off until one is installed, and the session's hooks then see it", () => {
    expect(process.env.PARLEY_CHAT_TRACE).toBeUndefined();
    expect(chatTrace).toBeUndefined();
    const trace = new ChatTrace();
    installChatTrace(trace);
    try {
      expect(chatTrace).toBe(trace);
    } finally {
      installChatTrace(undefined);
    }
    expect(chatTrace).toBeUndefined();
  });

  test("the session's part reads no environment, opens no file and hooks no process event", () => {
    const source = readFileSync(join(import.meta.dir, "../../src/session/chat-trace.ts"), "utf8");
    expect(source).not.toMatch(/process\.(env|on)\b|from "node:fs"|require\(/);
  });

  test("saves each stage of a line with a shared-clock time, in order", () => {
    const { trace, file, save } = traceIn();
    const before = Date.now();
    trace.stamp("in", "c 1");
    trace.stamp("out", "c 1");
    save();
    const lines = saved(file);
    expect(lines.map(([stage, , , text]) => `${stage} ${text}`)).toEqual(["in c 1", "out c 1"]);
    const [inAt, outAt] = lines.map(([, at]) => Number(at));
    expect(inAt).toBeGreaterThanOrEqual(before - 1);
    expect(outAt).toBeGreaterThanOrEqual(inAt as number);
  });

  test("a decoded chat line is stamped with the read it came in and the records before it", async () => {
    const { trace, file, save } = traceIn();
    // One socket read: three records handled in one synchronous run, the chat in the third.
    trace.recordHandled();
    trace.recordHandled();
    trace.recordHandled();
    trace.chatDecoded("c 7");
    await Promise.resolve(); // the read ends (microtask checkpoint): the next record starts a new one
    trace.recordHandled();
    trace.chatDecoded("c 8");
    save();
    const reads = saved(file).filter(([stage]) => stage === "read");
    expect(reads.map(([, , extra, text]) => `${text}: ${extra}`)).toEqual(["c 7: 2.00", "c 8: 0.00"]);
    const decoded = saved(file).filter(([stage]) => stage === "decoded");
    expect(decoded.map(([, , , text]) => text)).toEqual(["c 7", "c 8"]);
  });

  test("keeps work only when it took a millisecond or more, with the thread's times meanwhile", () => {
    let reads = 0;
    // A thread that gains 1.5 ms on a CPU and 0.5 ms in the run queue between two readings.
    const { trace, file, save } = traceIn(() => ({ cpu: 1.5 * reads, queued: 0.5 * reads++ }));
    trace.took("quick", trace.begin());
    const slow = trace.begin();
    const until = performance.now() + 2;
    while (performance.now() < until) {
      // busy: the work being measured
    }
    trace.took("slow", slow);
    save();
    const kept = saved(file);
    expect(kept.map(([stage]) => stage)).toEqual(["slow"]);
    // wall ms / on-CPU ms / waiting-for-CPU ms
    const [wall, cpu, queued] = String(kept[0]?.[2]).split("/").map(Number);
    expect(wall).toBeGreaterThanOrEqual(2);
    expect([cpu, queued]).toEqual([1.5, 0.5]);
  });

  test("a peer's line cannot add lines of its own to the file or carry escape sequences", () => {
    const { trace, file, save } = traceIn();
    trace.chatDecoded("hi\nshown 1.000 0 forged\u001b[2J\\x0a");
    save();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["read", "decoded"]);
    expect(lines[1]?.endsWith(" hi\\x0ashown 1.000 0 forged\\x1b[2J\\x5cx0a")).toBe(true);
  });

  test("saves to a new file only its owner can read (the chat text is in it)", () => {
    const { trace, file, save } = traceIn();
    trace.stamp("in", "a private line");
    expect(save()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("never overwrites a file already at its name, nor writes through a link there", () => {
    const { trace, file, dir, warnings, save } = traceIn();
    trace.stamp("in", "c 1");
    writeFileSync(file, "precious\n");
    expect(save()).toBe(false);
    expect(readFileSync(file, "utf8")).toBe("precious\n");

    // A link planted at the guessable name (a shared folder, a known pid) to someone's file.
    rmSync(file);
    const victim = join(dir, "victim");
    writeFileSync(victim, "victim's own\n");
    symlinkSync(victim, file);
    expect(save()).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("victim's own\n");
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toBe(`parley: chat trace not written to ${file} (EEXIST)`);
  });

  test("a trace it cannot write at exit costs one line on stderr, not the exit code or a stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
    dirs.push(dir);
    const run = startedInChild(join(dir, "missing-folder", "t"));
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/^parley: chat trace not written to .*missing-folder\/t\.\d+ \(ENOENT\)\n$/);
  });

  test("a trace the CLI starts is written at exit to <prefix>.<pid>, owner-only", () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
    dirs.push(dir);
    const run = startedInChild(join(dir, "t"));
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe("");
    const file = join(dir, `t.${run.pid}`);
    expect(saved(file).map(([stage, , , text]) => `${stage} ${text}`)).toEqual(["in x"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("a light trace (PARLEY_CHAT_TRACE_LIGHT) keeps the stamps and slow work, without thread times or loop stalls", () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
    dirs.push(dir);
    const rows = (light: boolean) => {
      const run = startedInChild(join(dir, light ? "light" : "full"), light, 30);
      expect(run.exitCode).toBe(0);
      return saved(join(dir, `${light ? "light" : "full"}.${run.pid}`));
    };
    const full = rows(false);
    expect(full.some(([stage]) => stage === "stall")).toBe(true);
    expect(full.find(([stage]) => stage === "pump")?.[2]).toMatch(/^\d+\.\d\d\/[1-9]\d*\.\d\/\d+\.\d$/); // wall/cpu/queued
    const light = rows(true);
    expect(light.map(([stage, , , text]) => `${stage} ${text}`)).toEqual(["pump -", "in x"]);
    expect(light[0]?.[2]).toMatch(/^\d+\.\d\d\/0\.0\/0\.0$/); // the wall time, no thread times
  });
});

/**
 * A process that starts the CLI's trace into `prefix` (`light`: the stamps only), stamps one
 * line and exits; with `holdMs` it first holds its event loop that long, twice.
 */
function startedInChild(
  prefix: string,
  light = false,
  holdMs = 0,
): { exitCode: number | null; stderr: string; pid: number } {
  const module = join(import.meta.dir, "../../src/cli/chat-trace-file.ts");
  const run = Bun.spawnSync({
    cmd: [
      process.execPath,
      "-e",
      `import { startChatTraceFile } from ${JSON.stringify(module)};
       const trace = startChatTraceFile(process.argv[1], undefined, ${light});
       const hold = () => { const end = performance.now() + ${holdMs}; while (performance.now() < end) {} };
       if (${holdMs} > 0) {
         await Bun.sleep(10); hold(); await Bun.sleep(10); hold(); await Bun.sleep(10);
         const start = trace.begin(); hold(); trace.took("pump", start);
       }
       trace.stamp("in", "x");
       console.log(process.pid);`,
      prefix,
    ],
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: run.exitCode, stderr: run.stderr.toString(), pid: Number(run.stdout.toString().trim()) };
}
