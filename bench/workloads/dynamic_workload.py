"""Benchmark workload: dynamic Python (PoC 6 used M=1,000,000 iterations).

    python3.11 dynamic_workload.py [M]

Each iteration mixes what the isolate exists for: getattr/setattr with names held in
variables, dict reads and writes, bound method calls through a dispatch table, and a
small object created and dropped. The printed checksum is a function of M alone.
"""
import sys

FIELDS = ("alpha", "beta", "gamma", "delta")


class Cell:
    __slots__ = ("key", "weight")

    def __init__(self, key: int, weight: int) -> None:
        self.key = key
        self.weight = weight


class Machine:
    def __init__(self) -> None:
        for name in FIELDS:
            setattr(self, name, 0)
        self.table = {}
        self.ops = [self.bump, self.swap, self.store, self.fold]

    def bump(self, i: int) -> int:
        name = FIELDS[i & 3]
        setattr(self, name, getattr(self, name) + i)
        return getattr(self, name) & 0xFF

    def swap(self, i: int) -> int:
        self.alpha, self.beta = self.beta, self.alpha + (i & 7)
        return self.alpha & 0xFF

    def store(self, i: int) -> int:
        cell = Cell(i % 97, i & 15)
        self.table[cell.key] = self.table.get(cell.key, 0) + cell.weight
        return len(self.table)

    def fold(self, i: int) -> int:
        return sum(self.table.get(k, 0) for k in (i % 97, (i + 1) % 97)) & 0xFF


def run(m: int) -> int:
    machine = Machine()
    checksum = 0
    ops = machine.ops
    for i in range(m):
        checksum = (checksum * 31 + ops[i % 4](i)) % 1_000_000_007
    for name in FIELDS:
        checksum ^= getattr(machine, name) % 65_536
    return checksum


if __name__ == "__main__":
    m = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"dynamic_workload M={m} checksum={run(m)}")
