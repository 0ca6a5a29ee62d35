/**
 * "did you mean ...?" for a misspelt command, target or option: the closest known
 * names by edit distance (Damerau: a swap of two letters is one edit), within a third
 * of the word's length, or a known name the word is a prefix of.
 */

/** ` (did you mean "realize"?)`, or `''` when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const close = closest(word, known);
  if (close.length === 0) return '';
  return ` (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)`;
}

export function closest(word: string, known: Iterable<string>, max = 2): string[] {
  const limit = Math.max(1, Math.floor(word.length / 3));
  const scored: { name: string; d: number }[] = [];
  for (const name of new Set(known)) {
    const d = name.startsWith(word) && word.length >= 3 ? 0.5 : distance(word.toLowerCase(), name.toLowerCase());
    if (d <= limit) scored.push({ name, d });
  }
  return scored
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((s) => s.name);
}

/** Optimal string alignment distance. */
export function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[rows - 1]![cols - 1]!;
}
