// The exim envelope proof (issue #10): one table of spool -H files, each read
//   - by the TypeScript side (src/mta/exim/envelope.ts), as attribution reads it: from the file's
//     bytes, and from the server's dump of it (scripts/spool-dump.awk, real awk, then
//     parseEximSpoolDump);
//   - by the awk side (scripts/envelope.awk, real awk, LC_ALL=C), as the purge re-check runs it:
//     its facts, check.awk's verdicts for an auth and a bounce request, frozen.awk's answer;
// and every reading is compared with the case's expected facts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEximSpoolDump } from '../../src/mta/exim/attribution.js';
import { parseEximSpoolHeader, smtpAuthenticated, type EximSpoolHeader } from '../../src/mta/exim/envelope.js';
import { EXIM_ID } from '../../src/mta/exim/host.js';
import { purgeStdinText } from '../../src/mta/purge-stdin.js';
import { scriptSource } from '../../src/mta/script.js';
import type { PurgeRequest } from '../../src/mta/types.js';

/** What a -H file proves. `undelivered` (recipients minus the non-recipients tree) when complete. */
interface Facts {
  id: string;
  sender: string | null;
  authId: string | null;
  /** exim recorded SMTP authentication (an authenticator, or a TCP client with esmtpa/esmtpsa). */
  smtpAuth: boolean;
  frozen: boolean;
  complete: boolean;
  undelivered?: string[];
}

interface Case {
  name: string;
  /** The file is <id>-H. */
  id: string;
  file: string | Buffer;
  want: Facts | 'unreadable';
  /** The purge's auth request for want.authId does not match although the file is complete. */
  authNeverMatches?: boolean;
}

const ID96 = '1xVMhS-0001nw-2p';
const ID98 = '1xVMhP-000000001j6-03bx';
const OTHER = '1xVMhO-0001ii-2B';

/** A -H file: line 1 to 4, the envelope's hyphen lines, the tree, the count, the recipients, headers. */
function hfile(
  id: string,
  o: { sender?: string; env?: string[]; tree?: string[]; count?: string; rcpts?: string[]; headers?: string[]; first?: string } = {},
): string {
  const rcpts = o.rcpts ?? ['partner20@fabrikam.example'];
  return [
    o.first ?? `${id}-H`,
    'Debian-exim 100 102',
    o.sender ?? '<dave@example.test>',
    '1795412086 0',
    ...(o.env ?? []),
    ...(o.tree ?? ['XX']),
    o.count ?? String(rcpts.length),
    ...rcpts,
    ...(o.headers ?? ['', '049P Received: from [127.0.0.1] by mx', '034F From: <dave@example.test>']),
    '',
  ].join('\n');
}

// exim 4.96 (bookworm) and 4.98 (trixie), as the lab recorded them.
const ENV96 = [
  '-received_time_usec .876395',
  '-received_time_complete 1795412086.877713',
  '--helo_name client.lab.test',
  '-host_address [127.0.0.1]:59232',
  '-host_auth plain_server',
  '-host_auth_pubname PLAIN',
  '-interface_address [127.0.0.1]:25',
  '-received_protocol esmtpa',
  '-body_linecount 7',
  '-max_received_linelength 64',
  '--auth_id dave@example.test',
  '-host_lookup_deferred',
  '-tls_resumption A',
];
/** An -acl line and its value's lines, the length in bytes (as exim writes it: the value, then a newline). */
function acl(head: string, lines: string[]): string[] {
  return [`${head} ${Buffer.byteLength(lines.join('\n'))}`, ...lines];
}

const ENV98 = ENV96.map((l) => l.replace('plain_server', 'login_server').replace('PLAIN', 'LOGIN'));
const RCPT2 = ['partner20@fabrikam.example', 'partner33@adventure-works.example'];
const BOB = 'bob@example.test';
const base = { id: ID96, sender: 'dave@example.test', authId: 'dave@example.test', smtpAuth: true, frozen: false, complete: true };

