/** The mailbox flow's line for the path a session runs on, said by the chat and the one-shot commands alike. */

import type { MetPath } from "../session/index.ts";

/** "Connected directly to HOST:PORT" / "Connected through the relay HOST:PORT". */
export function pathLine(via: MetPath): string {
  return via.path === "direct" ? `Connected directly to ${via.address}` : `Connected through the relay ${via.address}`;
}
