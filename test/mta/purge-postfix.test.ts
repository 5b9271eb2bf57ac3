// postfix purge with the request on stdin (issue #8): the generated script runs through the real
// /bin/sh against stub postcat / postsuper over a fake queue directory whose envelope dumps hold
// raw bytes (ESC, BEL, CR, quotes, `$(…)`), as postcat prints them.
import { mtaHost } from '../../src/mta/host.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postfix } from '../../src/mta/postfix/adapter.js';
import type { PurgeRequest } from '../../src/mta/types.js';
import { runPlan, script, tmp } from './helpers.js';

const BOB = 'bob@example.test';

interface Env {
  auth?: string;
  /** Internal (unquoted, raw) sender as the queue file holds it. */
  sender: string;
  recipients: string[];
  done?: string[];
  queue?: string;
  /** Raw lines after the sender record (a value that smuggles a record). */
  extra?: string[];
}

/** A queue directory with stub postcat / postsuper; envelope dumps are written as raw bytes. */
function queue(envs: Record<string, Env>): { d: string; bin: string } {
  const d = tmp('ms-pf-');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  mkdirSync(join(d, 'q'));
  for (const sub of ['active', 'deferred/3', 'hold', 'incoming', 'maildrop']) mkdirSync(join(d, 'spool', sub), { recursive: true });
  script(join(bin, 'postconf'), `echo ${d}/spool`);
  for (const [id, e] of Object.entries(envs)) {
    const qn = e.queue ?? 'deferred';
    writeFileSync(join(d, 'spool', qn === 'deferred' ? 'deferred/3' : qn, id), '');
    const lines = [
      `*** ENVELOPE RECORDS ${qn}/${id} ***`,
      'message_size:             531             959               3               0             531               0',
      ...(e.auth !== undefined ? ['named_attribute: sasl_method=PLAIN', `named_attribute: sasl_username=${e.auth}`] : []),
      `sender: ${e.sender}`,
      'named_attribute: log_client_address=127.0.0.11',
      ...(e.extra ?? []),
      ...(e.done ?? []).flatMap((r) => [`original_recipient: ${r}`, `done_recipient: ${r}`]),
      ...e.recipients.flatMap((r) => [`named_attribute: dsn_orig_rcpt=rfc822;${r}`, `original_recipient: ${r}`, `recipient: ${r}`]),
      `*** MESSAGE CONTENTS ${qn}/${id} ***`,
      `*** HEADER EXTRACTED ${qn}/${id} ***`,
      `*** MESSAGE FILE END ${qn}/${id} ***`,
      '',
    ];
    writeFileSync(join(d, 'q', id), Buffer.from(lines.join('\n'), 'utf8'));
  }
  script(
    join(bin, 'postcat'),
    `[ "$1" = -e ] && [ "$2" = -q ] && [ -f ${d}/q/$3 ] && exec cat ${d}/q/$3; echo "postcat: fatal: open queue file $3: No such file or directory" >&2; exit 1`,
  );
  script(
    join(bin, 'postsuper'),
    `echo "$@" >>${d}/postsuper.argv; n=0
while read -r id; do echo "$id" >>${d}/postsuper.stdin; if [ "$1" = -d ]; then rm -f ${d}/q/$id; find ${d}/spool -name "$id" -exec rm -f {} +; echo "postsuper: $id: removed" >&2; else sed -i "s#RECORDS [a-z]*/#RECORDS hold/#" ${d}/q/$id; echo "postsuper: $id: placed on hold" >&2; fi; n=$((n+1)); done
if [ "$1" = -d ]; then echo "postsuper: Deleted: $n messages" >&2; else echo "postsuper: Placed on hold: $n messages" >&2; fi`,
  );
  return { d, bin };
}

const ctx = (bin: string) => mtaHost(join(bin, 'postqueue'));
const ids = (n: number) => Array.from({ length: n }, (_, i) => `4F${String(i).padStart(9, '0')}`);

