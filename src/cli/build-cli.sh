#!/bin/sh
# Builds the CLI into build/parley (gitignored): `bun build --compile --bytecode` of
# src/cli/main.ts, one executable holding the project's Bun, Parley's modules and their
# JavaScriptCore bytecode, so a start parses and compiles none of them (docs/DESIGN-NOTES.md,
# "The built CLI"). npm runs it after `npm ci` and `npm install` (package.json's postinstall);
# run it again after an edit to use the build again (till then the source runs).
# src/cli/launch.sh runs the build only while nothing it was made from has changed since
# build/parley.since, the stamp taken before the build reads anything; a build that fails leaves
# no stamp, and the source runs. Never fails the install.
# usage: sh src/cli/build-cli.sh   (from any folder)
cd "$(dirname "$0")/../.." || exit 0
bun=node_modules/.bin/bun
if [ ! -x "$bun" ]; then
  echo "parley: no node_modules/.bin/bun, so no build: the source runs" >&2
  exit 0
fi
mkdir -p build || exit 0
# This run's own names: a second build at once (two `npm ci`, or one by hand) must neither remove
# this one's stamp nor move in its own stamp beside this one's executable (a stamp later than the
# start of this build's reads would let an edit made between them go unseen: the old build ran).
new="build/parley.new.$$"
stamp="build/parley.since.new.$$"
trap 'rm -f "$new" "$stamp"; exit 0' HUP INT TERM
# From here the old build is not run (launch.sh wants the stamp).
rm -f build/parley.since "$new" "$stamp"
touch "$stamp" || exit 0
# File times move by the kernel's clock tick: a change in the stamp's tick could carry the
# stamp's very time and not count as later. Waiting a second puts every change not yet read
# by the build after the stamp.
sleep 1
# --no-compile-autoload-bunfig: a bunfig.toml in the folder Parley runs in is not read (its
# preload would run; a peer's file received there keeps its name), as bin.cjs's source run.
if "$bun" build src/cli/main.ts --compile --bytecode --format=esm --splitting --no-compile-autoload-bunfig \
  --outfile "$new" >/dev/null; then
  set -- $(ls -i "$new")
  # The stamp becomes a second name of the executable, its time the build's start (touch -r):
  # launch.sh runs build/parley only while the stamp is the same file (a peer's folder named
  # build, received into the checkout, holds two files, whatever their times; no one sends a link).
  touch -r "$stamp" "$new" && rm -f "$stamp" && ln "$new" "$stamp" &&
    mv -f "$new" build/parley && mv -f "$stamp" build/parley.since &&
    # Another build's executable moved in after ours, our stamp after its own: its reads may have
    # begun before our stamp. Then no stamp (the source runs) until the next build.
    set -- "$1" $(ls -i build/parley) && [ "$1" = "$2" ] || rm -f build/parley.since
else
  echo "parley: the build failed (above), so no build: the source runs" >&2
fi
rm -f "$new" "$stamp"
exit 0
