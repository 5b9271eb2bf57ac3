// The postfix submission proof (src/mta/postfix/proof.ts and its awk twin scripts/proof.awk): one
// table of `postcat -e` dumps, each run through the TypeScript side (postcatProof, and the
// attribution path parsePostcatEnvelopes + attributePostfixMessages) and through the real awk
// (proof.awk, and the purge's verdict.awk as the purge script runs it: LC_ALL=C, od hex input),
// all compared with the case's expected verdict.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attributePostfixMessages, parsePostcatEnvelopes } from '../../src/mta/postfix/attribution.js';
import { POSTFIX_VERDICT_AWK } from '../../src/mta/postfix/ops.js';
import { postcatProof } from '../../src/mta/postfix/proof.js';
import { purgeStdinText } from '../../src/mta/purge-stdin.js';
import { scriptSource } from '../../src/mta/script.js';
import type { QueueMessage } from '../../src/mta/types.js';

const BOB = 'bob@example.test';
const ALICE = 'alice@example.test';

type Expect = { why: string } | { authId: string | null; sender: string; recipients: string[] };
interface Case {
  name: string;
  id: string;
  /** postcat's output lines (a value holding "\n" prints several). */
  lines: string[];
  expect: Expect;
  /** The purge's re-check for kind auth, bob@example.test, no expected sender. */
  asBob: string;
  /**
   * The attribution's warning where the stream of many files reads differently from one file's
   * dump: a file is what lies between ENVELOPE RECORDS markers.
   */
  stream?: string;
}

/** A dump as postfix 3.7 prints it with -e: markers naming `path`, the 3.7 records around `body`. */
function dump(path: string, body: string[], opts: { content?: string[]; extracted?: string[] } = {}): string[] {
  return [
    `*** ENVELOPE RECORDS ${path} ***`,
    'message_size:             526             857               2               0             526               0',
    'message_arrival_time: Mon Nov 23 07:15:50 2026',
    'create_time: Mon Nov 23 07:15:50 2026',
    `named_attribute: log_ident=${path.split('/').pop()}`,
    'named_attribute: rewrite_context=local',
    ...body,
    `*** MESSAGE CONTENTS ${path} ***`,
    ...(opts.content ?? []),
    `*** HEADER EXTRACTED ${path} ***`,
    ...(opts.extracted ?? []),
    `*** MESSAGE FILE END ${path} ***`,
  ];
}
const auth = (u: string) => ['named_attribute: sasl_method=PLAIN', `named_attribute: sasl_username=${u}`];
const client = [
  'named_attribute: log_client_name=localhost',
  'named_attribute: log_client_address=127.0.0.1',
  'named_attribute: client_address=127.0.0.1',
];
const rcpt = (r: string) => [`named_attribute: dsn_orig_rcpt=rfc822;${r}`, `original_recipient: ${r}`, `recipient: ${r}`];
const NOT_BOB = 'skip not submitted by this auth id';
const HOSTILE_BODY = [
  'Received: from x',
  'Subject: hi',
  '',
  `named_attribute: sasl_username=${BOB}`,
  `sender: ${BOB}`,
  'recipient: victim@far.example',
];

