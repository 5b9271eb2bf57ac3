// Shared by the corpus checks (check-corpus.ts, check-corpus-logs.ts): counting and comparing
// what a parser produced with what ../shared/corpus/expected.json says.

/** Occurrences of each value. */
export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Deep equality as JSON, ignoring the key order of a top-level object. */
export function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)))
      : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
