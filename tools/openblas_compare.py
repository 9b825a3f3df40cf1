"""OpenBLAS (through numpy) on the shapes and layouts of `kernel_report`, for the
comparison column in BENCHMARKS.md. Optional: nothing in the project needs Python.

    pip install numpy threadpoolctl
    OPENBLAS_NUM_THREADS=2 python3 tools/openblas_compare.py

It prints which OpenBLAS kernels numpy loaded (threadpoolctl), then for every shape and
layout the median GFLOP/s of 7 timings of about 20 ms each, after 0.3 s of warm-up, with
the operands stored as `benches/support/operands.rs` stores them (`nt`: B stored [n,k]
and read transposed; `tn`: A stored [k,m] and read transposed).
"""

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info

SHAPES = [
    (128, 784, 400), (128, 400, 784), (784, 128, 400), (400, 128, 784),
    (128, 400, 20), (128, 20, 400), (20, 784, 200), (20, 200, 200),
    (200, 20, 784), (20, 200, 50), (1024, 1024, 1024),
]


def operands(m, k, n, layout):
    fill = lambda i, j: ((i * 31 + j * 17) % 23) / 23.0 - 0.5
    a_shape = (k, m) if layout == "tn" else (m, k)
    b_shape = (n, k) if layout == "nt" else (k, n)
    a = np.fromfunction(fill, a_shape, dtype=np.float64).astype(np.float32)
    b = np.fromfunction(fill, b_shape, dtype=np.float64).astype(np.float32)
    return (a.T if layout == "tn" else a), (b.T if layout == "nt" else b)


def main():
    for info in threadpool_info():
        if info.get("internal_api") == "openblas":
            print(f"OpenBLAS {info['version']}, {info['architecture']} kernels, "
                  f"{info['num_threads']} threads")
    print("| m×k×n | layout | OpenBLAS (numpy) GFLOP/s |\n|---|---|---|")
    for m, k, n in SHAPES:
        for layout in (["nn"] if m == k == n == 1024 else ["nn", "nt", "tn"]):
            a, b = operands(m, k, n, layout)
            c = np.empty((m, n), dtype=np.float32)
            flops = 2.0 * m * k * n
            reps = max(1, int(4e9 / flops))
            start = time.perf_counter()
            while time.perf_counter() - start < 0.3:
                np.matmul(a, b, out=c)
            timings = []
            for _ in range(7):
                start = time.perf_counter()
                for _ in range(reps):
                    np.matmul(a, b, out=c)
                timings.append(flops * reps / (time.perf_counter() - start) / 1e9)
            print(f"| {m}×{k}×{n} | {layout} | {statistics.median(timings):.0f} |")


if __name__ == "__main__":
    main()
