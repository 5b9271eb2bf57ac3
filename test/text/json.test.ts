// JSON output is data: every byte kept, but nothing a terminal acts on in the text itself.
import { describe, expect, it } from 'vitest';
import { jsonText } from '../../src/text/json.js';
import { printable } from '../../src/text/printable.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|\udb40[\udc00-\udc7f]/u;

const hostile = {
  authId: 'bob\x1b[2J\x07\r\x00@example.test',
  c1: '\u009b31m\u0085\u007f',
  bidi: 'invoice\u202egpj.exe \u2066x\u2069 \u202a\u202b\u202c\u202d',
  invisible: 'a\u200b\u200c\u200d\ufeff\u2060\u00adb\u{e0041}',
  lines: 'a\u2028b\u2029c',
  normal: 'Jürgen 用户 🍕 <x> [y] `z` | "q" \\',
  nested: [{ sender: '\x1b]8;;http://evil\x07click\x1b]8;;\x07' }],
};

describe('jsonText', () => {
  it('parses back to exactly the same value', () => {
    expect(JSON.parse(jsonText(hostile))).toEqual(hostile);
    expect(JSON.parse(jsonText(hostile, 2))).toEqual(hostile);
  });

  it('holds no raw control, C1, bidi or invisible character: all are \\u escapes', () => {
    const out = jsonText(hostile, 2);
    expect(out.replace(/\n/g, '')).not.toMatch(RAW);
    expect(out).toContain('\\u009b31m');
    expect(out).toContain('invoice\\u202egpj.exe');
    expect(out).toContain('\\u2066x\\u2069');
    expect(out).toContain('a\\u2028b\\u2029c');
    expect(out).toContain('b\\udb40\\udc41');
    expect(out).toContain('\\u001b[2J\\u0007\\r\\u0000');
  });

  it('is JSON.stringify unchanged for ordinary text (stable output)', () => {
    const v = { a: hostile.normal, n: 1, b: [true, null] };
    expect(jsonText(v, 2)).toBe(JSON.stringify(v, null, 2));
    expect(jsonText(v)).toBe(JSON.stringify(v));
  });

  it('escapes exactly what printable() makes visible (above C0, quote and backslash aside)', () => {
    const differ: string[] = [];
    for (let c = 0x20; c < 0x10000; c++) {
      if ((c >= 0xd800 && c <= 0xdfff) || c === 0x22 || c === 0x5c) continue;
      const ch = String.fromCharCode(c);
      const escaped = jsonText(ch) !== `"${ch}"`;
      if (escaped !== (printable(ch) !== ch)) differ.push(c.toString(16));
    }
    expect(differ).toEqual([]);
    expect(jsonText('\u{e0041}')).toBe('"\\udb40\\udc41"');
  });

  it('writes undefined as null rather than failing', () => {
    expect(jsonText(undefined)).toBe('null');
  });
});
