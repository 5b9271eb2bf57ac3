import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { parseQmailQread, parseQmailQstat } from '../../src/mta/qmail/listing.js';
import { parseQmailQueueOutput, qmailQueueCommand } from '../../src/mta/qmail/queue.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture } from './helpers.js';

const NOW = 1700000600; // Tue Nov 14 22:23:20 UTC 2023

describe('parseQmailQread', () => {
  const l = parseQmailQread(fixture('qmail', 'qread.txt'), NOW);

  it('reads entries, GMT dates, sizes and senders', () => {
    expect(l.messages.map((m) => [m.id, m.sender, m.size, m.ageSeconds])).toEqual([
      ['1183204', 'alice@example.com', 1843, 600],
      ['1183210', '', 5210, 10600],
      ['99', 'x@y', 12, 1000600],
      ['1183222', '_(rm -rf _)@evil.example', 912, 1000600],
    ]);
  });

  it('leaves "done" recipients out and names the channel', () => {
    expect(l.messages[0]).toMatchObject({ recipients: ['bob@example.net'], delivered: ['carol@example.org'], queue: 'remote' });
    expect(l.messages[1]).toMatchObject({ bounce: true, bouncing: true, reason: 'bouncing', queue: 'local' });
    expect(l.messages[2]?.queue).toBeUndefined();
    expect(l.messages[3]).toMatchObject({ queue: 'local+remote', recipients: ['user@example.com', 'victim@example.net'] });
  });

  it('qmail-qread warnings become parser warnings', () => {
    expect(l.warnings).toEqual(['line 10: qmail-qread: warning: trouble with #1183230: file does not exist']);
  });
});

describe('parseQmailQstat', () => {
  it('reads both counts', () => {
    expect(parseQmailQstat(fixture('qmail', 'qstat.txt'))).toEqual({ inQueue: 4, notPreprocessed: 1, warnings: [] });
  });
  it('accepts qmailctl stat output (indented, with svstat lines)', () => {
    const q = parseQmailQstat(
      '    /service/qmail-send: up (pid 30303) 187 seconds\n    messages in queue: 0\n    messages in queue but not yet preprocessed: 0\n',
    );
    expect(q).toEqual({ inQueue: 0, notPreprocessed: 0, warnings: [] });
  });
  it('flags anything else', () => {
    expect(parseQmailQstat('find: queue/mess: Permission denied\n').warnings).toEqual([
      'line 1: qmail-qstat: line not understood: find: queue/mess: Permission denied',
    ]);
  });
});

describe('qmail adapter', () => {
  it('runs qmail-qstat and qmail-qread from the qmail bin directory', () => {
    const cmd = qmailQueueCommand(mtaHost());
    expect(cmd).toContain(`/var/qmail/bin/qmail-qstat 2>&1; echo '__MAILSWEEP_RC__ qstat' "$?"`);
    expect(cmd).toContain(`/var/qmail/bin/qmail-qread 2>&1; echo '__MAILSWEEP_RC__ qread' "$?"`);
    expect(qmail.queue(mtaHost('/opt/qmail x/bin/qmail-qstat')).command).toContain("'/opt/qmail x/bin/qmail-qread'");
    expect(qmailQueueCommand(mtaHost(undefined, { qmailDir: '/srv/qmail/' }))).toContain('/srv/qmail/bin/qmail-qread');
  });

  it('reportedTotal is the preprocessed count, matching what qmail-qread lists', () => {
    const l = parseQmailQueueOutput(fixture('qmail', 'adapter-ok.txt'));
    expect(l.messages.map((m) => m.sender)).toEqual(['alice@example.com', '', 'spam@hijacked.example']);
    expect(l.reportedTotal).toBe(3);
    expect(l.messages).toHaveLength(l.reportedTotal ?? -1);
    expect(l.warnings).toEqual(['1 message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread']);
  });

  it('permission problems: warnings, no total', () => {
    const l = parseQmailQueueOutput(fixture('qmail', 'adapter-denied.txt'));
    expect(l.reportedTotal).toBeNull();
    expect(l.messages).toEqual([]);
    expect(l.warnings.filter((w) => w.startsWith(COMMAND_FAILED))).toEqual([
      `${COMMAND_FAILED} qmail-qstat exited 2: /var/qmail/bin/qmail-qstat: 1: cd: can't cd to /var/qmail/queue`,
      `${COMMAND_FAILED} qmail-qread exited 111: fatal: unable to chdir: access denied`,
    ]);
  });

  it('never throws on hostile input', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const l of [parseQmailQread(input, NOW), parseQmailQueueOutput(input, input, 1, NOW)]) {
        expect(Array.isArray(l.messages)).toBe(true);
        assertPrintable(l.warnings);
      }
      assertPrintable(parseQmailQstat(input).warnings);
    }
  });
});
