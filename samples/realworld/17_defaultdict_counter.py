"""defaultdict grouping and Counter.most_common word frequencies."""
from collections import Counter, defaultdict

text = "the cat sat on the mat the cat ran and the dog sat"
words = text.split()
counts = Counter(words)
print(counts.most_common(3))
by_length = defaultdict(list)
for w in words:
    by_length[len(w)].append(w)
print({k: sorted(set(v)) for k, v in sorted(by_length.items())})
print((counts + Counter(cat=1))["cat"], counts["bird"], sum(counts.values()))
