// The indexed known_hosts lookup against the linear one it replaced (the oracle), over seeded random files.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linearEntryMatchesHost, linearKnownKeyTypes, linearVerifyHostKey } from '../../src/bench/known-hosts-linear.js';
import { hostLookupName, KnownHostsIndex, knownKeyTypes, parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof rng>;

function blob(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
}
const KEYS = [
  blob('ssh-ed25519', Buffer.alloc(32, 1)),
  blob('ssh-ed25519', Buffer.alloc(32, 2)),
  blob('ssh-rsa', Buffer.alloc(64, 3)),
  blob('ssh-rsa', Buffer.alloc(64, 4)),
  blob('ecdsa-sha2-nistp256', Buffer.alloc(65, 5)),
];
const keyType = (k: Buffer) => k.subarray(4, 4 + k.readUInt32BE(0)).toString('latin1');

// Hosts whose case folding is tricky too: non-ASCII letters, the Kelvin sign K (lowercases to ASCII k
// but a non-unicode /i RegExp does not fold it), the long s ſ (uppercases to ASCII S).
const HOSTS = [
  'mx1.example.com',
  'mx2.example.com',
  '192.0.2.10',
  '10.0.0.5',
  'a.dc2.example',
  'bad.example',
  'mxk.example',
  'mx\u212a.example',
  'ünï.example',
  'ſmtp.example',
  'Mixed.Case.NET',
];
const PORTS = [22, 22, 2222, 2200];
const SHARED_SALTS = [Buffer.alloc(20, 7), Buffer.alloc(20, 8), Buffer.alloc(20, 9)];

function randomCase(r: Rng, s: string): string {
  return [...s].map((c) => (r.next() < 0.3 ? (r.next() < 0.5 ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
}
function lookupName(r: Rng): string {
  return randomCase(r, hostLookupName(r.pick(HOSTS), r.pick(PORTS)));
}
function hashed(r: Rng, name: string): string {
  const salt = r.next() < 0.5 ? r.pick(SHARED_SALTS) : r.bytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}
function globOf(r: Rng, name: string): string {
  const cs = [...name];
  const roll = r.next();
  if (roll < 0.2) return '*' + cs.slice(cs.indexOf('.') + 1 || 0).join('');
  if (roll < 0.3) return '*';
  for (let i = 0, n = 1 + r.int(2); i < n; i++) cs[r.int(cs.length)] = r.pick(['?', '*']);
  return cs.join('');
}
function pattern(r: Rng): string {
  const roll = r.next();
  let p: string;
  if (roll < 0.4) p = lookupName(r);
  else if (roll < 0.6) p = hashed(r, r.next() < 0.8 ? hostLookupName(r.pick(HOSTS), r.pick(PORTS)) : lookupName(r));
  else if (roll < 0.85) p = globOf(r, lookupName(r));
  else
    p = r.pick(['', '!', '|1|', '|1|abc', '|1||xyz', `|1|${SHARED_SALTS[0]!.toString('base64')}|bm90IGl0`, '[*]:2222', 'mx?.example.com']);
  return r.next() < 0.2 ? '!' + p : p;
}
function knownHostsText(r: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const roll = r.next();
    if (roll < 0.05) out.push('# a comment');
    else if (roll < 0.08) out.push('');
    else if (roll < 0.1)
      out.push(`${lookupName(r)} ssh-ed25519`); // malformed: skipped
    else {
      const field = Array.from({ length: 1 + r.int(3) }, () => pattern(r)).join(',');
      const marker = r.next() < 0.15 ? '@revoked ' : r.next() < 0.1 ? '@cert-authority ' : '';
      const k = r.pick(KEYS);
      out.push(`${marker}${field} ${keyType(k)} ${k.toString('base64')}`);
    }
  }
  return out.join(r.next() < 0.5 ? '\n' : '\n  ');
}

describe('KnownHostsIndex against the linear lookup (seeded random known_hosts)', () => {
  it('gives the same entries, verdicts and key types for 400 files × 8 lookups', () => {
    const r = rng(0x5eed11);
    const kinds: Record<string, number> = {};
    let negatedOut = 0;
    let hashedHits = 0;
    for (let file = 0; file < 400; file++) {
      const text = knownHostsText(r, 1 + r.int(file < 300 ? 12 : 60));
      const entries = parseKnownHosts(text);
      const index = new KnownHostsIndex(entries);
      // The same lines indexed in two steps: what accept-new's appends do.
      const half = r.int(entries.length + 1);
      const grown = new KnownHostsIndex(entries.slice(0, half));
      for (const e of entries.slice(half)) grown.add(e);
      for (let q = 0; q < 8; q++) {
        const names = Array.from({ length: 1 + r.int(2) }, () => lookupName(r));
        const key = r.pick(KEYS);
        const ctx = JSON.stringify({ file, text, names, key: keyType(key) });
        const expected = entries.filter((e) => names.some((n) => linearEntryMatchesHost(e, n)));
        expect(index.match(names), ctx).toEqual(expected);
        expect(grown.match(names), ctx).toEqual(expected);
        expect([...grown.match(names).filter((e) => entries.indexOf(e) < half), ...grown.matchSince(names, half)], ctx).toEqual(expected);
        const v = verifyHostKey(index, names, key);
        expect(v, ctx).toEqual(linearVerifyHostKey(entries, names, key));
        expect(verifyHostKey(entries, names, key), ctx).toEqual(v);
        expect(knownKeyTypes(index, names), ctx).toEqual(linearKnownKeyTypes(entries, names));
        kinds[v.kind] = (kinds[v.kind] ?? 0) + 1;
        negatedOut += entries.filter(
          (e) =>
            e.patterns.includes('!') &&
            !expected.includes(e) &&
            names.some((n) => linearEntryMatchesHost({ ...e, patterns: e.patterns.replace(/(^|,)![^,]*/g, '') }, n)),
        ).length;
        hashedHits += expected.filter((e) => e.patterns.includes('|1|')).length;
      }
    }
    // The generator reaches every verdict and the cases that matter, or this test proves little.
    for (const k of ['match', 'unknown', 'changed', 'revoked']) expect(kinds[k], JSON.stringify(kinds)).toBeGreaterThan(50);
    expect(negatedOut).toBeGreaterThan(50);
    expect(hashedHits).toBeGreaterThan(50);
  });

  it('folds case like the old /i RegExp: ASCII only, never the Kelvin sign onto k', () => {
    const k = KEYS[0]!;
    const e = parseKnownHosts(
      [
        `MX1.Example.COM ${keyType(k)} ${k.toString('base64')}`,
        `mxk.example ${keyType(k)} ${k.toString('base64')}`,
        `ÜNÏ.example ${keyType(k)} ${k.toString('base64')}`,
      ].join('\n'),
    );
    const index = new KnownHostsIndex(e);
    expect(index.match(['mx1.example.com']).map((x) => x.line)).toEqual([1]);
    expect(index.match(['MXK.EXAMPLE']).map((x) => x.line)).toEqual([2]);
    expect(index.match(['mx\u212a.example'])).toEqual([]);
    expect(index.match(['ünï.example']).map((x) => x.line)).toEqual([3]);
  });

  it('a negated pattern excludes the line even when another pattern matches, for that name only', () => {
    const k = KEYS[0]!;
    const salt = Buffer.alloc(20, 3);
    const h = (n: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(n).digest('base64')}`;
    const e = parseKnownHosts(
      [
        `*.example,!bad.example ${keyType(k)} ${k.toString('base64')}`,
        `good.example,!${h('[good.example]:2222')},${h('mx.example')} ${keyType(k)} ${k.toString('base64')}`,
      ].join('\n'),
    );
    const index = new KnownHostsIndex(e);
    expect(index.match(['bad.example'])).toEqual([]);
    expect(index.match(['bad.example', 'mx.example']).map((x) => x.line)).toEqual([1, 2]);
    expect(index.match(['good.example']).map((x) => x.line)).toEqual([1, 2]);
    expect(index.match(['[good.example]:2222'])).toEqual([]);
  });

  it('does one HMAC per distinct salt: hashed lines sharing salts form groups', () => {
    const k = KEYS[0]!;
    const lines = Array.from({ length: 100 }, (_, i) => {
      const salt = SHARED_SALTS[i % 2]!;
      return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(`mx${i}`).digest('base64')} ${keyType(k)} ${k.toString('base64')}`;
    });
    const index = new KnownHostsIndex(parseKnownHosts(lines.join('\n')));
    expect(index.saltGroups).toBe(2);
    expect(index.match(['mx37']).map((x) => x.line)).toEqual([38]);
    expect(index.match(['mx100'])).toEqual([]);
  });
});
