#!/usr/bin/env python3
"""Compares builds of kernel_report shape by shape: A B A B, one process per build per round,
each process with the shapes in its own random order; prints the median GFLOP/s over the
processes, with the range.

Within one process a shape's speed can depend on where the earlier shapes left the
allocations, so a fixed order can make one build look slow on a shape for a whole run; a
new random order per process spreads that luck over both builds.

    cp target/release/examples/kernel_report target/kr_before   # build A, then rebuild B
    python3 benches/kernel_ab.py target/kr_before,target/release/examples/kernel_report 7 \\
        ours-avx2,ours-avx512 128x784x400,128x400x20,20x200x200

Optional (it is not part of the build or the tests); needs only Python 3.
"""
import json
import random
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: kernel_ab.py BIN_A,BIN_B[,...] ROUNDS IMPL[,IMPL] MxKxN[,MxKxN...]")
    binaries, rounds = sys.argv[1].split(","), int(sys.argv[2])
    impls, shapes = sys.argv[3], sys.argv[4].split(",")
    rng = random.Random(1)
    gflops = {}
    for _ in range(rounds):
        order = shapes[:]
        rng.shuffle(order)
        for binary in binaries:
            args = [binary, "--json", "--rounds", "1", "--only", impls]
            for shape in order:
                args += ["--shape", shape]
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                row = json.loads(line)
                if "shape" in row:
                    key = (row["impl"], row["shape"], row["layout"])
                    gflops.setdefault(key, {}).setdefault(binary, []).append(row["gflops"])
    for (impl, shape, layout), by_binary in sorted(gflops.items()):
        cells = [
            f"{b}: {statistics.median(v):.1f} [{min(v):.0f}-{max(v):.0f}]"
            for b, v in by_binary.items()
        ]
        print(f"{impl:>12} {shape:>14} {layout}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
