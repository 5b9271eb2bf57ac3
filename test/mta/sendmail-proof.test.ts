// The sendmail AUTH→from join (src/mta/sendmail/join.ts, the rule; scripts/join.awk, its twin
// on the server): ONE table of log excerpts, each run through the TypeScript rule and through
// the real awk (LC_ALL=C), both compared with the case's verdict (queue id → authid, or null).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bareIp } from '../../src/logs/line.js';
import { mtaHost } from '../../src/mta/host.js';
import { scriptSource } from '../../src/mta/script.js';
import { parseSendmailAuthLog } from '../../src/mta/sendmail/attribution.js';
import { sendmailJoin } from '../../src/mta/sendmail/join.js';
import { parseSendmailLog } from '../../src/mta/sendmail/logs.js';
import { sendmailPurge } from '../../src/mta/sendmail/ops.js';
import { HOSTILE_INPUTS, runPlan, script, tmp } from './helpers.js';

type Verdict = Record<string, string | null>;
interface Case {
  name: string;
  lines: string[];
  expect: Verdict;
}

const LAB = readFileSync('test/fixtures/lab/bookworm-sendmail/mail.log', 'utf8').split('\n');
const LOGS = readFileSync('test/fixtures/logs/sendmail/maillog', 'utf8').split('\n');
const P = 'Nov 23 04:23:06 mx sm-mta';
const auth = (pid: number, relay: string, id = 'bob@example.test', host = 'mx'): string =>
  `Nov 23 04:23:06 ${host} sm-mta[${pid}]: AUTH=server, relay=${relay}, authid=${id}, mech=PLAIN, bits=0`;
const from = (pid: number, qid: string, relay: string, proto: string | null = 'ESMTPA', host = 'mx'): string =>
  `Nov 23 04:23:07 ${host} sm-mta[${pid}]: ${qid}: from=<s@x.invalid>, size=1, class=0, nrcpts=1, msgid=<1@x>${proto === null ? '' : `, proto=${proto}`}, daemon=MTA-v4, relay=${relay}`;
const LH = 'localhost [127.0.0.1]';