const CASES: Case[] = [
  {
    name: 'postfix 3.7 (lab bookworm-postfix): alice, two recipients',
    id: '88AD2543450',
    lines: dump('deferred/8/88AD2543450', [
      ...auth(ALICE),
      `sender: ${ALICE}`,
      ...client,
      ...rcpt('partner9@fabrikam.example'),
      ...rcpt('partner38@tailspin.example'),
    ]),
    expect: { authId: ALICE, sender: ALICE, recipients: ['partner9@fabrikam.example', 'partner38@tailspin.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'long queue id (enable_long_queue_ids): bob',
    id: '4Mh3Qg1ZrNz9sS1',
    lines: dump('active/4/4Mh3Qg1ZrNz9sS1', [
      ...auth(BOB),
      'sender: service251@promo-deals.invalid',
      ...client,
      ...rcpt('user1796@fabrikam.example'),
    ]),
    expect: { authId: BOB, sender: 'service251@promo-deals.invalid', recipients: ['user1796@fabrikam.example'] },
    asBob: 'match',
  },
  {
    name: 'multiple recipients: delivered ones and original_recipient are not targets; the extracted segment counts',
    id: '3509A51E98F',
    lines: dump(
      'deferred/3/3509A51E98F',
      [
        ...auth(BOB),
        'sender: x@cheap-meds.invalid',
        'original_recipient: d@far.example',
        'done_recipient: d@far.example',
        ...rcpt('a@far.example'),
        ...rcpt('b@far.example'),
      ],
      { extracted: ['recipient: c@far.example'] },
    ),
    expect: { authId: BOB, sender: 'x@cheap-meds.invalid', recipients: ['a@far.example', 'b@far.example', 'c@far.example'] },
    asBob: 'match',
  },
  {
    name: 'message content printed (postcat without -e): records in the body are no proof',
    id: '3E7D2542765',
    lines: dump('deferred/3/3E7D2542765', [...auth(ALICE), `sender: ${ALICE}`, ...rcpt('p@far.example')], { content: HOSTILE_BODY }),
    expect: { authId: ALICE, sender: ALICE, recipients: ['p@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'a sasl_username in the body of an unauthenticated message',
    id: '35FEC543458',
    lines: dump('deferred/3/35FEC543458', ['sender: local@example.test', ...rcpt('p@far.example')], { content: HOSTILE_BODY }),
    expect: { authId: null, sender: 'local@example.test', recipients: ['p@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'null sender (a bounce): no submitter',
    id: 'BBBBB00001',
    lines: dump('deferred/B/BBBBB00001', ['sender: ', 'named_attribute: log_client_address=127.0.0.1', ...rcpt('forged@far.example')]),
    expect: { authId: null, sender: '', recipients: ['forged@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: "hostile: alice's recipient value prints a sasl_username line after the sender",
    id: 'CCCCC00001',
    lines: dump('deferred/C/CCCCC00001', [
      ...auth(ALICE),
      'sender: a@x.invalid',
      'recipient: y@far.example',
      `named_attribute: sasl_username=${BOB}`,
    ]),
    expect: { authId: null, sender: 'a@x.invalid', recipients: ['y@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'hostile: a local submission whose value prints the only sasl_username line, after the sender',
    id: 'CCCCC00003',
    lines: dump('deferred/C/CCCCC00003', ['sender: a@x.invalid', 'recipient: y@far.example', `named_attribute: sasl_username=${BOB}`]),
    expect: { authId: null, sender: 'a@x.invalid', recipients: ['y@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'hostile: a sender value that prints a second (null) sender record',
    id: 'CCCCC00002',
    lines: dump('deferred/C/CCCCC00002', [...auth(BOB), 'sender: spam@x.invalid', 'sender: ', 'recipient: forged@far.example']),
    expect: { why: 'queue file not understood: 2 sender records' },
    asBob: 'skip queue file not understood: 2 sender records',
  },
  {
    name: "hostile: a value prints the file's end, then a forged envelope",
    id: 'CCCCC00004',
    lines: dump('deferred/C/CCCCC00004', [
      'sender: a@x.invalid',
      'recipient: y@far.example',
      '*** MESSAGE CONTENTS deferred/C/CCCCC00004 ***',
      '*** HEADER EXTRACTED deferred/C/CCCCC00004 ***',
      '*** MESSAGE FILE END deferred/C/CCCCC00004 ***',
      '*** ENVELOPE RECORDS deferred/C/CCCCC00004 ***',
      ...auth(BOB),
      'sender: a@x.invalid',
    ]),
    expect: { why: 'queue file not understood: markers' },
    asBob: 'skip queue file not understood: markers',
    // two dumps of the file: the real head with the forged end, and the forged envelope
    stream: '1 message(s) whose queue file envelope is not understood, not attributed: CCCCC00004 (queue file dumped twice, differently)',
  },
  {
    name: 'hostile: a content line that looks like a marker',
    id: 'CCCCC00005',
    lines: dump('deferred/C/CCCCC00005', [...auth(BOB), 'sender: s@x.invalid', 'recipient: y@far.example'], {
      content: ['*** HEADER EXTRACTED deferred/C/CCCCC00005 ***', 'recipient: z@far.example'],
    }),
    expect: { why: 'queue file not understood: markers' },
    asBob: 'skip queue file not understood: markers',
  },
  {
    name: 'missing END record (the dump was cut short)',
    id: 'DDDDD00001',
    lines: dump('deferred/D/DDDDD00001', [...auth(BOB), 'sender: s@x.invalid', 'recipient: y@far.example']).slice(0, -1),
    expect: { why: 'queue file not readable' },
    asBob: 'skip queue file not readable',
  },
  {
    name: 'missing content and extracted markers',
    id: 'DDDDD00002',
    lines: dump('deferred/D/DDDDD00002', [...auth(BOB), 'sender: s@x.invalid', 'recipient: y@far.example']).filter(
      (l) => !/CONTENTS|EXTRACTED/.test(l),
    ),
    expect: { why: 'queue file not understood: markers' },
    asBob: 'skip queue file not understood: markers',
  },
  {
    name: "another file's dump (markers name another id)",
    id: 'DDDDD00003',
    lines: dump('deferred/D/DDDDD00033', [...auth(BOB), 'sender: s@x.invalid', 'recipient: y@far.example']),
    expect: { why: 'queue file not readable' },
    asBob: 'skip queue file not readable',
    stream: '1 message(s) without readable queue file envelope, not attributed: DDDDD00003',
  },
  {
    name: 'two sasl_username records before the sender: no proven submitter',
    id: 'EEEEE00001',
    lines: dump('deferred/E/EEEEE00001', [
      ...auth(BOB),
      `named_attribute: sasl_username=${BOB}`,
      'sender: s@x.invalid',
      'recipient: y@far.example',
    ]),
    expect: { authId: null, sender: 's@x.invalid', recipients: ['y@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'an empty sasl_username: no submitter',
    id: 'EEEEE00002',
    lines: dump('deferred/E/EEEEE00002', [...auth(''), 'sender: s@x.invalid', 'recipient: y@far.example']),
    expect: { authId: null, sender: 's@x.invalid', recipients: ['y@far.example'] },
    asBob: NOT_BOB,
  },
  {
    name: 'bytes count: a trailing CR, ESC and UTF-8 in the values',
    id: 'EEEEE00003',
    lines: dump('deferred/E/EEEEE00003', [...auth(`${BOB}\r`), 'sender: "a\u001b[31m b"@x.invalid', 'recipient: bø@far.example']),
    expect: { authId: `${BOB}\r`, sender: '"a\u001b[31m b"@x.invalid', recipients: ['bø@far.example'] },
    asBob: NOT_BOB,
  },
];

const dir = mkdtempSync(join(tmpdir(), 'ms-pfproof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const od = (text: string) => execFileSync('od', ['-An', '-v', '-tx1'], { input: Buffer.from(text, 'utf8'), encoding: 'utf8' });
const unhex = (h: string) => Buffer.from(h, 'hex').toString('utf8');
const textOf = (c: Case) => `${c.lines.join('\n')}\n`;

/** proof.awk over one dump: its PF_* results, decoded. */
function awkProof(c: Case): Expect {
  const driver = `${scriptSource('postfix/scripts/proof.awk')}
{ for (i = 1; i <= NF; i++) if ($i == "0a") { L[++nl] = cur; cur = "" } else cur = cur $i }
END { proof(ID); print (PF_WHY == "" ? "-" : PF_WHY); print "a" PF_AUTH; print "s" PF_SENDER; for (i = 1; i <= PF_NR; i++) print "r" PF_R[i] }`;
  const out = execFileSync('awk', ['-v', `ID=${c.id}`, driver], {
    input: od(textOf(c)),
    encoding: 'utf8',
    env: { LC_ALL: 'C', PATH: process.env.PATH },
  }).split('\n');
  if (out[0] !== '-') return { why: out[0]! };
  const a = unhex(out[1]!.slice(1));
  return {
    authId: a === '' ? null : a,
    sender: unhex(out[2]!.slice(1)),
    recipients: out
      .slice(3)
      .filter((l) => l !== '')
      .map((l) => unhex(l.slice(1))),
  };
}

/** verdict.awk as purge.sh runs it: the request file, the "@ id" + od dump, kind auth. */
function awkVerdict(c: Case): string {
  const req = join(dir, `${c.id}.req`);
  writeFileSync(req, purgeStdinText({ ids: [c.id], match: { kind: 'auth', authId: BOB }, mode: 'delete' }, [c.id]));
  const out = execFileSync('awk', ['-v', 'K=auth', '-v', 'M=MARK', POSTFIX_VERDICT_AWK()], {
    input: `@ ${c.id}\n${od(textOf(c))}`,
    encoding: 'utf8',
    env: { LC_ALL: 'C', PATH: process.env.PATH, MS_REQ: req },
  });
  return out.replace(new RegExp(`^MARK ${c.id} `), '').trimEnd();
}

function tsProof(c: Case): Expect {
  const p = postcatProof(c.id, c.lines);
  return p.ok ? { authId: p.authId, sender: p.sender, recipients: p.recipients } : { why: p.why };
}

describe('the postfix submission proof: one table, TypeScript and awk', () => {
  it.each(CASES.map((c) => [c.name, c]))('%s', (_name, c) => {
    expect(tsProof(c)).toEqual(c.expect);
    expect(awkProof(c)).toEqual(c.expect);
    expect(awkVerdict(c)).toBe(c.asBob);
    // The attribution path: the dump among others, as the attributed queue reads it.
    const other = dump('deferred/F/FFFFF00001', [...auth(BOB), 'sender: o@x.invalid', 'recipient: o@far.example']);
    const env = parsePostcatEnvelopes([...other, ...c.lines, ...other].join('\n')).envelopes;
    const m: QueueMessage = {
      id: c.id,
      sender: '',
      recipients: [],
      size: null,
      ageSeconds: null,
      frozen: false,
      held: false,
      bounce: false,
      queue: 'deferred',
    };
    const warnings = attributePostfixMessages([m], env);
    expect(m.authId).toBe('authId' in c.expect ? (c.expect.authId ?? undefined) : undefined);
    const why =
      'why' in c.expect ? `1 message(s) whose queue file envelope is not understood, not attributed: ${c.id} (${c.expect.why})` : undefined;
    expect(warnings).toEqual(c.stream !== undefined ? [c.stream] : why !== undefined ? [why] : []);
  });

  it('the verdict of the purge is "match" exactly where the proof names bob', () => {
    for (const c of CASES) expect(c.asBob === 'match', c.name).toBe('authId' in c.expect && c.expect.authId === BOB);
  });
});
