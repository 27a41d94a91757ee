/**
 * ZipPart: where the zip of a folder from a plain wormhole peer is stored while it arrives: a
 * hidden `.part` file of the download directory, created exclusively, hashed with SHA-256 as
 * the bytes come (the wormhole ack carries that digest). It is never given a final name: once
 * whole it is extracted (zip-extract.ts) and removed.
 *
 * The free space it claims is the zip and its inflated bytes together: both sit on the disk
 * while the folder is extracted.
 */

import { closeSync, constants, writeSync } from "node:fs";
import { createDigest, type RunningDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import { numberedName, sanitizeFolderName } from "./file-names.ts";
import { HeldDir } from "./held-dir.ts";
import type { ReceivedFile } from "./source.ts";
import { SpaceClaim } from "./space-claims.ts";
import type { DirectoryOffer } from "./zip-plan.ts";

/** Prefix of a zip still arriving (hidden, and never a name a folder entry could collide with). */
export const ZIP_PART_PREFIX = ".parley-zip-";

/** Names likelyName looks at before it gives up on guessing (zip-folder.ts tries as many). */
const MAX_NAME_LOOKS = 1_000;

export class ZipPart {
  received = 0;
  /** The offered folder name, sanitised (what the folder will be called, unless taken). */
  readonly name: string;
  private fd: number | undefined;
  private removed = false;
  private readonly digest: RunningDigest = createDigest("sha256");

  readonly path: string;

  private constructor(
    /** The download folder, held until the zip is removed. */
    private readonly dir: HeldDir,
    private readonly fileName: string,
    fd: number,
    private readonly zipsize: number,
    private readonly space: SpaceClaim,
    dirname: string,
  ) {
    this.fd = fd;
    this.path = dir.pathOf(fileName);
    this.name = sanitizeFolderName(dirname);
  }

  /**
   * A new `.part` in `dir` for the zip `offer` announces.
   * @throws TransferError E_NO_SPACE (zip and folder do not fit), E_WRITE
   */
  static open(dir: string, offer: DirectoryOffer): ZipPart {
    const space = SpaceClaim.take(dir, offer.zipsize + offer.numbytes);
    let held: HeldDir | undefined;
    for (;;) {
      const name = `${ZIP_PART_PREFIX}${crypto.randomUUID().slice(0, 8)}.part`;
      try {
        held ??= HeldDir.open(dir);
        const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL;
        return new ZipPart(held, name, held.openFile(name, flags, 0o600), offer.zipsize, space, offer.dirname);
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") continue;
        space.release();
        held?.release();
        throw new TransferError("E_WRITE", `cannot create a file in ${dir}: ${osReason(err)}`, { cause: err });
      }
    }
  }

  /**
   * The name the folder would get were it unpacked now: `name`, or the first free `name (1)`, ...
   * in the download directory (giveFinalName's order). Said on the first line, so that the
   * folder has one name from it to the Saved line; only another program taking that name before
   * the unpacking makes the final one differ (the Saved line says it).
   */
  likelyName(): string {
    for (let n = 0; n < MAX_NAME_LOOKS; n++) {
      const name = numberedName(this.name, n);
      if (this.dir.stat(name) === undefined) return name;
    }
    return this.name;
  }

  /** @throws TransferError E_SIZE_MISMATCH past the offered zipsize, E_WRITE / E_NO_SPACE */
  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new TransferError("E_WRITE", "the zip is closed");
    if (this.received + bytes.length > this.zipsize) {
      throw new TransferError("E_SIZE_MISMATCH", `more than the ${this.zipsize} bytes of zip offered`);
    }
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (err) {
      const code = (err as { code?: string }).code === "ENOSPC" ? "E_NO_SPACE" : "E_WRITE";
      throw new TransferError(code, `cannot write ${this.path}: ${osReason(err)}`, { cause: err });
    }
    this.digest.update(bytes);
    this.received += bytes.length;
    this.space.wrote(bytes.length);
  }

  /**
   * Every byte is in. The file stays open: extract it through `openFd` (never reopened by
   * name, which someone else could have swapped meanwhile). @returns its path and SHA-256
   * @throws TransferError E_SIZE_MISMATCH
   */
  finish(): ReceivedFile {
    if (this.received !== this.zipsize) {
      throw new TransferError("E_SIZE_MISMATCH", `${this.received} of the ${this.zipsize} bytes of zip offered`);
    }
    return { path: this.path, bytes: this.received, algo: "sha256", digest: this.digest.hex() };
  }

  /** The open file (read and write), until `remove`. @throws TransferError E_WRITE once closed */
  get openFd(): number {
    if (this.fd === undefined) throw new TransferError("E_WRITE", "the zip is closed");
    return this.fd;
  }

  /** Ends unfinished: the `.part` goes (a plain peer cannot resume). */
  abort(): void {
    this.remove();
  }

  /** Removes the zip (extracted, or refused) and gives its space back. Safe to call twice. */
  remove(): void {
    if (this.removed) return;
    this.close();
    this.removed = true;
    try {
      this.dir.unlink(this.fileName);
    } catch {
      // Already gone.
    }
    this.dir.release();
    this.space.release();
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
