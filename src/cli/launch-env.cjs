// The environment Parley's launchers start Bun with: src/cli/bin.cjs (the `parley` command),
// package.json's `chat` and `parley` scripts (which must say the same: test/e2e/launch-env.test.ts)
// and the bench's real-CLI cases. Through bin.cjs a variable already set by the caller wins.
//
// BUN_JSC_useFTLJIT=0: JavaScriptCore's top tier (FTL) off. A transfer's hot path is syscalls,
// AES-GCM and XXH3 in native code; FTL spent 75-95 ms of CPU a side per GiB compiling it (the
// scheduler's pump, which inlines the whole send path, most) and faulted in memory to do so, for
// no faster steady state. Real CLI, 1 GiB, 6 interleaved pairs at load 8-11: 398-592 against
// 224-522 MiB/s (faster in 6 of 6), JIT threads 0.07-0.13 against 0.11-0.20 s a side, page faults
// 600-1,450 fewer a side; a JavaScript loop (buffer-crc32) 177 against 200 ms per 64 MiB.
// (DFG off as well lost: that loop took 489 ms.) Read at Bun's start only: it cannot be set later.
"use strict";

module.exports = { BUN_JSC_useFTLJIT: "0" };
