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
// (DFG off as well lost: that loop took 489 ms.)
//
// BUN_JSC_numberOfGCMarkers=1: the garbage collector marks on the thread it stops, with no
// helper. A transfer runs a young-generation collection every few MB (node:crypto's outputs and
// the socket's reads, each counted though released at once), 100-250 a GiB a side, and with two
// markers each one woke a helper thread (futex calls per 1 GiB sealed 798 against 159) that on
// two busy cores had to wait for a CPU while the process stood still. Real CLI, 1 GiB, 3
// interleaved pairs each way at load 5-8: pause sums per side one way 172-203/281-322 against
// 105-144/146-208 ms, the longest pause 10.7-21.5/13.8-22.8 against 5.7-7.3/6.3-9.4 ms, both ways
// 412-660/382-490 against 273-374/277-342 ms; CPU per side and MiB/s the same or better.
//
// BUN_JSC_largeHeapSize=32 MiB: the heap size below which JavaScriptCore does not grow its
// young-generation budget. Every record's 256 KiB output from node:crypto (and, receiving, every
// socket read) counts toward that budget though released at once, so with Bun's default a bench
// sender ran 111-117 young collections a GiB and a receiver 160-171 (BUN_JSC_logGC, 0.5-0.6 ms
// each): that is the sender's "Bun runtime, neither AES nor XXH3" time in perf (under
// cipher.update, which allocates). With 32 MiB: 63-65 and 89-99 (64 MiB gave no fewer; 16 MiB
// 82/146). Garbage a collection leaves is bounded by it: peak RSS of a 1 GiB transfer unchanged
// (61-64 MB a side), of 256 MiB piped in without a line break 99-101 -> 107-121 MB at load 5-8
// (108-152 MiB against 95-110 at load 2: the test's bound is 200), of the soak's garbage/oversize
// attacks 70-87 -> 102-110 MB (64 MiB: 141-157 MB piped: not taken).
//
// BUN_JSC_maxNumberOfWorklistThreads=1: one JIT compiler thread instead of two. A transfer's first
// 300 ms compile about 175 functions with the Baseline JIT and 125 with the DFG in each process
// (55-80 ms of compiler CPU a side, BUN_JSC_reportDFGCompileTimes): every function of the record
// path reaches the DFG within the first ~70 records. With two compiler threads a process could
// put three runnable threads on two cores the two main threads already fill, and the chat lines
// of those moments waited for a CPU (perf sched: behind the JIT workers as long as behind the
// other CLI). Real CLI, 1 GiB, 16 ABBA pairs one way against two threads at load 1.2-5.6 (session
// 12, DESIGN-NOTES "The one-way chat's tail through the CLI"): chat p99 6.59 -> 5.44 ms and max
// 7.10 -> 5.44 (better in 11), the worst of a run's first 10 lines 6.58 -> 4.42 (13), lines over
// 5 ms 70 -> 27; MiB/s 536 -> 673.5, CPU a side 1.11/1.37 -> 1.09/1.31 s. Both ways, 4 pairs: p99
// 10.17 -> 4.77 ms, 218 -> 241.5 MiB/s, CPU a side 2.92/2.99 -> 2.80/2.80 s. (Session 8's 4 pairs
// at load 4.5-9 had shown nothing either way; the lead's 14 pairs of main with and without it at load
// 2.2-2.9 neither: p99 4.24 -> 4.10, better in 7, lines over 5 ms 12 -> 18. Kept: it never cost
// throughput or CPU, and keeps a third runnable thread off two busy cores at a start.)
//
// All are read at Bun's start only: they cannot be set later.
"use strict";

module.exports = {
  BUN_JSC_useFTLJIT: "0",
  BUN_JSC_numberOfGCMarkers: "1",
  BUN_JSC_largeHeapSize: String(32 * 1024 * 1024),
  BUN_JSC_maxNumberOfWorklistThreads: "1",
};
