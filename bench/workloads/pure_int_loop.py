"""Benchmark workload: a pure integer loop (PoC 6 used M=3,000,000).

    python3.11 pure_int_loop.py [M]

Only integer arithmetic, comparisons and a local accumulator: what is measured is the
bytecode interpreter's dispatch and small-int operations, not any library. The printed
checksum is a function of M alone, so two interpreters can also be checked for equal
results while they are timed.
"""
import sys


def run(m: int) -> int:
    total = 0
    for i in range(m):
        total = (total + i * i % 7 - (i & 3)) % 1_000_000_007
        if i % 5 == 0:
            total ^= i
    return total


if __name__ == "__main__":
    m = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    print(f"pure_int_loop M={m} checksum={run(m)}")
