/**
 * npm's launchers pass no signal on: `npx bun run chat` (also `npm run chat`, and the `parley`
 * script) killed by a script (`kill -TERM $!`, which names npm's pid) ends npm and the shell it
 * started, and Bun went on with no parent to end it: `bun run` and the chat, still listening or
 * talking to a peer nobody reads for (measured: both left, reparented to init). A terminal that
 * closes needs none of this (SIGHUP reaches the whole foreground group), nor does `bun run chat`
 * from a shell (Bun passes SIGTERM on). `npx parley` was left to bin.cjs, which watches its own
 * parent: the `sh -c` npm runs a bin through, which npm's SIGTERM ends. Killed otherwise (`kill
 * -HUP` or `kill -KILL` of npx's pid, as a supervisor does), npm left that shell, bin.cjs and Bun
 * running, listening or sending, while the script's `wait` said 129 or 137 (newuser31).
 *
 * So under a package script (npm_lifecycle_event `chat` or `parley`) or `npx parley` (npm's `exec`
 * running the `parley` bin: npm_lifecycle_event `npx`, npm_lifecycle_script `'parley'`) started by
 * npm (which sets npm_command for what it runs), the chain of launchers from this process up to
 * npm is noted at start: each process and its parent, going up while the parent was itself
 * started by npm (has npm_command in its environment); npm's own process is the first without
 * it. Every LAUNCHER_CHECK_MS the chain is read again; once a link is broken (a process gone, a
 * zombie, or given a new parent), `gone` is called once: main.ts sends this process SIGTERM, so
 * the run ends as a SIGTERM ends it (the peer told, exit 143). Linux only (/proc); elsewhere
 * nothing.
 */

/** How often the chain is looked at, ms: a script's kill is followed within about this. */
export const LAUNCHER_CHECK_MS = 250;
/** Launchers looked through, at most (npx, its shell, `bun run` or bin.cjs: 3). */
const MAX_DEPTH = 6;

/** One process of the chain and the parent it had at start. */
export interface LauncherLink {
  readonly pid: number;
  readonly parent: number;
}

/** True when this process was started by one of npm's launchers running Parley's own scripts or bin. */
export function launchedByNpm(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.npm_command === undefined) return false;
  const event = env.npm_lifecycle_event;
  // npm quotes the bin's name as for a shell (`sh -c 'parley' ARGS`): npm_lifecycle_script `'parley'`.
  return event === "chat" || event === "parley" || (event === "npx" && env.npm_lifecycle_script === "'parley'");
}

/**
 * The parent of `pid` from /proc/PID/stat, or undefined when the process is gone or a zombie.
 * (`comm` may hold spaces and brackets: the fields are read after its last ")".)
 */
export async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await Bun.file(`/proc/${pid}/stat`).text();
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return state === "Z" || state === "X" ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

/** Whether `pid` was started by npm (npm_command in its environment); false when it cannot be read. */
async function startedByNpm(pid: number): Promise<boolean> {
  try {
    return (await Bun.file(`/proc/${pid}/environ`).text()).split("\0").some((v) => v.startsWith("npm_command="));
  } catch {
    return false;
  }
}

/** Whether init (pid 1) is npm itself (`npx parley` as a container's command): its title starts "npm ". */
async function initIsNpm(): Promise<boolean> {
  try {
    return /^npm[ \0]/.test(await Bun.file("/proc/1/cmdline").text());
  } catch {
    return false;
  }
}

/**
 * The chain from `pid` up to npm's process (see the header); "gone" when a process of it (each
 * one npm started) already has init for its parent: npm was killed before the chain was noted
 * (the run's first moments, while Bun starts: newuser31's `kill` 3 s after a loaded machine's
 * npx met that), unless init is npm itself.
 */
export async function launcherChain(pid = process.pid): Promise<LauncherLink[] | "gone"> {
  const links: LauncherLink[] = [];
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = await parentOf(pid);
    if (parent === 1 && !(await initIsNpm())) return "gone";
    if (parent === undefined || parent <= 1) break;
    links.push({ pid, parent });
    if (!(await startedByNpm(parent))) break;
    pid = parent;
  }
  return links;
}

/** The first link of `chain` that no longer holds, or undefined. */
export async function brokenLink(chain: readonly LauncherLink[]): Promise<LauncherLink | undefined> {
  for (const link of chain) if ((await parentOf(link.pid)) !== link.parent) return link;
  return undefined;
}

/** Watches the launchers (see the header); `gone` is called once. Unref'd: it keeps no run alive. */
export async function watchLauncher(gone: () => void): Promise<void> {
  const chain = await launcherChain();
  if (chain === "gone") return gone();
  if (chain.length === 0) return;
  let said = false;
  const timer = setInterval(() => {
    void brokenLink(chain).then((broken) => {
      if (!broken || said) return;
      said = true;
      clearInterval(timer);
      gone();
    });
  }, LAUNCHER_CHECK_MS);
  timer.unref();
}
