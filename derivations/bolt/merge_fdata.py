"""Sums BOLT profiles (.fdata, one per process of an instrumented binary) into one,
as llvm's merge-fdata does (Debian's bolt-19 does not ship it).

    python3 merge_fdata.py A.fdata B.fdata ... > merged.fdata

Grammar of the lines summed (instrumentation mode, no LBR):
    line = branch | other
    branch = from-is-sym " " from-name " " from-offset " " to-is-sym " " to-name " " to-offset " " mispreds " " count
The first six fields are the key; mispreds and counts are added. Any other line (a
header such as `no_lbr` or a memory-event line) must be the same in every file and is
kept once, first. Output order is sorted, so the merged profile is deterministic.
"""
import sys

headers = []
counts = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 8 and fields[6].isdigit() and fields[7].isdigit():
                key = " ".join(fields[:6])
                m, c = counts.get(key, (0, 0))
                counts[key] = (m + int(fields[6]), c + int(fields[7]))
            elif line.strip() and line not in headers:
                headers.append(line)
if not counts:
    sys.exit(f"merge_fdata.py: no branch counts in {' '.join(sys.argv[1:]) or 'no files'}; did the instrumented binary run?")
sys.stdout.writelines(headers)
for key in sorted(counts):
    m, c = counts[key]
    sys.stdout.write(f"{key} {m} {c}\n")
