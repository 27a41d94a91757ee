#!/bin/sh
# How package.json's `chat` and `parley` scripts start Parley: the built CLI (build/parley, made
# by src/cli/build-cli.sh at `npm ci`) while nothing it was built from has changed since its
# build began, else the source (`bun src/cli/main.ts`): an edited source is always what runs.
# "Changed": an inode change time later than the build's stamp (build/parley.since) on a file or
# folder under src/, on package.json, the lockfiles (package-lock.json, bun.lock, npm's
# node_modules/.package-lock.json), Bun's package, tsconfig.json or bunfig.toml (one that does
# not exist is passed over; one that appears is new). A write, a file added, removed or renamed,
# a file restored with its old modification time (cp -p, tar) all set it to the moment it
# happened, and nothing sets it back. So do a chmod, a hard link made or removed, a checkout that
# rewrote the same bytes: the source runs until the next build (slower, never older). A hand
# edit deep in node_modules is not seen. The check is a find over ~250 names (docs/DESIGN-NOTES.md,
# "The built CLI"), the stamp last: only a find that reached it having printed nothing before
# says "unchanged" (one that cannot tell, as BusyBox's without -cnewer, prints nothing: the source).
# And build/parley must be the stamp's own file (build-cli.sh makes the stamp a hard link of it,
# -samefile): a build/ that came another way (a peer's folder named build, received into the
# checkout, a stamp's time being the sender's to choose) is not run.
# PARLEY_LAUNCH_WHICH=1: print the command it would run, a word a line, and run nothing.
here=${0%src/cli/launch.sh}
[ "$here" = "$0" ] && here=$(dirname "$0")/../../
if [ -x "${here}build/parley" ] && [ -f "${here}build/parley.since" ] && [ -f "${here}src/cli/main.ts" ] &&
  [ "$(if cd "${here:-.}"; then
    find src package.json package-lock.json bun.lock tsconfig.json bunfig.toml node_modules/.package-lock.json \
      node_modules/bun/package.json build/parley build/parley.since \( -path build/parley ! -samefile \
      build/parley.since -o ! -path build/parley \( -cnewer build/parley.since -o -path build/parley.since \) \) \
      -print -quit 2>/dev/null
  fi)" = build/parley.since ]; then
  set -- "${here}build/parley" "$@"
else
  set -- bun "${here}src/cli/main.ts" "$@"
fi
if [ -n "$PARLEY_LAUNCH_WHICH" ]; then
  printf '%s\n' "$@"
  exit 0
fi
exec "$@"
