// The one function that stands between server text (chosen by a spammer) and a terminal, report or notice.
import { describe, expect, it } from 'vitest';
import { markdownText, printable } from '../../src/text/printable.js';

/** Anything a terminal could act on, or that hides or reorders text. */
// eslint-disable-next-line no-control-regex
const DANGEROUS =
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]|\udb40[\udc00-\udc7f]/u;
/** The first dangerous character left, as a code (short failure messages), or null. */
function leftover(s: string): string | null {
  const m = DANGEROUS.exec(s);
  return m ? `U+${m[0].codePointAt(0)!.toString(16)} at ${m.index}` : null;
}

describe('printable: C0, DEL, C1', () => {
  it('shows every C0 control in caret notation', () => {
    expect(printable('a\x1b[2Jb')).toBe('a^[[2Jb');
    expect(printable('ding\x07')).toBe('ding^G');
    expect(printable('over\rwrite')).toBe('over^Mwrite');
    expect(printable('nul\x00byte')).toBe('nul^@byte');
    expect(printable('\x08\x0b\x0c\x1f')).toBe('^H^K^L^_');
    expect(printable('line\nbreak')).toBe('line^Jbreak');
    for (let c = 0; c < 0x20; c++) {
      if (c === 0x09) continue;
      const out = printable(String.fromCharCode(c));
      expect(out).toBe(`^${String.fromCharCode(c + 0x40)}`);
    }
  });

  it('turns a tab into one space (column alignment stays predictable)', () => {
    expect(printable('a\tb')).toBe('a b');
    expect(printable('a\tb', { multiline: true })).toBe('a b');
  });

  it('shows DEL as ^?', () => {
    expect(printable('x\x7fy')).toBe('x^?y');
  });

  it('shows every C1 control (U+0080–009F) as <U+XXXX>, CSI and OSC included', () => {
    expect(printable('\u009b31mred')).toBe('<U+009B>31mred');
    expect(printable('\u009d8;;http://evil\u009c')).toBe('<U+009D>8;;http://evil<U+009C>');
    expect(printable('next\u0085line')).toBe('next<U+0085>line');
    for (let c = 0x80; c <= 0x9f; c++) expect(printable(String.fromCharCode(c))).toBe(`<U+00${c.toString(16).toUpperCase()}>`);
    // U+00A0 and beyond are ordinary characters.
    expect(printable('caf\u00e9 \u00a0')).toBe('caf\u00e9 \u00a0');
  });

  it('neutralises whole escape sequences: OSC 8 hyperlinks, title setting, clear screen', () => {
    const osc8 = '\x1b]8;;http://evil.test\x07click\x1b]8;;\x07';
    expect(printable(osc8)).toBe('^[]8;;http://evil.test^Gclick^[]8;;^G');
    expect(printable('\x1b]0;pwned\x07')).toBe('^[]0;pwned^G');
    expect(printable(osc8)).not.toMatch(DANGEROUS);
  });
});

describe('printable: line separators, bidi and invisible characters', () => {
  it('shows U+2028 and U+2029', () => {
    expect(printable('a\u2028b\u2029c')).toBe('a<U+2028>b<U+2029>c');
    expect(printable('a\u2028b', { multiline: true })).toBe('a<U+2028>b');
  });

  it('shows every bidi embedding, override and isolate (U+202A–202E, U+2066–2069) and the marks', () => {
    for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c])
      expect(printable(`x${String.fromCharCode(c)}y`)).toBe(`x<U+${c.toString(16).toUpperCase().padStart(4, '0')}>y`);
    // The classic: "invoice\u202Egpj.exe" looks like "invoiceexe.jpg".
    expect(printable('invoice\u202egpj.exe')).toBe('invoice<U+202E>gpj.exe');
  });

  it('shows zero-width and other invisible characters', () => {
    expect(printable('bob\u200b@example.test')).toBe('bob<U+200B>@example.test');
    expect(printable('a\u200cb\u200dc\u2060d\ufeffe\u00adf')).toBe('a<U+200C>b<U+200D>c<U+2060>d<U+FEFF>e<U+00AD>f');
    expect(printable('\u3164')).toBe('<U+3164>');
  });

  it('shows tag characters (invisible text smuggled after a visible one) as whole code points', () => {
    expect(printable('ok\u{e0041}\u{e0042}')).toBe('ok<U+E0041><U+E0042>');
  });

  it('shows a lone surrogate instead of writing broken UTF-16', () => {
    expect(printable('a\ud800b')).toBe('a<U+D800>b');
    expect(printable('a\udc00')).toBe('a<U+DC00>');
  });

  it('leaves ordinary text, including other scripts and emoji, untouched', () => {
    for (const t of [
      'bob@example.test',
      'Jürgen Müller <j@bücher.de>',
      'почта@пример.рф',
      'מייל',
      '用户@例子.中国',
      'spam 🍕 offer',
      '1 < 2 > 0 | [x] `y`',
    ])
      expect(printable(t)).toBe(t);
  });
});

describe('printable: multiline', () => {
  it('keeps \\n and nothing else', () => {
    expect(printable('From: a\nTo: b\n', { multiline: true })).toBe('From: a\nTo: b\n');
    expect(printable('a\r\nb', { multiline: true })).toBe('a^M\nb');
    expect(printable('a\x0bb\x0cc\x1b[Hd', { multiline: true })).toBe('a^Kb^Lc^[[Hd');
    expect(printable('a\u0085b', { multiline: true })).toBe('a<U+0085>b');
  });
});

