// "Did you mean …?" for names the operator typed: host patterns, --set vars, answers keys.

/**
 * Edit distance as typos happen: insert, delete, substitute or swap two neighbours, 1 each (optimal
 * string alignment); past `max` it stops early and answers max + 1.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/** How far a typo may be from the name it meant: 2 edits, more for long names. */
export const nearEnough = (typed: string, d: number): boolean => d <= Math.max(2, Math.floor(typed.length / 3));

/**
 * Known names that are plausibly what was typed, best first: names that start with it (or whose
 * first dot-separated label is it: `mx1` → `mx1.dc1.example.net`), then near misses by edit distance.
 * Empty when nothing is close: a far-fetched guess is worse than none.
 */
export function closeNames(typed: string, names: Iterable<string>, limit = 3): string[] {
  const t = typed.toLowerCase();
  const unique = [...new Set(names)];
  const prefixed = unique.filter((n) => t !== '' && n.toLowerCase().startsWith(t));
  // The shortest completion first: mx1 → mx1.dc1 before mx10.dc1.
  const label = (n: string) => n.toLowerCase().split('.')[0] === t;
  prefixed.sort((a, b) => Number(label(b)) - Number(label(a)) || a.length - b.length || a.localeCompare(b));
  const near = unique
    .filter((n) => !prefixed.includes(n))
    .map((n) => ({ n, d: editDistance(t, n.toLowerCase()) }))
    .filter((x) => nearEnough(t, x.d))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .map((x) => x.n);
  return [...prefixed, ...near].slice(0, limit);
}

/** `; did you mean "a" or "b"?` when something known is close, else ''. */
export function didYouMean(typed: string, names: Iterable<string>): string {
  const close = closeNames(typed, names, 2);
  return close.length ? `; did you mean ${close.map((n) => JSON.stringify(n)).join(' or ')}?` : '';
}
