/**
 * The folder the user's shell is in. Run as a package script (`npx bun run chat`,
 * `bun run chat`), Parley starts in the checkout, not where the user typed the command, and a
 * relative path (`transfer package.json`, `--dir out`) would name the checkout's file. The
 * script runners say where the shell was: bun in npm_config_local_prefix (it leaves INIT_CWD
 * as it found it, so that may be stale), npm and npx in INIT_CWD. The installed `parley` bin
 * starts in the shell's folder already.
 */

/** What package.json's `chat` and `parley` scripts run (it runs the built CLI or main.ts). */
const OUR_SCRIPT = "src/cli/launch.sh";

/**
 * @returns the shell's folder when Parley runs as a package script and the runner said where
 *   the shell was (an absolute path; whether it is a directory is for chdir to find out);
 *   undefined otherwise (the process's own folder is the shell's then)
 */
export function shellFolder(env: NodeJS.ProcessEnv): string | undefined {
  // Only when a script of ours started this process itself (not, say, a test runner's child).
  if (!env.npm_lifecycle_script?.includes(OUR_SCRIPT)) return undefined;
  const byBun = env.npm_config_user_agent?.startsWith("bun/") ?? false;
  const candidate = byBun ? env.npm_config_local_prefix : env.INIT_CWD;
  // Absolute: it begins with "/" (node:path's isAbsolute on POSIX, without loading node:path).
  return candidate?.startsWith("/") ? candidate : undefined;
}

/** Moves the process into the shell's folder when it is known (see shellFolder). */
export function enterShellFolder(): void {
  const folder = shellFolder(process.env);
  if (folder === undefined) return;
  try {
    process.chdir(folder);
  } catch {
    // Not a directory (gone, a file) or not enterable: paths stay relative to where the
    // process started. (chdir checks it: no stat, and no node:fs at start-up.)
  }
}

/** The start-up line saying what relative paths are relative to. */
export function relativePathsLine(cwd: string): string {
  return `Relative paths (transfer, --dir) are resolved from ${cwd}.`;
}
