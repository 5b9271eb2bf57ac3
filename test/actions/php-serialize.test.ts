import { describe, expect, it } from 'vitest';
import { phpFloatRepr, phpSerialize, phpSerializeBase64 } from '../../src/actions/php-serialize.js';
import { phpUnserialize } from '../fakes/php-unserialize.js';

// Expected strings are what PHP 7.1+/8.x serialize() prints (serialize_precision = -1).
describe('phpSerialize', () => {
  const cases: [unknown, string][] = [
    [{ name: 'Alice', age: 30 }, 'a:2:{s:4:"name";s:5:"Alice";s:3:"age";i:30;}'],
    ['', 's:0:"";'],
    ['héllo', 's:6:"héllo";'],
    ['日本', 's:6:"日本";'],
    ['😀', 's:4:"😀";'],
    ['a"b;c', 's:5:"a"b;c";'],
    [0, 'i:0;'],
    [-42, 'i:-42;'],
    [9007199254740993n, 'i:9007199254740993;'],
    [true, 'b:1;'],
    [false, 'b:0;'],
    [null, 'N;'],
    [undefined, 'N;'],
    [0.1, 'd:0.1;'],
    [-2.5, 'd:-2.5;'],
    [0.1 + 0.2, 'd:0.30000000000000004;'],
    [0.0001, 'd:0.0001;'],
    [0.00001, 'd:1.0E-5;'],
    [1.5e-7, 'd:1.5E-7;'],
    [1e100, 'd:1.0E+100;'],
    [1.2345678901234568e20, 'd:1.2345678901234568E+20;'],
    [NaN, 'd:NAN;'],
    [Infinity, 'd:INF;'],
    [-Infinity, 'd:-INF;'],
    [[], 'a:0:{}'],
    [['x', 'y'], 'a:2:{i:0;s:1:"x";i:1;s:1:"y";}'],
    [{ '5': 'x', '05': 'y', '-3': 'z' }, 'a:3:{i:5;s:1:"x";s:2:"05";s:1:"y";i:-3;s:1:"z";}'],
    [{ a: { b: null, c: [1.5] } }, 'a:1:{s:1:"a";a:2:{s:1:"b";N;s:1:"c";a:1:{i:0;d:1.5;}}}'],
    [
      new Map<string | number, unknown>([
        ['k', 1],
        [7, 'v'],
      ]),
      'a:2:{s:1:"k";i:1;i:7;s:1:"v";}',
    ],
  ];
  it.each(cases.map(([value, expected]) => ({ value, expected })))('→ $expected', ({ value, expected }) => {
    expect(phpSerialize(value)).toBe(expected);
  });

  it('uses UTF-8 byte lengths for multibyte keys and values', () => {
    expect(phpSerialize({ Straße: 'Grüße aus Köln' })).toBe('a:1:{s:7:"Straße";s:17:"Grüße aus Köln";}');
  });

  it('base64-encodes the UTF-8 bytes', () => {
    const b64 = phpSerializeBase64({ name: 'Zoë' });
    expect(Buffer.from(b64, 'base64').toString('utf8')).toBe('a:1:{s:4:"name";s:4:"Zoë";}');
  });

  it('rejects what PHP arrays cannot hold', () => {
    expect(() => phpSerialize(() => 1)).toThrow(TypeError);
    expect(() => phpSerialize(Symbol('x'))).toThrow(TypeError);
    expect(() => phpSerialize(new Date())).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => phpSerialize(cyclic)).toThrow(/circular/);
  });

  it('round-trips through the fake WHMCS unserializer', () => {
    const value = { mailbox: 'info@example.com', count: 1234, ratio: 0.25, ok: true, none: null, list: ['a', 'ü'] };
    expect(phpUnserialize(phpSerialize(value))).toEqual(value);
  });

  it('phpFloatRepr switches to exponent form where PHP does', () => {
    expect(phpFloatRepr(1e21)).toBe('1.0E+21');
    expect(phpFloatRepr(-1.5e300)).toBe('-1.5E+300');
    expect(phpFloatRepr(123.456)).toBe('123.456');
    expect(phpFloatRepr(-0.000123)).toBe('-0.000123');
    expect(phpFloatRepr(1.0e-4 / 3)).toBe('3.3333333333333335E-5');
  });
});
