/**
 * The line and the `--json` event that show a listener's code, for send's and receive's starting
 * reporter (written before the real reporters load) and the human and JSON reporters alike.
 */

/** The human line that shows the code: "Listening on 127.0.0.1:40123 · code 40123-ribbon-walnut". */
export function listeningLine(host: string, port: number, reachableAt: readonly string[], code: string): string {
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const extra = reachableAt.length > 0 ? ` (a peer can use: ${reachableAt.join(", ")})` : "";
  return `Listening on ${where}${extra} · code ${code}`;
}

/** The `--json` event that shows the code. */
export function listeningEvent(host: string, port: number, reachableAt: readonly string[], code: string) {
  return { type: "listening", host, port, code, reachableAt };
}
