#!/usr/bin/env python3
"""Compares builds of kernel_report shape by shape: A B A B, one process per build per round,
each process with the shapes in its own random order; prints the median GFLOP/s over the
processes, with the range.

Within one process a shape's speed can depend on where the earlier shapes left the
allocations, so a fixed order can make one build look slow on a shape for a whole run; a
new random order per process spreads that luck over both builds.

    cp target/release/kernel_report target/kr_before   # build A, then rebuild B
    python3 tools/kernel_ab.py target/kr_before,target/release/kernel_report 7 \\
        ours-avx2,ours-avx512 128x784x400,128x400x20,20x200x200

With a fifth argument `paired`, it prints instead, for each shape and layout, the median
over the rounds of B's GFLOP/s over A's measured in the same round (and the rounds B won):
B and A are the two builds (one implementation), or with one build the two
implementations, both timed in the same process, one right after the other. On a machine
whose speed drifts from second to second, pairing cancels the drift that separate medians
keep. The builds take turns going first.

Optional (it is not part of the build or the tests); needs only Python 3.
"""
import json
import random
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) not in (5, 6) or sys.argv[5:] not in ([], ["paired"]):
        sys.exit("usage: kernel_ab.py BIN_A,BIN_B[,...] ROUNDS IMPL[,IMPL] MxKxN[,MxKxN...] [paired]")
    binaries, rounds = sys.argv[1].split(","), int(sys.argv[2])
    impls, shapes = sys.argv[3], sys.argv[4].split(",")
    rng = random.Random(1)
    gflops = {}
    for r in range(rounds):
        order = shapes[:]
        rng.shuffle(order)
        for binary in binaries if r % 2 == 0 else binaries[::-1]:
            args = [binary, "--json", "--rounds", "1", "--only", impls]
            for shape in order:
                args += ["--shape", shape]
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                row = json.loads(line)
                if "shape" in row:
                    key = (row["impl"], row["shape"], row["layout"])
                    gflops.setdefault(key, {}).setdefault(binary, []).append(row["gflops"])
    if sys.argv[5:] == ["paired"]:
        return print_paired(gflops, binaries, impls.split(","))
    for (impl, shape, layout), by_binary in sorted(gflops.items()):
        cells = [
            f"{b}: {statistics.median(v):.1f} [{min(v):.0f}-{max(v):.0f}]"
            for b, v in by_binary.items()
        ]
        print(f"{impl:>12} {shape:>14} {layout}  " + "  ".join(cells))


def print_paired(gflops, binaries, impls):
    """B over A round by round: two builds of one implementation, or two implementations."""
    if len(binaries) == 2 and len(impls) == 1:
        pairs = {
            (shape, layout): zip(v[binaries[0]], v[binaries[1]])
            for (_, shape, layout), v in gflops.items()
        }
    elif len(binaries) == 1 and len(impls) == 2:
        (binary,) = binaries
        pairs = {
            (shape, layout): zip(gflops[(impls[0], shape, layout)][binary], v[binary])
            for (impl, shape, layout), v in gflops.items()
            if impl == impls[1]
        }
    else:
        sys.exit("paired: two builds and one implementation, or one build and two")
    everything = []
    for (shape, layout), rounds in sorted(pairs.items()):
        rounds = list(rounds)
        ratios = [b / a for a, b in rounds]
        everything += ratios
        print(
            f"{shape:>14} {layout}  A {statistics.median(a for a, _ in rounds):6.1f}"
            f"  B {statistics.median(b for _, b in rounds):6.1f}"
            f"  B/A {statistics.median(ratios):.3f}, B won {sum(x > 1 for x in ratios)}/{len(ratios)}"
        )
    print(f"all: B/A {statistics.median(everything):.3f}, B won {sum(x > 1 for x in everything)}/{len(everything)}")


if __name__ == "__main__":
    main()