describe('printable: max', () => {
  it('keeps text at the limit whole', () => {
    expect(printable('abcde', { max: 5 })).toBe('abcde');
  });

  it('cuts longer text and says how long it was', () => {
    expect(printable('abcdefghij', { max: 4 })).toBe('abcd… (10 chars)');
    expect(printable('x'.repeat(10_000), { max: 160 })).toBe(`${'x'.repeat(160)}… (10000 chars)`);
  });

  it('counts after cleaning and never cuts a token in half', () => {
    // "ab^[cd" is 6 long: with max 3 the ^[ token does not fit whole, so it is left out.
    expect(printable('ab\x1bcd', { max: 3 })).toBe('ab… (5 chars)');
    expect(printable('ab\u202ecd', { max: 10 })).toBe('ab<U+202E>… (5 chars)');
    expect(printable('ab\u202ecd', { max: 5 })).toBe('ab… (5 chars)');
    // A tag character (two UTF-16 units) is one character and one token.
    expect(printable('a\u{e0041}bcdef', { max: 10 })).toBe('a<U+E0041>… (7 chars)');
    expect(printable('a\u{e0041}bcdef', { max: 9 })).toBe('a… (7 chars)');
  });

  it('never cuts a surrogate pair', () => {
    const out = printable('🍕🍕🍕', { max: 3 });
    expect(out).toBe('🍕… (3 chars)');
    expect(out).not.toMatch(/[\ud800-\udfff]/u);
  });

  it('handles 0, negative and infinite limits', () => {
    expect(printable('abc', { max: 0 })).toBe('… (3 chars)');
    expect(printable('abc', { max: -5 })).toBe('… (3 chars)');
    expect(printable('abc', { max: Infinity })).toBe('abc');
  });
});

describe('printable: general properties', () => {
  it('is idempotent', () => {
    const hostile = 'a\x1b[2J\x07\r\x00\u009b\u202e\u2066\u200b\t\n\u{e0041}b';
    const once = printable(hostile);
    expect(printable(once)).toBe(once);
    expect(printable(printable(hostile, { multiline: true }), { multiline: true })).toBe(printable(hostile, { multiline: true }));
  });

  it('lets nothing dangerous through, whatever the input (every code point below U+3000 and the specials)', () => {
    let all = '';
    for (let c = 0; c < 0x3000; c++) if (c < 0xd800 || c > 0xdfff) all += String.fromCodePoint(c);
    all += '\ufeff\ufff9\ufffa\ufffb\u{e0001}\u{e007f}';
    expect(leftover(printable(all))).toBeNull();
    expect(leftover(printable(all, { multiline: true }).replace(/\n/g, ''))).toBeNull();
  });

  it('accepts non-strings the way String() shows them', () => {
    expect(printable(42 as unknown as string)).toBe('42');
  });
});

describe('markdownText', () => {
  it('escapes link, image, autolink and HTML syntax', () => {
    expect(markdownText('[bank](http://evil.test)')).toBe('\\[bank\\](http://evil.test)');
    expect(markdownText('![x](http://evil.test/p.png)')).toBe('\\!\\[x\\](http://evil.test/p.png)');
    expect(markdownText('<http://evil.test>')).toBe('\\<http://evil.test\\>');
    expect(markdownText('<img src=x onerror=alert(1)>')).toBe('\\<img src=x onerror=alert(1)\\>');
    expect(markdownText('&lt;script&gt;')).toBe('\\&lt;script\\&gt;');
  });

  it('escapes code spans, emphasis, strikethrough, math and the backslash itself', () => {
    expect(markdownText('`rm -rf`')).toBe('\\`rm -rf\\`');
    expect(markdownText('*a* _b_ ~~c~~ $x$')).toBe('\\*a\\* \\_b\\_ \\~\\~c\\~\\~ \\$x\\$');
    expect(markdownText('a\\[b')).toBe('a\\\\\\[b');
  });

  it('keeps a table cell one cell: pipes escaped, line breaks made visible', () => {
    expect(markdownText('a|b')).toBe('a\\|b');
    expect(markdownText('a\nb')).toBe('a^Jb');
    expect(markdownText('a\nb')).not.toContain('\n');
  });

  it('escapes headings, quotes and list markers at the start of a line', () => {
    expect(markdownText('# big')).toBe('\\# big');
    expect(markdownText('- item')).toBe('\\- item');
    expect(markdownText('+ item')).toBe('\\+ item');
    expect(markdownText('1. item')).toBe('1\\. item');
    expect(markdownText('a\n===\n> q\n  2) x', { multiline: true })).toBe('a\n\\===\n\\> q\n  2\\) x');
    // Inside a line they are ordinary text.
    expect(markdownText('a-b+c 1.5')).toBe('a-b+c 1.5');
  });

  it('makes controls visible before escaping (the caret token is escaped like any text)', () => {
    expect(markdownText('a\x1b[2Jb')).toBe('a^\\[\\[2Jb');
    expect(markdownText('x\u202ey')).toBe('x\\<U+202E\\>y');
    expect(markdownText('\x1b]8;;http://evil\x07[x]')).not.toMatch(DANGEROUS);
  });

  it('leaves ordinary addresses readable', () => {
    expect(markdownText('bob@example.test')).toBe('bob@example.test');
    expect(markdownText('promo-deals.invalid(300)')).toBe('promo-deals.invalid(300)');
  });

  it('honours max before escaping', () => {
    expect(markdownText('[[[[[[', { max: 2 })).toBe('\\[\\[… (6 chars)');
  });
});
