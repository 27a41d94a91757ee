import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatTrace, chatTrace } from "../../src/session/chat-trace.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function traceIn(): { trace: ChatTrace; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "chat-trace-"));
  dirs.push(dir);
  return { trace: new ChatTrace(join(dir, "t")), file: join(dir, `t.${process.pid}`) };
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
});
