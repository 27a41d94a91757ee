/**
 * Big-endian unsigned 32-bit integers in byte arrays: the length prefixes of Parley records and
 * transit records. (protocol/ keeps its own copy for frames: the layers keep crypto off protocol.)
 */

export function readU32(bytes: Uint8Array, at = 0): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
