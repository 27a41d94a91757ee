/**
 * The names of the file digests (checksum.ts has the digests themselves): what `--checksum`
 * accepts and the default. A module of its own so that parsing flags, on the chat's start-up
 * path, does not load the digest code and the transfer errors.
 */

export type ChecksumAlgo = "xxh3" | "sha256";

export const CHECKSUM_ALGOS: readonly ChecksumAlgo[] = ["xxh3", "sha256"];
export const DEFAULT_CHECKSUM: ChecksumAlgo = "xxh3";

export function isChecksumAlgo(name: string): name is ChecksumAlgo {
  return (CHECKSUM_ALGOS as readonly string[]).includes(name);
}
