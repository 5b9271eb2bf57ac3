// The shared pieces of the stdin purge protocol (purge-stdin.ts, shared/scripts/request.sh): the request text, the request
// checks, the prologue through the real /bin/sh, and the pause / resume report lines.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PURGE_MARKER, parsePurgeOutput } from '../../src/mta/purge-protocol.js';
import { hexOf, prepareStdinPurge, purgeStdinText } from '../../src/mta/purge-stdin.js';
import { STDIN_IDS, stdinPrologue } from './shared-scripts.js';
import type { PurgeRequest } from '../../src/mta/types.js';

const SHAPE = /[0-9A-Za-z]{5,32}/;

describe('purgeStdinText / prepareStdinPurge', () => {
  it('hex-encodes every value; the null sender and the empty recipient set stay distinct', () => {
    const req: PurgeRequest = {
      ids: ['AAAAA1', 'BBBBB2', 'CCCCC3'],
      match: { kind: 'auth', authId: "b'ob" },
      mode: 'delete',
      expect: {
        AAAAA1: { sender: '\u001b]8;;x\u0007 é' },
        BBBBB2: { sender: '', recipients: [] },
        CCCCC3: { sender: 'a', recipients: ['', 'x,y'] },
      },
    };
    expect(purgeStdinText(req, ['AAAAA1', 'BBBBB2', 'CCCCC3', 'DDDDD4'])).toBe(
      `A ${hexOf("b'ob")}\nAAAAA1 s1b5d383b3b780720c3a9 -\nBBBBB2 s r\nCCCCC3 s61 rx,x${hexOf('x,y')}\nDDDDD4 - -\n. 4\n`,
    );
  });

  it('senders with control characters are no longer refused; auth ids with them still are; bounces need recipients', () => {
    const ctl = { sender: 'a\u001b[31m\r\n\u0000b@x' };
    const a = prepareStdinPurge(
      { ids: ['AAAAA1'], match: { kind: 'auth', authId: 'bob' }, mode: 'delete', expect: { AAAAA1: ctl } },
      SHAPE,
      'x',
    );
    expect(a).toEqual({ ids: ['AAAAA1'], skipped: [] });
    const nl = prepareStdinPurge({ ids: ['AAAAA1'], match: { kind: 'auth', authId: 'bob\nx' }, mode: 'delete' }, SHAPE, 'x');
    expect(nl.ids).toEqual([]);
    expect(nl.refusal).toMatch(/control/);
    const b = prepareStdinPurge(
      {
        ids: ['AAAAA1', 'BBBBB2', 'bad id'],
        match: { kind: 'bounce' },
        mode: 'delete',
        expect: { AAAAA1: { sender: '' }, BBBBB2: { sender: '', recipients: ['r@x'] } },
      },
      SHAPE,
      'x',
    );
    expect(b.ids).toEqual(['BBBBB2']);
    expect(b.skipped).toEqual([
      { id: 'bad id', reason: 'not a x queue id' },
      { id: 'AAAAA1', reason: 'no expected recipients for this bounce (request.expect): cannot re-check it' },
    ]);
  });
});

describe('stdinPrologue through /bin/sh', () => {
  const run = (stdin: string) =>
    execFileSync('/bin/sh', ['-c', [...stdinPrologue(), STDIN_IDS, 'echo "tmp=$t"'].join('\n')], { input: stdin, encoding: 'utf8' });

  it('keeps the request in a temporary file that is gone afterwards, and lists its ids', () => {
    const out = run('A 62\nAAAAA1 s -\nBBBBB2 - -\n. 2\n');
    expect(out).toMatch(/^AAAAA1\nBBBBB2\ntmp=\S+\n$/);
    const t = /tmp=(\S+)/.exec(out)![1]!;
    expect(execFileSync('/bin/sh', ['-c', `ls "${t}" 2>&1 || true`], { encoding: 'utf8' })).toMatch(/No such file/);
  });

  it('refuses a missing, cut or padded request', () => {
    for (const stdin of ['', 'AAAAA1 s -\n', 'AAAAA1 s -\n. 2\n', 'AAAAA1 s -\n. 1\nBBBBB2 - -\n', 'AAAAA1 s -\n. 1\nx']) {
      expect(run(stdin), JSON.stringify(stdin)).toBe(`${PURGE_MARKER} - abort the request on stdin is missing or incomplete\n`);
    }
  });
});

describe('parsePurgeOutput: pause and resume lines', () => {
  const opts = { sent: ['A1'], preSkipped: [], tool: 'tool' };

  it('become notes; a pause never reported resumed, or a failed resume, is a warning', () => {
    const ok = parsePurgeOutput(
      `${PURGE_MARKER} A1 match\n${PURGE_MARKER} - paused qmail-send stopped\n${PURGE_MARKER} A1 done removed\n${PURGE_MARKER} - resumed qmail-send running, pid 7\n`,
      '',
      0,
      opts,
    );
    expect(ok).toEqual({
      done: ['A1'],
      skipped: [],
      warnings: [],
      notes: ['paused: qmail-send stopped', 'resumed: qmail-send running, pid 7'],
    });
    const lost = parsePurgeOutput(`${PURGE_MARKER} - paused qmail-send stopped\n${PURGE_MARKER} A1 done removed\n`, '', null, opts);
    expect(lost.warnings).toEqual(['paused (qmail-send stopped) and no report that it was resumed: check the MTA']);
    const down = parsePurgeOutput(
      `${PURGE_MARKER} - paused x\n${PURGE_MARKER} - notresumed qmail-send is not running \u001b[31m\n`,
      '',
      0,
      opts,
    );
    expect(down.warnings[0]).toMatch(/^NOT resumed: qmail-send is not running \S/);
    expect(down.warnings[0]).not.toContain('\u001b');
  });

  it('tool output cannot forge a pause or a resume', () => {
    const r = parsePurgeOutput(`| ${PURGE_MARKER} - resumed fake\n${PURGE_MARKER} - paused real\n`, '', 0, opts);
    expect(r.notes).toEqual(['paused: real']);
    expect(r.warnings).toContain('paused (real) and no report that it was resumed: check the MTA');
  });
});
