import { describe, expect, it } from 'vitest';
import { closeNames, didYouMean, editDistance } from '../../src/text/suggest.js';

describe('closeNames / didYouMean', () => {
  it('edit distance counts inserts, deletes and substitutions', () => {
    expect(editDistance('suspend_logn', 'suspend_login')).toBe(1);
    expect(editDistance('mx1', 'dc1')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('a name the typed text starts (or whose first label it is) beats a nearer edit distance', () => {
    expect(closeNames('mx1', ['dc1', 'mx10.dc1.example.net', 'mx1.dc1.example.net'])).toEqual([
      'mx1.dc1.example.net',
      'mx10.dc1.example.net',
      'dc1',
    ]);
  });

  it('near misses only: nothing far-fetched is offered', () => {
    expect(closeNames('confirm.purg', ['confirm.purge', 'identify.account'])).toEqual(['confirm.purge']);
    expect(closeNames('zzz', ['confirm.purge', 'identify.account'])).toEqual([]);
    expect(didYouMean('zzz', ['confirm.purge'])).toBe('');
    expect(didYouMean('suspend_logn', ['suspend_login', 'suspend_outgoing'])).toBe('; did you mean "suspend_login"?');
  });
});

describe('editDistance counts a swap of neighbours as one typo', () => {
  it('swap 1, unrelated all, and stops past max', () => {
    expect(editDistance('ansilbe_host', 'ansible_host')).toBe(1);
    expect(editDistance('abcdef', 'uvwxyz')).toBe(6);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
  });
});