const CASES: Case[] = [
  // Realistic.
  {
    name: '4.96 authenticated submission (tainted --auth_id)',
    id: ID96,
    file: hfile(ID96, { env: ENV96, rcpts: RCPT2 }),
    want: { ...base, undelivered: RCPT2 },
  },
  {
    name: '4.98 id and format',
    id: ID98,
    file: hfile(ID98, { env: ENV98, rcpts: RCPT2 }),
    want: { ...base, id: ID98, undelivered: RCPT2 },
  },
  {
    name: '4.96 frozen bounce, unauthenticated',
    id: ID96,
    file: hfile(ID96, {
      sender: '<>',
      env: ['-host_address [127.0.0.1]:40250', '-received_protocol esmtp', '-frozen 1795407799', '-host_lookup_deferred'],
      rcpts: ['billing562@crypto-gains.invalid'],
    }),
    want: { ...base, sender: '', authId: null, smtpAuth: false, frozen: true, undelivered: ['billing562@crypto-gains.invalid'] },
  },
  {
    name: 'plain -auth_id (not tainted)',
    id: ID98,
    file: hfile(ID98, { env: ['-host_auth dovecot_plain', `-auth_id ${BOB}`] }),
    want: { ...base, id: ID98, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'local submission: no -auth_id',
    id: ID96,
    file: hfile(ID96, { env: ['-ident www-data', '-received_protocol local'] }),
    want: { ...base, authId: null, smtpAuth: false, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: "local submission: -auth_id is the caller's login, not an SMTP AUTH account",
    id: ID96,
    file: hfile(ID96, { env: ['-ident bob', '-received_protocol local', `-auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, smtpAuth: false, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'a TCP client without an authenticated protocol (esmtp), -auth_id lookalike from elsewhere',
    id: ID96,
    file: hfile(ID96, { env: ['-host_address [192.0.2.7]:4000', '-received_protocol esmtp', `-auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, smtpAuth: false, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'esmtpsa from a TCP client, no -host_auth line: authenticated',
    id: ID96,
    file: hfile(ID96, { env: ['-host_address [192.0.2.7]:4000', '-received_protocol ESMTPSA', `-auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'delivered recipients (non-recipients tree) are not undelivered',
    id: ID96,
    file: hfile(ID96, {
      env: ENV96,
      tree: ['YY done1@example.net', 'NN done0@example.net', 'NN done2@example.net'],
      rcpts: ['victim1@example.net', 'done0@example.net', 'done1@example.net', 'done2@example.net'],
    }),
    want: { ...base, undelivered: ['victim1@example.net'] },
  },
  {
    name: 'recipient lines with errors_to / DSN fields (4.x "#3", "#1", old "a,pno,b" and " pno")',
    id: ID98,
    file: hfile(ID98, {
      sender: '<>',
      tree: ['NN done@x.example'],
      rcpts: [
        'a@b rfc822;x@y 10,2 err@z 5,1#3',
        'victim 2@example.net  0,0  0,-1#3',
        'c@d err@z 5,1#1',
        'e@f 0,3,0',
        'g@h 3',
        'done@x.example 0,1,0',
        'odd@x errs@x 99,0#1',
      ],
    }),
    want: {
      ...base,
      id: ID98,
      sender: '',
      authId: null,
      smtpAuth: false,
      undelivered: ['a@b', 'victim 2@example.net', 'c@d', 'e@f', 'g@h', 'odd@x errs@x 99,0#1'],
    },
  },
  { name: 'no recipients left', id: ID96, file: hfile(ID96, { env: ENV96, count: '0', rcpts: [] }), want: { ...base, undelivered: [] } },

  // -acl values: skipped by their length in bytes, newlines and lookalike lines included.
  {
    name: '-aclc value with blank lines and -auth_id lookalikes',
    id: ID96,
    file: hfile(ID96, {
      env: [
        '-host_auth plain_server',
        ...acl('-aclc _note', ['first', '', '-auth_id victim@example.test', '-frozen 1', '']),
        `--auth_id ${BOB}`,
      ],
    }),
    want: { ...base, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: '-aclm value in UTF-8 (bytes, not characters)',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', ...acl('-aclm _subj', ['Ünïcödé ✓ — naïve', '-auth_id x']), `-auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: '-aclc value with bytes that are not UTF-8 (a decoder would change their count)',
    id: ID96,
    file: Buffer.concat([
      Buffer.from(`${ID96}-H\nDebian-exim 100 102\n<a@b>\n1 0\n-host_auth plain_server\n-aclc _raw 36\n`),
      Buffer.from([0xff, 0xfe, 0xc3, 0xe2, 0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from(`\n-auth_id victim\n--auth_id ${BOB}\nXX\n1\nu@c\n\nheaders\n`),
    ]),
    want: { ...base, sender: 'a@b', authId: BOB, undelivered: ['u@c'] },
  },
  {
    name: 'old -acl <index> <length> form',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', ...acl('-acl 11', ['-auth_id victim@x']), `-auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'a length that ends inside a line: the rest is read as a line (exim reads count+1 bytes)',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', '-aclc x 3', '', '', '', `--auth_id ${BOB}`] }),
    want: { ...base, authId: BOB, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'a length that swallows the -auth_id line',
    id: ID96,
    file: hfile(ID96, {
      env: ['-host_auth plain_server', `-aclc x ${1 + Buffer.byteLength(`-auth_id ${BOB}`)}`, '', `-auth_id ${BOB}`, '-auth_id victim'],
    }),
    want: { ...base, authId: 'victim', undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: '-acl line without a length: exim refuses the file',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain', '-aclc _x', `-auth_id ${BOB}`] }),
    want: { ...base, authId: null, complete: false },
  },
  {
    name: 'a length past the end of the file',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', `-auth_id ${BOB}`, '-aclc _x 99999'] }),
    want: { ...base, authId: BOB, complete: false },
  },

  // Hostile: text that looks like an -auth_id line outside the envelope, odd -auth_id lines.
  {
    name: 'headers that look like envelope lines',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain'], headers: ['', '-auth_id victim@example.test', '-frozen 1', '021T To: -auth_id x'] }),
    want: { ...base, authId: null, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'recipients and tree nodes that look like -auth_id lines',
    id: ID96,
    file: hfile(ID96, {
      sender: '<>',
      env: ['-host_auth plain'],
      tree: ['NN -auth_id victim@x'],
      rcpts: ['-auth_id victim@x', '-auth_id evil@x', '__MAILSWEEP_H__ /var/spool/exim4/input/1xVLbD-0000DD-0D-H'],
    }),
    want: {
      ...base,
      sender: '',
      authId: null,
      undelivered: ['-auth_id evil@x', '__MAILSWEEP_H__ /var/spool/exim4/input/1xVLbD-0000DD-0D-H'],
    },
  },
  {
    name: 'two -auth_id lines: the last one counts (as exim keeps it)',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', `-auth_id ${BOB}`, '--auth_id alice@example.test'] }),
    want: { ...base, authId: 'alice@example.test', undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'near misses: "-auth_id" without a value, "---auth_id", "-auth_idx", "-frozenx"',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', '-auth_id', `---auth_id ${BOB}`, `-auth_idx ${BOB}`, '-frozenx 1'] }),
    want: { ...base, authId: null, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'an empty -auth_id value',
    id: ID96,
    file: hfile(ID96, { env: ['-host_auth plain_server', '-auth_id '] }),
    want: { ...base, authId: '', undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'CR is part of a line (a CR-ending auth id, sender, recipient are not the plain ones)',
    id: ID96,
    file: hfile(ID96, { sender: '<a@b\r>', env: ['-host_auth plain_server', `-auth_id ${BOB}\r`], rcpts: ['u@c\r'] }),
    want: { ...base, sender: 'a@b\r', authId: `${BOB}\r`, undelivered: ['u@c\r'] },
  },
  {
    name: 'hostile sender and auth id bytes (ESC, quotes, $(…), U+2028) compared exactly',
    id: ID96,
    file: hfile(ID96, {
      sender: `<\u001b[2J'"$(id)\u2028@x>`,
      env: ['-host_auth plain_server', `-auth_id b'o"b\u001b$(reboot)\u2028@x`],
      tree: ['NN d\u2028@x'],
      rcpts: ['d\u2028@x', 'e\u2028@x'],
    }),
    want: { ...base, sender: `\u001b[2J'"$(id)\u2028@x`, authId: `b'o"b\u001b$(reboot)\u2028@x`, undelivered: ['e\u2028@x'] },
  },
  {
    name: 'an auth id that is not UTF-8 never matches a request (requests are UTF-8)',
    id: ID96,
    file: Buffer.concat([
      Buffer.from(`${ID96}-H\nu 1 1\n<a@b>\n1 0\n-host_auth plain_server\n-auth_id b`),
      Buffer.from([0xff]),
      Buffer.from('ob\nXX\n1\nu@c\n\n'),
    ]),
    want: { ...base, sender: 'a@b', authId: 'b\ufffdob', undelivered: ['u@c'] },
    authNeverMatches: true,
  },

  // Files that are not (wholly) understood, or not this message's.
  {
    name: 'first line names another message',
    id: ID96,
    file: hfile(ID96, { first: `${OTHER}-H`, env: ENV96 }),
    want: { ...base, id: OTHER, undelivered: ['partner20@fabrikam.example'] },
  },
  {
    name: 'sender line without brackets',
    id: ID96,
    file: hfile(ID96, { sender: 'dave@example.test', env: ENV96 }),
    want: { ...base, sender: null, undelivered: ['partner20@fabrikam.example'] },
  },
  { name: 'tree not understood', id: ID96, file: hfile(ID96, { env: ENV96, tree: ['YX a@b'] }), want: { ...base, complete: false } },
  {
    name: 'tree cut short',
    id: ID96,
    file: hfile(ID96, { env: ENV96, tree: ['YN a@b'], count: '1', rcpts: ['x@y'] }),
    want: { ...base, complete: false },
  },
  { name: 'recipient count with a space', id: ID96, file: hfile(ID96, { env: ENV96, count: ' 1' }), want: { ...base, complete: false } },
  {
    name: 'fewer recipients than counted',
    id: ID96,
    file: `${ID96}-H\nu 1 1\n<a@b>\n1 0\n-host_auth plain_server\n-auth_id ${BOB}\nXX\n3\nx@y\n`,
    want: { ...base, sender: 'a@b', authId: BOB, complete: false },
  },
  {
    name: 'ends inside the envelope',
    id: ID96,
    file: `${ID96}-H\nu 1 1\n<a@b>\n1 0\n-host_auth plain_server\n-auth_id ${BOB}\n`,
    want: { ...base, sender: 'a@b', authId: BOB, complete: false },
  },
  { name: 'empty file', id: ID96, file: '', want: 'unreadable' },
];

const tmp = mkdtempSync(join(tmpdir(), 'mailsweep-exim-proof-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Servers run mawk (Debian), gawk (RHEL, cPanel) or busybox awk: every one on this machine reads
// the table (the system's awk at least).
const AWKS: string[][] = [['awk'], ['gawk'], ['mawk'], ['busybox', 'awk']].filter(
  (cmd) => spawnSync(cmd[0]!, [...cmd.slice(1), 'BEGIN { exit 0 }'], { encoding: 'utf8' }).status === 0,
);
let awkCmd: string[] = ['awk'];

function awk(program: string, args: string[], env: Record<string, string> = {}): { out: string; status: number | null } {
  const r = spawnSync(awkCmd[0]!, [...awkCmd.slice(1), program, ...args], {
    encoding: 'utf8',
    env: { LC_ALL: 'C', PATH: process.env.PATH, ...env },
  });
  expect(r.stderr).toBe('');
  return { out: r.stdout, status: r.status };
}

const unhex = (h: string): string => Buffer.from(h, 'hex').toString('utf8');
const ID_LINE = new RegExp(`^(${EXIM_ID.source})-H$`);

function tsFacts(h: EximSpoolHeader): Facts | 'unreadable' {
  if (h.warnings.includes('spool header: empty input')) return 'unreadable';
  const badSender = h.warnings.some((w) => w.includes('sender line not understood'));
  return {
    id: h.id,
    sender: badSender ? null : h.sender,
    authId: h.authId ?? null,
    smtpAuth: smtpAuthenticated(h),
    frozen: h.frozen,
    complete: h.complete,
    ...(h.complete ? { undelivered: h.recipients.filter((r) => !h.delivered.includes(r)) } : {}),
  };
}

// The awk side's facts: envelope.awk's variables, every value as hex.
const DRIVER = `${scriptSource('shared/scripts/hex.awk')}
${scriptSource('exim/scripts/envelope.awk')}
BEGIN {
  if (!envelope(ARGV[1])) { print "unreadable"; exit }
  print "line1", hx(ev_line1); print "sender", hx(ev_sender); print "auth", ev_hasauth, hx(ev_auth)
  print "frozen", ev_frozen; print "complete", ev_complete() ? 1 : 0; print "smtpauth", ev_smtpauth() ? 1 : 0
  n = ev_undelivered(); for (k = 1; k <= n; k++) print "und", hx(ev_und[k])
}`;

function awkFacts(path: string): Facts | 'unreadable' {
  const { out } = awk(DRIVER, [path]);
  if (out === 'unreadable\n') return 'unreadable';
  const v = new Map<string, string[]>();
  const und: string[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const [k, ...rest] = line.split(' ');
    if (k === 'und') und.push(unhex(rest[0] ?? ''));
    else v.set(k!, rest);
  }
  const sender = /^<(.*)>$/s.exec(unhex(v.get('sender')?.[0] ?? ''));
  const complete = v.get('complete')?.[0] === '1';
  return {
    id: ID_LINE.exec(unhex(v.get('line1')?.[0] ?? ''))?.[1] ?? '',
    sender: sender ? (sender[1] ?? '') : null,
    authId: v.get('auth')?.[0] === '1' ? unhex(v.get('auth')?.[1] ?? '') : null,
    smtpAuth: v.get('smtpauth')?.[0] === '1',
    frozen: v.get('frozen')?.[0] === '1',
    complete,
    ...(complete ? { undelivered: und } : {}),
  };
}

/** check.awk, the purge re-check, on one request: its verdict line for the id. */
function checkVerdict(spool: string, id: string, req: PurgeRequest): string {
  const reqFile = join(spool, 'request');
  writeFileSync(reqFile, purgeStdinText(req, [id]));
  const kind = req.match.kind;
  const { out } = awk(scriptSource('exim/scripts/check.awk'), [reqFile], { MS_SP: spool, MS_KIND: kind, MS_OK: join(spool, 'ok') });
  return out.replace(`__MAILSWEEP_PURGE__ ${id} `, '').trim();
}

function verdictIs(verdict: string, match: boolean, what: string): void {
  if (match) expect(verdict, what).toBe('match');
  else expect(verdict, what).toMatch(/^skip /);
}

describe.each(AWKS.map((cmd) => [cmd.join(' '), cmd] as const))('the exim envelope proof: one table, TypeScript and %s', (name, cmd) => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    awkCmd = cmd;
    const spool = join(tmp, `${name.replace(/ /g, '-')}-${i}`);
    mkdirSync(join(spool, 'input'), { recursive: true });
    const path = join(spool, 'input', `${c.id}-H`);
    writeFileSync(path, c.file);
    const bytes = readFileSync(path);

    // TypeScript: the file's bytes, and its text.
    expect(tsFacts(parseEximSpoolHeader(bytes)), 'TypeScript').toEqual(c.want);
    if (typeof c.file === 'string' || !c.file.includes(0xff))
      expect(tsFacts(parseEximSpoolHeader(bytes.toString('utf8'))), 'TypeScript (text)').toEqual(c.want);

    // TypeScript through the server's dump (the attributed queue): a file naming another id is not used.
    const dump = parseEximSpoolDump(awk(scriptSource('exim/scripts/spool-dump.awk'), [path]).out);
    const h = dump.headers.get(c.id);
    if (c.want === 'unreadable' || c.want.id !== c.id) expect(h).toBeUndefined();
    else expect(h && tsFacts(h), 'TypeScript (dump)').toEqual(c.want);

    // awk: the envelope's facts.
    expect(awkFacts(path), 'awk').toEqual(c.want);

    // awk: the purge re-check's verdicts, and the hold's frozen test.
    const w = c.want === 'unreadable' ? null : c.want;
    const usable = w !== null && w.complete && w.id === c.id;
    const auth = w?.authId ? w.authId : BOB;
    const authVerdict = checkVerdict(spool, c.id, { ids: [c.id], match: { kind: 'auth', authId: auth }, mode: 'delete' });
    verdictIs(authVerdict, usable && !!w?.authId && w.smtpAuth && !c.authNeverMatches, 'check.awk auth');
    expect(
      checkVerdict(spool, c.id, { ids: [c.id], match: { kind: 'auth', authId: 'someone-else@example.test' }, mode: 'delete' }),
    ).toMatch(/^skip /);
    const rcpts = w?.undelivered ?? ['partner20@fabrikam.example'];
    const bounce = checkVerdict(spool, c.id, {
      ids: [c.id],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: { [c.id]: { sender: '', recipients: rcpts } },
    });
    verdictIs(bounce, usable && w?.sender === '' && rcpts.length > 0, 'check.awk bounce');
    expect(awk(scriptSource('exim/scripts/frozen.awk'), [path]).status === 0, 'frozen.awk').toBe(w?.frozen === true);
  });
});

describe('the exim envelope proof table', () => {
  it('runs through the system awk at least', () => {
    expect(AWKS[0]).toEqual(['awk']);
  });

  it('covers both formats, hostile lines and unreadable files', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(CASES.filter((c) => c.want !== 'unreadable' && !c.want.complete).length).toBeGreaterThanOrEqual(6);
    expect(CASES.filter((c) => c.want !== 'unreadable' && c.want.complete && c.want.authId === BOB).length).toBeGreaterThanOrEqual(6);
  });
});
