// Minimal PHP unserialize() for the FAKE WHMCS: N; b:; i:; d:; s:<bytes>:"…"; a:n:{…}.
// Works on bytes (s: lengths are UTF-8 byte counts) and is strict: any deviation throws.
// Arrays whose keys are exactly 0..n-1 become JS arrays, others plain objects.

export function phpUnserialize(input: string | Buffer): unknown {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let pos = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`phpUnserialize: ${what} at byte ${pos}`);
  };
  const expect = (s: string): void => {
    if (buf.toString('latin1', pos, pos + s.length) !== s) fail(`expected ${JSON.stringify(s)}`);
    pos += s.length;
  };
  const until = (ch: string): string => {
    const end = buf.indexOf(ch, pos, 'latin1');
    if (end < 0) fail(`missing ${JSON.stringify(ch)}`);
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };

  const value = (): unknown => {
    const t = buf.toString('latin1', pos, pos + 1);
    pos += 1;
    switch (t) {
      case 'N':
        expect(';');
        return null;
      case 'b': {
        expect(':');
        const v = until(';');
        if (v !== '0' && v !== '1') fail('bad boolean');
        return v === '1';
      }
      case 'i': {
        expect(':');
        const v = until(';');
        if (!/^[+-]?\d+$/.test(v)) fail('bad integer');
        return Number(v);
      }
      case 'd': {
        expect(':');
        const v = until(';');
        if (v === 'NAN') return NaN;
        if (v === 'INF') return Infinity;
        if (v === '-INF') return -Infinity;
        if (!/^-?\d+(\.\d+)?(E[+-]\d+)?$/.test(v)) fail(`bad float ${v}`);
        return Number(v);
      }
      case 's': {
        expect(':');
        const len = Number(until(':'));
        if (!Number.isInteger(len) || len < 0) fail('bad string length');
        expect('"');
        if (pos + len > buf.length) fail('string runs past the end');
        const s = buf.toString('utf8', pos, pos + len);
        pos += len;
        expect('";');
        return s;
      }
      case 'a': {
        expect(':');
        const n = Number(until(':'));
        if (!Number.isInteger(n) || n < 0) fail('bad array count');
        expect('{');
        const entries: [string | number, unknown][] = [];
        for (let i = 0; i < n; i++) {
          const k = value();
          if (typeof k !== 'string' && typeof k !== 'number') fail('bad array key');
          entries.push([k as string | number, value()]);
        }
        expect('}');
        if (entries.every(([k], i) => k === i)) return entries.map(([, v]) => v);
        return Object.fromEntries(entries);
      }
      default:
        return fail(`unsupported type ${JSON.stringify(t)}`);
    }
  };

  const out = value();
  if (pos !== buf.length) fail('trailing bytes');
  return out;
}
