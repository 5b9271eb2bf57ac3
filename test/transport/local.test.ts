import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { LocalTransport } from '../../src/transport/local.js';
import { sh } from '../../src/transport/quote.js';

describe('LocalTransport', () => {
  const t = new LocalTransport();

  it('runs through /bin/sh with stdin, exit code and stderr', async () => {
    const r = await t.exec('tr a-z A-Z; echo oops >&2; exit 4', { stdin: 'abc' });
    expect(r).toMatchObject({ code: 4, stdout: 'ABC', stderr: 'oops\n' });
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    await expect(t.exec('sleep 30 | cat', { timeoutMs: 300 })).rejects.toBeInstanceOf(TransportError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('streams lines without collecting stdout', async () => {
    const seen: string[] = [];
    const r = await t.exec("seq 1 20000; printf 'no newline at end'", { onLine: (l) => seen.push(l) });
    expect(r.stdout).toBe('');
    expect(seen).toHaveLength(20001);
    expect(seen[19999]).toBe('20000');
    expect(seen[20000]).toBe('no newline at end');
  });
});

describe('LineSplitter', () => {
  it('joins multi-byte characters split across chunks and caps hostile line lengths', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l), 10);
    const bytes = Buffer.from('é\n' + 'x'.repeat(50) + '\nend');
    s.push(bytes.subarray(0, 1));
    s.push(bytes.subarray(1, 30));
    s.push(bytes.subarray(30));
    s.end();
    expect(out).toEqual(['é', 'x'.repeat(10), 'end']);
  });

  it('stops at maxBytes: the lines before the cap, the cut line as far as it came, truncated set', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l), undefined, 10);
    s.push(Buffer.from('abc\ndefg\nhij'));
    s.push(Buffer.from('klm\nnop\n'));
    s.end();
    expect(out).toEqual(['abc', 'defg', 'h']);
    expect(s.truncated).toBe(true);
  });

  it('a streamed local command capped by maxBytes says so; without maxBytes nothing is cut', async () => {
    const t = new LocalTransport();
    const lines: string[] = [];
    const r = await t.exec(sh`seq 1 100000`, { maxBytes: 1000, onLine: (l) => lines.push(l) });
    expect(r.truncated).toBe(true);
    expect(lines.slice(0, 2)).toEqual(['1', '2']);
    expect(lines.join('\n').length).toBeLessThanOrEqual(1000);
    let n = 0;
    const all = await t.exec(sh`seq 1 100000`, { onLine: () => n++ });
    expect(all.truncated).toBeUndefined();
    expect(n).toBe(100000);
  });
});