const CASES: Case[] = [
  // Real sendmail 8.17 (the lab's bookworm-sendmail and the parser's fixture).
  { name: 'lab: IPv4 localhost session', lines: LAB.slice(3, 5), expect: { '6AN7FoWN029041': 'alice@example.test' } },
  { name: 'lab: IPv6 ::1 written IPv6:0:0:0:0:0:0:0:1', lines: LAB.slice(7, 9), expect: { '6AN7Fona029061': 'alice@example.test' } },
  {
    // The lab's seeding: bob (compromised) sends spam from forged *.invalid senders, alice, carol
    // and dave their own mail, 20 unauthenticated null-sender bounces (proto=ESMTP).
    name: 'lab: the whole log (8.17.1.9, 115 messages), each its own session',
    lines: LAB,
    expect: Object.fromEntries(
      LAB.flatMap((l) => {
        const m = / ([0-9A-Za-z]{14}): from=<([^>]*)>/.exec(l);
        if (!m) return [];
        const s = m[2]!;
        return [[m[1]!, s === '' ? null : s.endsWith('.invalid') ? 'bob@example.test' : s.endsWith('@shop.test') ? 'carol@shop.test' : s]];
      }),
    ),
  },
  {
    name: 'fixture maillog: STARTTLS, sessions across midnight, IPv6, pid reuse, local submission, nrcpts=0',
    lines: LOGS,
    expect: {
      '5BVNe1Zk003001': 'bob',
      '5BVNxwA1003020': 'alice@example.com',
      '6010001A003020': 'alice@example.com',
      '6010003A003021': 'alice@example.com',
      '6010005A003023': null,
      '6010100A003030': null,
      '6010200A003040': null,
      '6010300A003020': null,
      '6010401A003050': 'carol',
    },
  },
  // One session, several messages; the pid reused.
  {
    name: 'one session, two messages; a reused pid: unauthenticated (proto ESMTP) or another relay is nobody',
    lines: [
      auth(407, LH),
      from(407, '6AN4N6iZ000407', LH),
      from(407, '6AN4N6iY000407', LH),
      from(407, '6AN4N9aa000407', LH, 'ESMTP'),
      from(407, '6AN4N9bb000407', 'other [192.0.2.9]'),
    ],
    expect: { '6AN4N6iZ000407': 'bob@example.test', '6AN4N6iY000407': 'bob@example.test', '6AN4N9aa000407': null, '6AN4N9bb000407': null },
  },
  {
    name: 'a reused pid that authenticates again: the new AUTH line decides from then on',
    lines: [auth(500, LH), from(500, '6AN4N6aa000500', LH), auth(500, LH, 'carol@shop.test'), from(500, '6AN4N6bb000500', LH)],
    expect: { '6AN4N6aa000500': 'bob@example.test', '6AN4N6bb000500': 'carol@shop.test' },
  },
  {
    name: 'an AUTH line not of the shape ends the session before it and joins nothing',
    lines: [auth(501, LH), `${P}[501]: AUTH=server, relay=${LH}, authid=carol@shop.test, mech=PLAIN`, from(501, '6AN4N6cc000501', LH)],
    expect: { '6AN4N6cc000501': null },
  },
  {
    name: 'an AUTH line with a queue id is not one (8.17 logs NOQID)',
    lines: [
      `${P}[502]: 6AN4N6dd000502: AUTH=server, relay=${LH}, authid=bob@example.test, mech=PLAIN, bits=0`,
      from(502, '6AN4N6dd000502', LH),
    ],
    expect: { '6AN4N6dd000502': null },
  },
  {
    name: 'the latest from= of a queue id wins (id reused by an unauthenticated client)',
    lines: [auth(503, LH), from(503, '6AN4N6ee000503', LH), from(504, '6AN4N6ee000503', LH, 'ESMTP')],
    expect: { '6AN4N6ee000503': null },
  },
  {
    name: 'the latest from= of a queue id wins (the other way round)',
    lines: [from(505, '6AN4N6ff000505', LH, 'ESMTP'), auth(505, LH), from(505, '6AN4N6ff000505', LH)],
    expect: { '6AN4N6ff000505': 'bob@example.test' },
  },
  {
    name: 'two hosts in one log, the same pid: another session',
    lines: [auth(506, LH, 'bob@example.test', 'a'), from(506, '6AN4N6gg000506', LH, 'ESMTPA', 'b')],
    expect: { '6AN4N6gg000506': null },
  },
  // Relays.
  {
    name: 'relay mismatch (same pid)',
    lines: [auth(23114, 'other [10.0.0.9]'), from(23114, '6AN4mY2K023114', LH)],
    expect: { '6AN4mY2K023114': null },
  },
  {
    name: 'the same address under another host name: the address decides',
    lines: [auth(510, 'a.example [192.0.2.1]'), from(510, '6AN4N7aa000510', '[192.0.2.1]')],
    expect: { '6AN4N7aa000510': 'bob@example.test' },
  },
  {
    name: '(may be forged) on one side only',
    lines: [auth(511, 'x.example [203.0.113.21] (may be forged)'), from(511, '6AN4N7bb000511', 'x.example [203.0.113.21]')],
    expect: { '6AN4N7bb000511': 'bob@example.test' },
  },
  {
    name: 'IPv6 written two ways',
    lines: [auth(512, '[IPv6:2001:DB8:0:0:0:0:0:1]'), from(512, '6AN4N7cc000512', 'h.example [IPv6:2001:db8::1]')],
    expect: { '6AN4N7cc000512': 'bob@example.test' },
  },
  {
    name: 'IPv4-mapped IPv6 is its IPv4',
    lines: [auth(513, '[IPv6:::ffff:192.0.2.7]'), from(513, '6AN4N7dd000513', '[192.0.2.7]')],
    expect: { '6AN4N7dd000513': 'bob@example.test' },
  },
  {
    name: 'IPv6 neighbours differ',
    lines: [auth(514, '[IPv6:2001:db8::1]'), from(514, '6AN4N7ee000514', '[IPv6:2001:db8::2]')],
    expect: { '6AN4N7ee000514': null },
  },
  {
    name: 'not an address in the brackets: the text decides',
    lines: [
      auth(515, '[UNIX: localhost]'),
      from(515, '6AN4N7ff000515', '[UNIX: localhost]'),
      auth(516, 'a [IPv6:1::2::3]'),
      from(516, '6AN4N7gg000516', 'a [IPv6:1:0:0:2::3]'),
    ],
    expect: { '6AN4N7ff000515': 'bob@example.test', '6AN4N7gg000516': null },
  },
  {
    name: 'local submission relays compare as text',
    lines: [
      auth(517, 'www-data@localhost'),
      from(517, '6AN4N7hh000517', 'www-data@localhost', null),
      from(517, '6AN4N7ii000517', 'root@localhost', null),
    ],
    expect: { '6AN4N7hh000517': 'bob@example.test', '6AN4N7ii000517': null },
  },
  {
    name: 'a relay with a comma (forged ident) names no client',
    lines: [auth(518, 'x, relay=[192.0.2.1]@h [192.0.2.1]'), from(518, '6AN4N7jj000518', 'x, relay=[192.0.2.1]@h [192.0.2.1]')],
    expect: { '6AN4N7jj000518': null },
  },
  {
    name: 'a from= line without relay joins nothing',
    lines: [auth(519, LH), `${P}[519]: 6AN4N7kk000519: from=<s@x>, size=1, class=0, nrcpts=1, proto=ESMTPA`],
    expect: { '6AN4N7kk000519': null },
  },
  // Protocols.
  {
    name: 'protocols: ESMTPSA, esmtpa, UTF8SMTPSA and none join; ESMTPS and an empty one do not',
    lines: [
      auth(520, LH),
      from(520, '6AN4N8aa000520', LH, 'ESMTPSA'),
      from(520, '6AN4N8bb000520', LH, 'esmtpa'),
      from(520, '6AN4N8cc000520', LH, 'UTF8SMTPSA'),
      from(520, '6AN4N8dd000520', LH, null),
      from(520, '6AN4N8ee000520', LH, 'ESMTPS'),
      from(520, '6AN4N8ff000520', LH, ''),
    ],
    expect: {
      '6AN4N8aa000520': 'bob@example.test',
      '6AN4N8bb000520': 'bob@example.test',
      '6AN4N8cc000520': 'bob@example.test',
      '6AN4N8dd000520': 'bob@example.test',
      '6AN4N8ee000520': null,
      '6AN4N8ff000520': null,
    },
  },
  // Hostile lines.
  {
    name: 'forged fields inside the sender and msgid stay data (RFC 3339 stamps, RHEL name)',
    lines: [
      `2026-11-23T04:23:06.123456+00:00 mx sendmail[9]: AUTH=server, relay=[192.0.2.1], authid=carol@shop.test, mech=LOGIN, bits=0`,
      `2026-11-23T04:23:07.000001+00:00 mx sendmail[9]: 6AN4N6zz000009: from=<"x, proto=ESMTP, daemon=y, relay=evil [6.6.6.6]"@z>, size=1, class=0, nrcpts=1, msgid=<, relay=a [1.1.1.1]>, proto=ESMTPSA, daemon=MTA, relay=[192.0.2.1]`,
      `Nov 23 04:23:06 mx postfix/smtpd[9]: AUTH=server, relay=[192.0.2.1], authid=evil, mech=LOGIN, bits=0`,
    ],
    expect: { '6AN4N6zz000009': 'carol@shop.test' },
  },
  {
    name: 'a forged sender that looks like an AUTH line; another program quoting sendmail lines',
    lines: [
      auth(20741, LH, 'alice@example.test'),
      `${P}[20741]: 6AN4loPM020741: from=<x, relay=localhost [127.0.0.1], authid=bob@example.test, mech=PLAIN>, size=1, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
      `Nov 23 04:47:50 mx other[1]: 6AN4loPM020741: from=<x> sm-mta[20741]: AUTH=server, relay=localhost [127.0.0.1], authid=bob@example.test, mech=PLAIN, bits=0`,
      `Nov 23 04:47:50 mx other[1]: x sm-mta[20741]: 6AN4loPM020741: from=<x>, size=1, proto=ESMTP, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
    ],
    expect: { '6AN4loPM020741': 'alice@example.test' },
  },
  {
    name: 'authids: the last ", mech=" ends one; UTF-8 bytes pass; an empty one is nobody',
    lines: [
      `${P}[530]: AUTH=server, relay=${LH}, authid=we, mech=ird, mech=PLAIN, bits=0`,
      from(530, '6AN4N9aa000530', LH),
      auth(531, LH, 'jürgen@example.test'),
      from(531, '6AN4N9bb000531', LH),
      auth(532, LH, ''),
      from(532, '6AN4N9cc000532', LH),
    ],
    expect: { '6AN4N9aa000530': 'we, mech=ird', '6AN4N9bb000531': 'jürgen@example.test', '6AN4N9cc000532': null },
  },
  {
    name: 'line shapes: CR and blanks at the end, no host, a facility field, double-spaced dates',
    lines: [
      `${auth(540, LH)}\r`,
      `${from(540, '6AN4NAaa000540', LH)} \r`,
      'sm-mta[541]: AUTH=server, relay=[192.0.2.5], authid=dave@example.test, mech=PLAIN, bits=0',
      'sm-mta[541]: 6AN4NAbb000541: from=<a@b>, size=1, class=0, nrcpts=1, proto=ESMTPA, relay=[192.0.2.5]',
      `Jan  1 00:00:02 mx <mail.info> sm-mta[542]: AUTH=server, relay=${LH}, authid=carol@shop.test, mech=PLAIN, bits=0`,
      `Jan  1 00:00:03 mx <mail.info> sm-mta[542]: 6AN4NAcc000542: from=<a@b>, size=1, class=0, nrcpts=1, proto=ESMTPA, relay=${LH}`,
    ],
    expect: { '6AN4NAaa000540': 'bob@example.test', '6AN4NAbb000541': 'dave@example.test', '6AN4NAcc000542': 'carol@shop.test' },
  },
  {
    name: 'not sendmail lines: a 7-character id, an 11-digit pid, another program, no tag',
    lines: [
      auth(550, LH),
      from(550, '6AN4NAd', LH),
      `${P}[12345678901]: AUTH=server, relay=${LH}, authid=x, mech=PLAIN, bits=0`,
      `Nov 23 04:23:07 mx sm-mta[12345678901]: 6AN4NAee000551: from=<a@b>, relay=${LH}`,
      `Nov 23 04:23:07 mx smtp[550]: 6AN4NAff000550: from=<a@b>, proto=ESMTPA, relay=${LH}`,
      `6AN4NAgg000550: from=<a@b>, proto=ESMTPA, relay=${LH}`,
    ],
    expect: {},
  },
  ...HOSTILE_INPUTS.map((h, i) => ({ name: `hostile input ${i}: no verdict`, lines: h.split('\n'), expect: {} })),
];

