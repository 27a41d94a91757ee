/**
 * `bun bench/chat-trace.ts PREFIX [WORST] [MATCH]`: where the chat lines of a traced run waited. Run
 * the CLI (or `bun run bench`, whose CLI cases pass the environment on) with
 * PARLEY_CHAT_TRACE=PREFIX; each process writes PREFIX.<pid> at exit; this reads them all and
 * prints the distribution of line-handler-to-screen times and the WORST (10) lines split by
 * stage, with the stalls and slow work of both processes meanwhile (bench/lib/chat-trace-report.ts).
 * MATCH: only lines whose text matches this regular expression (the bench's CLI cases send
 * "c N" one way and "d N" back: '^[cd] \d+$').
 */

import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { analyseChatTrace, formatChatTrace } from "./lib/chat-trace-report.ts";

const [prefix, worstText, match] = process.argv.slice(2);
if (!prefix) {
  process.stderr.write("usage: bun bench/chat-trace.ts PREFIX [WORST] [MATCH]\n");
  process.exit(2);
}
const dir = dirname(prefix);
const stem = `${basename(prefix)}.`;
const files = new Map<string, string>();
for (const name of readdirSync(dir)) {
  if (name.startsWith(stem) && /^\d+$/.test(name.slice(stem.length))) {
    files.set(`pid ${name.slice(stem.length)}`, readFileSync(join(dir, name), "utf8"));
  }
}
if (files.size === 0) {
  process.stderr.write(`no trace files ${prefix}.<pid>\n`);
  process.exit(1);
}
const only = match ? new RegExp(match) : undefined;
process.stdout.write(`${formatChatTrace(analyseChatTrace(files), Number(worstText ?? 10), only)}\n`);
