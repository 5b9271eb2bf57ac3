import { describe, expect, it } from 'vitest';
import { expandRanges, parseHostKey } from '../../src/inventory/host-range.js';
import { shellSplit } from '../../src/inventory/jump.js';

const bad = (m: string): never => {
  throw new Error(m);
};

describe('parseHostKey', () => {
  it.each([
    ['mx1.example.com', { names: ['mx1.example.com'] }],
    ['mx1.example.com:2222', { names: ['mx1.example.com'], port: 2222 }],
    ['192.0.2.1:2200', { names: ['192.0.2.1'], port: 2200 }],
    ['2001:db8::1', { names: ['2001:db8::1'] }],
    ['[2001:db8::1]:2222', { names: ['2001:db8::1'], port: 2222 }],
    ['mx[1:3]:2222', { names: ['mx1', 'mx2', 'mx3'], port: 2222 }],
  ])('%s', (key, expected) => {
    expect(parseHostKey(key)).toEqual(expected);
  });

  it('rejects bad ports and spaces', () => {
    expect(() => parseHostKey('mx1:99999')).toThrow('port 99999 is not 1-65535');
    expect(() => parseHostKey('mx1:abc')).toThrow('"mx1:abc" is not "name" or "name:port"');
    expect(() => parseHostKey('mx1 mx2')).toThrow('cannot contain spaces');
  });
});

describe('expandRanges', () => {
  it.each([
    ['mx[01:03].example.com', ['mx01.example.com', 'mx02.example.com', 'mx03.example.com']],
    ['mx[8:10]', ['mx8', 'mx9', 'mx10']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['mx[0:6:3]', ['mx0', 'mx3', 'mx6']],
    ['r[1:2]c[1:2]', ['r1c1', 'r1c2', 'r2c1', 'r2c2']],
    ['mx[ab]', ['mx[ab]']],
  ])('%s', (name, expected) => {
    expect(expandRanges(name)).toEqual(expected);
  });

  it('rejects ranges Ansible rejects', () => {
    expect(() => expandRanges('mx[01:100]')).toThrow('equal width');
    expect(() => expandRanges('mx[3:1]')).toThrow('runs backwards');
    expect(() => expandRanges('mx[1:b]')).toThrow('numbers or single letters');
  });
});

describe('shellSplit', () => {
  it.each([
    ['-o ProxyJump=a@b', ['-o', 'ProxyJump=a@b']],
    [`-o 'ProxyJump a@b' -C`, ['-o', 'ProxyJump a@b', '-C']],
    ['-o ProxyCommand="ssh -W %h:%p \\"q\\" b"', ['-o', 'ProxyCommand=ssh -W %h:%p "q" b']],
    ['a\\ b  c', ['a b', 'c']],
    ["''", ['']],
  ])('%s', (s, expected) => {
    expect(shellSplit(s, bad)).toEqual(expected);
  });

  it('unbalanced quotes', () => {
    expect(() => shellSplit(`-o 'x`, bad)).toThrow("unbalanced '");
    expect(() => shellSplit('-o "x', bad)).toThrow('unbalanced "');
  });
});