/** The TypeScript rule's verdicts. */
function viaTs(lines: string[]): Verdict {
  return Object.fromEntries([...sendmailJoin(lines)].map(([q, a]) => [q, a ?? null]));
}

/** The awk twin's verdicts (the real script, LC_ALL=C). */
function viaAwk(lines: string[], env: Record<string, string> = {}): Verdict {
  const r = spawnSync('awk', [scriptSource('sendmail/scripts/join.awk')], {
    input: lines.length === 0 ? '' : `${lines.join('\n')}\n`,
    encoding: 'utf8',
    env: { LC_ALL: 'C', PATH: process.env.PATH, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [q, h] = l.split(' ');
        return [q!, h === '-' ? null : Buffer.from(h!, 'hex').toString('utf8')];
      }),
  );
}

describe('the sendmail AUTH→from join: one table, TypeScript and awk', () => {
  it.each(CASES.map((c) => [c.name, c]))('%s', (_name, c) => {
    expect(viaTs(c.lines)).toEqual(c.expect);
    expect(viaAwk(c.lines)).toEqual(c.expect);
  });

  it('the awk reports only the wanted ids when MS_WANT names a file', () => {
    const f = join(tmp('ms-smjoin-'), 'ids');
    writeFileSync(f, '6AN4N6iY000407\n6AN4N9aa000407\n');
    const c = CASES.find((x) => x.name.startsWith('one session, two messages'))!;
    expect(viaAwk(c.lines, { MS_WANT: f })).toEqual({ '6AN4N6iY000407': 'bob@example.test', '6AN4N9aa000407': null });
  });
});

