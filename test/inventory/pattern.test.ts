import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts, splitPattern } from '../../src/inventory/pattern.js';
import type { Inventory } from '../../src/inventory/types.js';

const inv = await loadInventory('test/fixtures/inventory/patterns.yaml');
const names = (pattern: string | undefined): string[] => selectHosts(inv, pattern).map((h) => h.name);
const ALL = ['mx1.example.com', 'mx2.example.com', 'cp1.example.com', 'mx3.example.com', 'relay.example.net', '2001:db8::25', 'mx1', 'mx3'];

describe('selectHosts', () => {
  it.each([
    [undefined, ALL],
    ['all', ALL],
    ['*', ALL],
    ['mx1.example.com', ['mx1.example.com']],
    ['dc1', ['mx1.example.com', 'mx2.example.com', 'cp1.example.com']],
    ['ungrouped', ['2001:db8::25', 'mx1', 'mx3']],
    ['mx*', ['mx1.example.com', 'mx2.example.com', 'mx3.example.com', 'mx1', 'mx3']],
    ['*.example.net', ['relay.example.net']],
    ['mx?', ['mx1', 'mx3']],
    ['mx[!2]', ['mx1', 'mx3']],
    ['mx[!1].example.com', ['mx2.example.com', 'mx3.example.com']],
    ['dc1_*', ['mx1.example.com', 'mx2.example.com', 'cp1.example.com']],
    ['~mx[12]\\.', ['mx1.example.com', 'mx2.example.com']],
    ['~(cp|relay)', ['cp1.example.com', 'relay.example.net']],
  ])('%s', (pattern, expected) => {
    expect(names(pattern)).toEqual(expected);
  });

  it('unions with : and , keep inventory order', () => {
    expect(names('dc2:dc1_exim')).toEqual(['cp1.example.com', 'mx3.example.com', 'relay.example.net']);
    expect(names('dc2,dc1_exim')).toEqual(['cp1.example.com', 'mx3.example.com', 'relay.example.net']);
    expect(names('mx3, dc2 ,mx3')).toEqual(['mx3.example.com', 'relay.example.net', 'mx3']);
  });

  it('exclusion and intersection', () => {
    expect(names('dc1:!dc1_exim')).toEqual(['mx1.example.com', 'mx2.example.com']);
    expect(names('all:&staging')).toEqual(['mx2.example.com', 'relay.example.net']);
    expect(names('dc1:dc2:&staging:!relay*')).toEqual(['mx2.example.com']);
  });

  it('processing order is unions, then &, then ! — wherever they are written', () => {
    expect(names('!mx2*:&staging:dc1:dc2')).toEqual(['relay.example.net']);
  });

  it('only exclusions or intersections start from all', () => {
    expect(names('!dc1')).toEqual(['mx3.example.com', 'relay.example.net', '2001:db8::25', 'mx1', 'mx3']);
    expect(names('&staging')).toEqual(['mx2.example.com', 'relay.example.net']);
  });

  it('subscripts: [i], [-1], [i:j] inclusive, [i:]', () => {
    expect(names('dc1[0]')).toEqual(['mx1.example.com']);
    expect(names('dc1[-1]')).toEqual(['cp1.example.com']);
    expect(names('all[1:2]')).toEqual(['mx2.example.com', 'cp1.example.com']);
    expect(names('ungrouped[1:]')).toEqual(['mx1', 'mx3']);
  });

  it('IPv6 addresses are not split on their colons', () => {
    expect(names('2001:db8::25')).toEqual(['2001:db8::25']);
    expect(names('2001:db8::25,mx1')).toEqual(['2001:db8::25', 'mx1']);
    expect(names('ungrouped,!2001:db8::25')).toEqual(['mx1', 'mx3']);
  });

  it('@file: one pattern per line, comments and blanks skipped', () => {
    expect(names('@test/fixtures/inventory/limit.txt')).toEqual(['mx1', 'mx3']);
    expect(names('ungrouped:!@test/fixtures/inventory/limit.txt')).toEqual(['2001:db8::25']);
  });

  it('a short name suggests the host it starts (mx1 → mx1.dc1.example.net), never a group then', () => {
    // mx1 is 2 edits from the group dc1 and 16 from the host: the host is what was meant.
    const fleet: Inventory = {
      file: 'fleet.yaml',
      hosts: ['mx1.dc1.example.net', 'mx10.dc1.example.net', 'mx2.dc2.example.net'].map((name) => ({ ...inv.hosts[0]!, name })),
      groups: {
        all: ['mx1.dc1.example.net', 'mx10.dc1.example.net', 'mx2.dc2.example.net'],
        ungrouped: [],
        dc1: ['mx1.dc1.example.net', 'mx10.dc1.example.net'],
        dc2: ['mx2.dc2.example.net'],
        mx1x: [],
      },
    };
    expect(() => selectHosts(fleet, 'mx1')).toThrow(/; closest: mx1\.dc1\.example\.net, mx10\.dc1\.example\.net$/);
    // No host starts with it: near misses among hosts and groups, as before.
    expect(() => selectHosts(fleet, 'dc3')).toThrow(/closest: dc1, dc2$/);
  });

  it('a name that matches nothing lists the closest names', () => {
    expect(() => names('mx4')).toThrow(ConfigError);
    expect(() => names('mx4')).toThrow(
      'host pattern "mx4" matches no host or group in test/fixtures/inventory/patterns.yaml; closest: mx1, mx3',
    );
    expect(() => names('dc1:!stagng')).toThrow('host pattern "stagng" matches no host or group');
    expect(() => names('dc1:!stagng')).toThrow('closest: staging');
    expect(() => names('~^zz')).toThrow('host pattern "~^zz" matches no host or group');
    // As in Ansible, [digits] is a subscript, not a character class: "mx" is not a name here.
    expect(() => names('mx[13]')).toThrow('host pattern "mx[13]" matches no host or group');
  });

  it('patterns that leave no hosts, empty patterns, bad regexes, missing files', () => {
    expect(() => names('dc1_exim:&staging')).toThrow('host pattern "dc1_exim:&staging" selects no hosts');
    expect(() => names(' , ')).toThrow('host pattern " , " is empty');
    expect(() => names('~mx(')).toThrow('host pattern "~mx(": invalid regular expression');
    expect(() => names('@nope.txt')).toThrow('host pattern @nope.txt: cannot read file: ENOENT');
  });
});

describe('splitPattern', () => {
  it.each([
    ['a:b', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a:b,c', ['a', 'b', 'c']],
    ['web[0:2]:!db', ['web[0:2]', '!db']],
    ['fe80::1', ['fe80::1']],
    ['~mx(?:1|2),dc1', ['~mx(?:1|2)', 'dc1']],
    ['a b', ['a', 'b']],
  ])('%s', (p, expected) => {
    expect(splitPattern(p)).toEqual(expected);
  });
});
