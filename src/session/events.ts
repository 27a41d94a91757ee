/** Events a Session emits; the UI renders them. Past-tense names, plain data. */

export type Direction = "send" | "receive";

export interface TransferInfo {
  readonly id: number;
  readonly direction: Direction;
  /** Sender: base name offered. Receiver: the name it is being stored under. */
  readonly name: string;
  readonly size: number;
}

export interface TransferDone extends TransferInfo {
  /** Verified byte count. */
  readonly bytes: number;
  /** Receiver: where the file was stored. Sender: the peer's name for it is unknown. */
  readonly path?: string;
  /** Algorithm that verified the file ("sha256"). */
  readonly algo: string;
  readonly digest: string;
}

export interface SessionEvents {
  chatReceived(text: string): void;
  transferStarted(info: TransferInfo): void;
  /** `bytes` so far; called per chunk: throttle in the UI. */
  transferProgressed(info: TransferInfo, bytes: number): void;
  transferFinished(done: TransferDone): void;
  transferFailed(info: TransferInfo, reason: string): void;
  /** The peer said BYE. */
  peerLeft(reason: string): void;
  /** The connection ended without BYE (peer vanished, protocol error, timeout). */
  connectionLost(reason: string): void;
  /** Our own exit or abort completed: the connection is closed. */
  closed(): void;
}