// The rule's three users: the log parser (scan evidence), the queue attribution and the purge's
// delete-time re-check (purge.sh running join.awk against a fake queue and a stub sendmail).
function viaPurge(c: Case, authId: string): string[] {
  const d = tmp('ms-smjoin-');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  mkdirSync(join(d, 'mq'));
  const ids = Object.keys(c.expect);
  for (const id of ids) writeFileSync(join(d, 'mq', `qf${id}`), 'V8\nT1795409270\nS<s@x.invalid>\nRPFD:<a@b>\nH??From: s\n.\n');
  writeFileSync(join(d, 'mail.log'), `${c.lines.join('\n')}\n`);
  // sendmail -Q<reason> -qI<id>…: quarantine (qf -> hf with the reason's q line).
  script(
    join(bin, 'sendmail'),
    `r=''; for a in "$@"; do case $a in -Q*) r=\${a#-Q};; esac; done
for a in "$@"; do case $a in -qI*) id=\${a#-qI}; { cat "${d}/mq/qf$id"; echo "q$r"; } >"${d}/mq/hf$id"; rm -f "${d}/mq/qf$id";; esac; done`,
  );
  const ctx = mtaHost(join(bin, 'sendmail'), {
    queue_directory: join(d, 'mq'),
    mail_log: join(d, 'mail.log'),
    mta_pid_file: join(d, 'none.pid'),
  });
  const shown = Object.fromEntries(ids.map((id) => [id, { sender: 's@x.invalid' }]));
  const { result } = runPlan(sendmailPurge(ctx, { ids, match: { kind: 'auth', authId }, mode: 'delete', expect: shown }), d, bin);
  expect(
    readdirSync(join(d, 'mq'))
      .filter((f) => f.startsWith('qf'))
      .sort(),
  ).toEqual(
    ids
      .filter((id) => !result.done.includes(id))
      .map((id) => `qf${id}`)
      .sort(),
  );
  return [...result.done].sort();
}

