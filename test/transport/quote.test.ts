import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quote, raw, sh } from '../../src/transport/quote.js';

// What /bin/sh (dash on Debian) actually receives: echo each argument back on its own line.
function argsSeenByShell(cmd: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${cmd}; for a in "$@"; do printf '%s\\0' "$a"; done`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

const HOSTILE = [
  'alice@example.test',
  "o'brien@example.test",
  '$(touch /tmp/pwned)@evil.test',
  '`id`@evil.test',
  'a b\tc',
  'line1\nline2',
  '-rf',
  '; rm -rf / #',
  '"double"',
  '\\back\\slash',
  '*',
  '',
  'ünïcödé@exämple.test',
];

describe('quote', () => {
  it.each(HOSTILE)('round-trips %j through the real shell unchanged', (s) => {
    expect(argsSeenByShell(quote(s))).toEqual([s]);
  });

  it('leaves safe words bare and quotes the rest', () => {
    expect(quote('1WDQrg-0001Wf-1W')).toBe('1WDQrg-0001Wf-1W');
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'"'"'s'`);
  });
});

describe('sh template', () => {
  it('quotes every interpolation and expands arrays to separate words', () => {
    const cmd = sh`printf %s ${HOSTILE}`;
    expect(argsSeenByShell(cmd.replace(/^printf %s /, ''))).toEqual(HOSTILE);
  });

  it('passes raw fragments through unquoted', () => {
    expect(sh`a ${raw('| b')} ${'c d'}`).toBe("a | b 'c d'");
  });

  it('never runs a command substitution hidden in a value', () => {
    const out = execFileSync('/bin/sh', ['-c', sh`echo ${'$(echo INJECTED)'}`]).toString();
    expect(out.trim()).toBe('$(echo INJECTED)');
  });
});
