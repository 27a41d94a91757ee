/**
 * Loading a C library through bun:ffi, for the few calls Bun's own APIs lack (libcrypto's
 * in-place AES-GCM, libsodium's SecretBox, libc's flock, xattrs and socket options). Below every
 * other layer: it knows nothing of Parley, only library names and symbol tables.
 *
 * A library is opened on first use, trying each name in turn (names differ between Linux
 * distributions and macOS), and the answer, a library or null, is kept for the process.
 */

import { dlopen, type FFIFunction } from "bun:ffi";

/** The callable symbols of a library opened with the table `S`. */
export type LibrarySymbols<S extends Record<string, FFIFunction>> = ReturnType<typeof dlopen<S>>["symbols"];

/**
 * A function that opens the first of `names` that loads with every symbol of `symbols` and
 * passes `usable` (a check that the library works, e.g. that it has the cipher wanted), on its
 * first call, and returns that library, or null when none does, on every call.
 */
export function lazyLibrary<S extends Record<string, FFIFunction>>(
  names: readonly string[],
  symbols: S,
  usable: (library: LibrarySymbols<S>) => boolean = () => true,
): () => LibrarySymbols<S> | null {
  let library: LibrarySymbols<S> | null | undefined;
  return () => {
    if (library !== undefined) return library;
    library = null;
    for (const name of names) {
      try {
        const opened = dlopen(name, symbols);
        if (usable(opened.symbols)) {
          library = opened.symbols;
          break;
        }
        opened.close();
      } catch {
        // Not under this name, or without one of the symbols (as macOS's libc lacks Linux's
        // xattr calls): try the next.
      }
    }
    return library;
  };
}
