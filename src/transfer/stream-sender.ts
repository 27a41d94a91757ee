/**
 * StreamSender: sends a byte stream of unknown length (`parley send -` reads stdin). Chunks
 * arrive whenever the producer writes them; one is read ahead, copied into a reused buffer
 * behind a reserved DATA header slot (the same layout as FileSender), and handed out when the
 * scheduler asks. The END trailer carries the total and digest, as for a file.
 */

import { writeDataHeader } from "../protocol/frame-encoder.ts";
import { DATA_HEADER_BYTES } from "../protocol/frame-types.ts";
import { type ChecksumAlgo, createDigest, type RunningDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import type { FrameSource, SendTrailer } from "./source.ts";

const PAYLOAD_OFFSET = 64;

type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };

export class StreamSender implements FrameSource {
  sent = 0;
  readonly size = null;
  readonly meta = {};
  onReadable: () => void = () => {};

  private readonly reader: Reader;
  private readonly buffer: Uint8Array;
  private readonly digest: RunningDigest;
  /** Bytes read from the stream and not yet handed out. */
  private pending: Uint8Array | undefined;
  private reading = false;
  private eof = false;
  private failure: TransferError | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    stream: ReadableStream<Uint8Array>,
    readonly algo: ChecksumAlgo,
    private readonly chunkBytes: number,
  ) {
    this.reader = stream.getReader() as unknown as Reader;
    this.buffer = new Uint8Array(PAYLOAD_OFFSET + chunkBytes);
    this.digest = createDigest(algo);
    this.readAhead();
  }

  nextFrame(maxPayloadBytes = this.chunkBytes): Uint8Array | null | undefined {
    if (this.failure) throw this.failure;
    const chunk = this.pending;
    if (chunk === undefined) {
      if (this.eof) return undefined;
      this.readAhead();
      return null;
    }
    const n = Math.min(chunk.length, this.chunkBytes, maxPayloadBytes);
    this.buffer.set(chunk.subarray(0, n), PAYLOAD_OFFSET);
    this.pending = n < chunk.length ? chunk.subarray(n) : undefined;
    if (this.pending === undefined) this.readAhead();
    const payload = this.buffer.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + n);
    this.digest.update(payload);
    this.sent += n;
    writeDataHeader(this.buffer, PAYLOAD_OFFSET - DATA_HEADER_BYTES, this.id, n);
    return this.buffer.subarray(PAYLOAD_OFFSET - DATA_HEADER_BYTES, PAYLOAD_OFFSET + n);
  }

  resumeFrom(): Promise<boolean> {
    return Promise.resolve(false);
  }

  trailer(): SendTrailer {
    return { bytes: this.sent, algo: this.algo, digest: this.digest.hex() };
  }

  stop(): void {
    this.eof = true;
    this.pending = undefined;
    this.reader.cancel().catch(() => {});
  }

  private readAhead(): void {
    if (this.reading || this.eof || this.pending !== undefined) return;
    this.reading = true;
    this.reader.read().then(
      ({ done, value }) => {
        this.reading = false;
        if (done || value === undefined) this.eof = true;
        else if (value.length > 0) this.pending = value;
        else return this.readAhead();
        this.onReadable();
      },
      (err: unknown) => {
        this.reading = false;
        this.failure = new TransferError("E_READ", `reading the input failed: ${osReason(err)}`, { cause: err });
        this.onReadable();
      },
    );
  }
}

/** The "file" of an empty directory entry: no bytes, an END right away. */
export class EmptySource implements FrameSource {
  readonly sent = 0;
  readonly size = 0;
  readonly meta = {};
  onReadable: () => void = () => {};

  constructor(
    readonly id: number,
    readonly name: string,
    readonly algo: ChecksumAlgo,
  ) {}

  nextFrame(): undefined {
    return undefined;
  }

  resumeFrom(): Promise<boolean> {
    return Promise.resolve(false);
  }

  trailer(): SendTrailer {
    return { bytes: 0, algo: this.algo, digest: createDigest(this.algo).hex() };
  }

  stop(): void {}
}

/**
 * A folder entry that cannot be sent (unreadable, gone since the folder was listed): offered
 * like any entry, it fails at its first read, so the session cancels it with the reason's code
 * and the receiver learns which entry will not come and why, instead of waiting for it.
 */
export class UnsendableEntry extends EmptySource {
  constructor(
    id: number,
    name: string,
    algo: ChecksumAlgo,
    private readonly why: TransferError,
  ) {
    super(id, name, algo);
  }

  override nextFrame(): never {
    throw this.why;
  }

  override resumeFrom(): Promise<boolean> {
    return Promise.reject(this.why);
  }

  override trailer(): SendTrailer {
    throw this.why;
  }
}