describe('postfix purge: the request travels on stdin, compared byte for byte', () => {
  it('the command is the same script whatever the data; ids, senders and the auth id are only on stdin', () => {
    const small = postfix.ops!.purge(mtaHost(), {
      ids: ['ABCDEF12345'],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: { ABCDEF12345: { sender: 'a@b' } },
    });
    const hostile = `'$(touch PWNED)'"\\`;
    const big = postfix.ops!.purge(mtaHost(), {
      ids: ids(300),
      match: { kind: 'auth', authId: `${hostile}${BOB}` },
      mode: 'delete',
      expect: Object.fromEntries(ids(300).map((id) => [id, { sender: `${"'".repeat(400)}@x.invalid` }])),
    });
    expect(big.command).toBe(small.command);
    for (const secret of ['ABCDEF12345', BOB, 'a@b', "''''", '4F000000299']) expect(big.command.includes(secret), secret).toBe(false);
    expect(big.stdin).toMatch(/^A [0-9a-f]+\n4F000000000 s[0-9a-f]+ -\n/);
    expect(big.stdin!.endsWith('. 300\n')).toBe(true);
  });

  it('300 messages with 400-character quote-heavy senders: every one matched and purged, nothing run', () => {
    const n = 300;
    const list = ids(n);
    // Internal form: what postcat prints. The listing (postqueue -j) shows showq's quoted form
    // for senders that are not an RFC 822 dot-string; half the request uses each form.
    const internal = (i: number) => `${"'".repeat(380)}$(touch PWNED)"\\${i}@x.invalid`;
    const quoted = (i: number) => `"${"'".repeat(380)}$(touch PWNED)\\"\\\\${i}"@x.invalid`;
    const envs: Record<string, Env> = {};
    list.forEach((id, i) => (envs[id] = { auth: BOB, sender: internal(i), recipients: [`u${i}@far.example`] }));
    envs['ALICE00001'] = { auth: 'alice@example.test', sender: internal(0), recipients: ['z@far.example'] };
    const { d, bin } = queue(envs);
    const expect_ = Object.fromEntries(list.map((id, i) => [id, { sender: i % 2 === 0 ? internal(i) : quoted(i) }]));
    expect_['ALICE00001'] = { sender: internal(0) };
    const plan = postfix.ops!.purge(ctx(bin), {
      ids: [...list, 'ALICE00001'],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: expect_,
    });
    const { result } = runPlan(plan, d, bin);
    expect(result.skipped).toEqual([{ id: 'ALICE00001', reason: 'not submitted by this auth id' }]);
    expect(result.done).toEqual(list);
    expect(result.warnings).toEqual([]);
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(readFileSync(join(d, 'postsuper.stdin'), 'utf8').trim().split('\n')).toEqual(list);
    expect(existsSync(join(d, 'q', 'ALICE00001'))).toBe(true);
  });

  it('a sender with control characters is matched byte for byte (raw or as postqueue -j lists it) and purged', () => {
    // Observed on the lab's postfix 3.7.11: MAIL FROM:<"ms-probe-ESC[31mBEL TAB'$(x)q"@x.invalid>
    // is stored as "ms-probe-\x1b[31m\x07 '$(x)q@x.invalid" (TAB became a space) and listed by
    // postqueue -j as "\"ms-probe-?[31m? '$(x)q\"@x.invalid".
    const raw = "ms-probe-\u001b[31m\u0007 '$(x)q@x.invalid";
    const listed = '"ms-probe-?[31m? \'$(x)q"@x.invalid';
    const cr = 'cr\r\u0007\u001b]8;;http://evil\u0007@x.invalid';
    const { d, bin } = queue({
      AAAAA00001: { auth: BOB, sender: raw, recipients: ['a@far.example'] },
      AAAAA00002: { auth: BOB, sender: raw, recipients: ['a@far.example'] },
      AAAAA00003: { auth: BOB, sender: cr, recipients: ['a@far.example'] },
      AAAAA00004: { auth: BOB, sender: "ms-probe-\u001b[32m\u0007 '$(x)q@x.invalid", recipients: ['a@far.example'] },
      AAAAA00005: { auth: BOB, sender: raw, recipients: ['a@far.example'] },
    });
    const req: PurgeRequest = {
      ids: ['AAAAA00001', 'AAAAA00002', 'AAAAA00003', 'AAAAA00004', 'AAAAA00005'],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: {
        AAAAA00001: { sender: raw },
        AAAAA00002: { sender: listed },
        AAAAA00003: { sender: cr },
        // listed form of another sender: one byte differs ([32m), so not this message
        AAAAA00004: { sender: listed },
        // the "?" of the listing is not a wildcard for the raw comparison either
        AAAAA00005: { sender: "ms-probe-?[31m? '$(x)q@x.invalid" },
      },
    };
    const { result } = runPlan(postfix.ops!.purge(ctx(bin), req), d, bin);
    expect(result.done).toEqual(['AAAAA00001', 'AAAAA00002', 'AAAAA00003']);
    expect(result.skipped).toEqual([
      { id: 'AAAAA00004', reason: 'envelope sender changed: id reused?' },
      { id: 'AAAAA00005', reason: 'envelope sender changed: id reused?' },
    ]);
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
  });

  it('bounces: null sender and every undelivered recipient among the expected ones; changed recipients are skipped', () => {
    const { d, bin } = queue({
      BBBBB00001: { sender: '', recipients: ['forged@far.example'] },
      // a delivered recipient does not count; only "recipient:" records are undelivered
      BBBBB00002: { sender: '', recipients: ['forged@far.example'], done: ['other@local.example'] },
      // a recipient the operator never saw (reused id, or a bounce to a local customer)
      BBBBB00003: { sender: '', recipients: ['forged@far.example', 'customer@local.example'] },
      BBBBB00004: { sender: 'someone@far.example', recipients: ['forged@far.example'] },
      BBBBB00005: { sender: '', recipients: ['forged@far.example'] },
      // recipient with control characters, listed by postqueue -j in showq's form
      BBBBB00006: { sender: '', recipients: ['x\u001by z@far.example'] },
      BBBBB00007: { sender: '', recipients: ['forged@far.example'] },
    });
    const r = ['forged@far.example'];
    const req: PurgeRequest = {
      ids: ['BBBBB00001', 'BBBBB00002', 'BBBBB00003', 'BBBBB00004', 'BBBBB00005', 'BBBBB00006', 'BBBBB00007'],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: {
        BBBBB00001: { sender: '', recipients: r },
        BBBBB00002: { sender: '', recipients: r },
        BBBBB00003: { sender: '', recipients: r },
        BBBBB00004: { sender: '', recipients: r },
        BBBBB00005: { sender: '', recipients: ['someone.else@far.example'] },
        BBBBB00006: { sender: '', recipients: ['"x?y z"@far.example'] },
        BBBBB00007: { sender: '' },
      },
    };
    const { result } = runPlan(postfix.ops!.purge(ctx(bin), req), d, bin);
    expect(result.done).toEqual(['BBBBB00001', 'BBBBB00002', 'BBBBB00006']);
    expect(result.skipped).toEqual([
      { id: 'BBBBB00007', reason: 'no expected recipients for this bounce (request.expect): cannot re-check it' },
      { id: 'BBBBB00003', reason: 'recipients changed' },
      { id: 'BBBBB00004', reason: 'not a null-sender message' },
      { id: 'BBBBB00005', reason: 'recipients changed' },
    ]);
    for (const id of ['BBBBB00003', 'BBBBB00004', 'BBBBB00005', 'BBBBB00007']) expect(existsSync(join(d, 'q', id)), id).toBe(true);
  });

  it('a forged record inside a value does not pass: a second sender line, an attribute after the sender', () => {
    const { d, bin } = queue({
      // alice's message whose recipient smuggles a line: the attribute comes after the sender
      CCCCC00001: {
        auth: 'alice@example.test',
        sender: 'a@x.invalid',
        recipients: [`y@far.example\nnamed_attribute: sasl_username=${BOB}`],
      },
      // a sender value that smuggles a null "sender: " line
      CCCCC00002: { sender: 'spam@x.invalid\nsender: ', recipients: ['forged@far.example'] },
      // a local submission (no SASL) whose one smuggled line names bob, after the sender
      CCCCC00003: { sender: 'a@x.invalid', recipients: ['y@far.example'], extra: [`named_attribute: sasl_username=${BOB}`] },
    });
    const a = runPlan(
      postfix.ops!.purge(ctx(bin), { ids: ['CCCCC00001', 'CCCCC00003'], match: { kind: 'auth', authId: BOB }, mode: 'delete' }),
      d,
      bin,
    ).result;
    expect(a.skipped).toEqual([
      { id: 'CCCCC00001', reason: 'not submitted by this auth id' },
      { id: 'CCCCC00003', reason: 'not submitted by this auth id' },
    ]);
    const b = runPlan(
      postfix.ops!.purge(ctx(bin), {
        ids: ['CCCCC00002'],
        match: { kind: 'bounce' },
        mode: 'delete',
        expect: { CCCCC00002: { sender: '', recipients: ['forged@far.example'] } },
      }),
      d,
      bin,
    ).result;
    expect(b.skipped).toEqual([{ id: 'CCCCC00002', reason: 'queue file not understood: 2 sender records' }]);
    expect(existsSync(join(d, 'postsuper.argv'))).toBe(false);
  });

  it('a request cut short on stdin, or none at all, touches nothing', () => {
    const { d, bin } = queue({ DDDDD00001: { auth: BOB, sender: 's@x.invalid', recipients: ['a@far.example'] } });
    const plan = postfix.ops!.purge(ctx(bin), { ids: ['DDDDD00001'], match: { kind: 'auth', authId: BOB }, mode: 'delete' });
    for (const stdin of [plan.stdin!.slice(0, -5), '', plan.stdin!.replace('. 1', '. 2')]) {
      const { result } = runPlan({ ...plan, stdin }, d, bin);
      expect(result.done).toEqual([]);
      expect(result.skipped[0]!.reason).toBe('not attempted: the request on stdin is missing or incomplete');
    }
    expect(existsSync(join(d, 'postsuper.argv'))).toBe(false);
    expect(runPlan(plan, d, bin).result.done).toEqual(['DDDDD00001']);
  });

  it('hold moves only the re-checked ids, and says so', () => {
    const { d, bin } = queue({
      EEEEE00001: { sender: '', recipients: ['forged@far.example'], queue: 'active' },
      EEEEE00002: { auth: BOB, sender: 's@x.invalid', recipients: ['a@far.example'] },
    });
    const r = ['forged@far.example'];
    const { result } = runPlan(
      postfix.ops!.purge(ctx(bin), {
        ids: ['EEEEE00001', 'EEEEE00002'],
        match: { kind: 'bounce' },
        mode: 'hold',
        expect: { EEEEE00001: { sender: '', recipients: r }, EEEEE00002: { sender: 's@x.invalid', recipients: r } },
      }),
      d,
      bin,
    );
    expect(result.done).toEqual(['EEEEE00001']);
    expect(result.skipped).toEqual([{ id: 'EEEEE00002', reason: 'not a null-sender message' }]);
    expect(readFileSync(join(d, 'postsuper.argv'), 'utf8')).toBe('-h -\n');
  });
});