describe('the log parser, the attribution and the purge give the verdicts of the table', () => {
  it.each(CASES.filter((c) => Object.keys(c.expect).length > 0).map((c) => [c.name, c]))('%s', (_name, c) => {
    const attributed = parseSendmailAuthLog(c.lines.join('\n')).byQid;
    expect(Object.fromEntries([...attributed].map(([q, r]) => [q, r.authId ?? null]))).toEqual(c.expect);
    // The parser reports every accepted message (nrcpts > 0 and the whole logsender shape).
    const parsed = new Map(
      parseSendmailLog(c.lines.join('\n'), { nowSeconds: 1795408000 }).submissions.flatMap((s) =>
        s.queueId ? [[s.queueId, s.authId ?? null] as const] : [],
      ),
    );
    for (const [q, a] of parsed) expect([q, a]).toEqual([q, c.expect[q]]);
    const who = [...new Set(Object.values(c.expect).filter((a): a is string => a !== null))][0] ?? 'bob@example.test';
    expect(viaPurge(c, who)).toEqual(
      Object.keys(c.expect)
        .filter((q) => c.expect[q] === who)
        .sort(),
    );
  });
});

describe('relay addresses: the awk writes them as bareIp does', () => {
  const ADDRS = [
    '127.0.0.1',
    '999.1.1.1',
    '1234.1.1.1',
    'IPv6:0:0:0:0:0:0:0:1',
    'ipv6:2001:DB8::1',
    '2001:db8:0:0:1:0:0:1',
    '1:0:0:2:0:0:0:3',
    '1:2:3:4:5:6:7::',
    '::',
    '::ffff:192.0.2.1',
    '::ffff:0:0',
    '::1.2.3.4',
    '1::1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    'fe80::1%eth0',
    'fe80::1%',
    '1::2:3:4:5:6:7:8',
    ':::',
    '1::2::3',
    ':1::2',
    '1:',
    '12345::1',
    '1:2:3:4:5:6:1.2.3.04',
    '1:2:3:4:5:6:7:8:9',
    'g::1',
    'localhost',
    '',
  ];
  it.each(ADDRS.map((a) => [a]))('%j', (a) => {
    // A relay "[addr]" on both lines of a session joins when the address is one (or the same text).
    const lines = [auth(600, `[${a}]`), from(600, '6AN4NZzz000600', `[${a}]`)];
    expect(viaAwk(lines)).toEqual(viaTs(lines));
    // The canonical form itself: the twin's ipaddr() against bareIp.
    const r = spawnSync('awk', [`${scriptSource('sendmail/scripts/join.awk')}\nBEGIN { print ipaddr(ENVIRON["A"]) }`], {
      input: '',
      encoding: 'utf8',
      env: { LC_ALL: 'C', PATH: process.env.PATH, A: a },
    });
    expect(r.stdout).toBe(`${bareIp(a) ?? ''}\n`);
  });
});
