// The demo's stateful exim, driven by mailsweep's real exim commands (eximPurge, eximRestart, the
// attributed read) and read back with the real parsers: its answers must be what a server's would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEMO_DIR } from '../../src/commands/demo.js';
import { FakeExim } from '../../src/demo/fake-exim.js';
import { exim } from '../../src/mta/exim/adapter.js';
import { parseEximAttributedOutput } from '../../src/mta/exim/listing.js';
import { mtaHost } from '../../src/mta/host.js';
import type { PurgeRequest, PurgeResult, QueueMessage } from '../../src/mta/types.js';

const REC = join(DEMO_DIR, 'mx1.dc1.example.net');
const BOB = 'bob@example.test';
const ctx = mtaHost('/usr/sbin/exim');

let fake: FakeExim;
beforeEach(() => {
  fake = new FakeExim({ dir: REC, now: () => 1_800_000_000 });
});

function listing(): QueueMessage[] {
  const plan = exim.attributedQueue(ctx);
  const r = fake.answer(plan.command, '');
  expect(r.code).toBe(0);
  return plan.parse(r.stdout, r.stderr ?? '', r.code).messages;
}

/** The real purge command and stdin, answered by the fake, parsed by the real parser. */
function purge(req: PurgeRequest, stdin?: (s: string) => string): { res: PurgeResult; stdout: string } {
  const plan = exim.ops.purge(ctx, req);
  const r = fake.answer(plan.command, stdin ? stdin(plan.stdin ?? '') : (plan.stdin ?? ''));
  return { res: plan.parse(r.stdout, r.stderr ?? '', r.code), stdout: r.stdout };
}

const expectOf = (ms: QueueMessage[], withRecipients = false) =>
  Object.fromEntries(ms.map((m) => [m.id, withRecipients ? { sender: m.sender, recipients: m.recipients } : { sender: m.sender }]));

describe('FakeExim: the queue read', () => {
  it('lists the recording byte for byte until something changes it', () => {
    const plan = exim.attributedQueue(ctx);
    expect(fake.answer(plan.command, '').stdout).toBe(readFileSync(join(REC, 'queue.out'), 'utf8'));
    const all = listing();
    expect(all).toHaveLength(339);
    expect(all.filter((m) => m.authId === BOB)).toHaveLength(300);
    expect(all.filter((m) => m.bounce)).toHaveLength(20);
  });

  it('answers an unknown command with a failure, never with queue output', () => {
    const r = fake.answer('rm -rf /var/spool/exim4/input', '');
    expect(r).toMatchObject({ code: 127, stdout: '' });
  });

  it('answers exim -Mvh with the envelope of a queued message, and fails for one that is gone', () => {
    const id = listing().find((m) => m.authId === BOB)!.id;
    expect(fake.answer(exim.headersCommand(ctx, id)!, '').stdout).toContain(`--auth_id ${BOB}`);
    fake.queue.remove(id);
    expect(fake.answer(exim.headersCommand(ctx, id)!, '')).toMatchObject({ code: 1, stdout: '' });
  });
});

describe('FakeExim: purge re-checks every id at delete time', () => {
  it("deletes exactly the account's messages it was asked for, and a later listing shows them gone", () => {
    const bob = listing().filter((m) => m.authId === BOB);
    const { res, stdout } = purge({
      ids: bob.map((m) => m.id),
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: expectOf(bob),
    });
    expect(res.done.sort()).toEqual(bob.map((m) => m.id).sort());
    expect(res.skipped).toEqual([]);
    expect(res.warnings).toEqual([]);
    expect(stdout).toContain(`Message ${bob[0]!.id} has been removed`);
    const after = listing();
    expect(after).toHaveLength(39);
    expect(after.some((m) => m.authId === BOB)).toBe(false);
  });

  it("skips another customer's messages asked for under the hijacked account's name (nothing removed)", () => {
    const alice = listing().filter((m) => m.authId === 'alice@example.test');
    const { res } = purge({ ids: alice.map((m) => m.id), match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: expectOf(alice) });
    expect(res.done).toEqual([]);
    expect(res.skipped.map((s) => s.reason)).toEqual(alice.map(() => 'not submitted by this auth id'));
    expect(listing()).toHaveLength(339);
  });

  it('skips a message whose sender is not the one listed (a reused id)', () => {
    const m = listing().find((x) => x.authId === BOB)!;
    const { res } = purge({
      ids: [m.id],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: { [m.id]: { sender: 'other@x.test' } },
    });
    expect(res.skipped).toEqual([{ id: m.id, reason: 'envelope sender changed: id reused?' }]);
    expect(fake.queue.has(m.id)).toBe(true);
  });

  it('refuses a request cut short in transit: nothing is touched', () => {
    const bob = listing()
      .filter((m) => m.authId === BOB)
      .slice(0, 3);
    const req: PurgeRequest = { ids: bob.map((m) => m.id), match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: expectOf(bob) };
    const { res } = purge(req, (s) => s.split('\n').slice(0, 2).join('\n') + '\n');
    expect(res.done).toEqual([]);
    expect(res.skipped.every((s) => s.reason.includes('missing or incomplete'))).toBe(true);
    expect(listing()).toHaveLength(339);
  });

  it('says "gone" for an id already removed', () => {
    const m = listing().find((x) => x.authId === BOB)!;
    const req: PurgeRequest = { ids: [m.id], match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: expectOf([m]) };
    expect(purge(req).res.done).toEqual([m.id]);
    expect(purge(req).res.skipped).toEqual([{ id: m.id, reason: 'gone: no spool -H file' }]);
  });

  it('removes a bounce only while its undelivered recipients are the expected ones', () => {
    const [b1, b2] = listing().filter((m) => m.bounce);
    const { res } = purge({
      ids: [b1!.id, b2!.id],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: { [b1!.id]: { sender: '', recipients: b1!.recipients }, [b2!.id]: { sender: '', recipients: ['someone@else.test'] } },
    });
    expect(res.done).toEqual([b1!.id]);
    expect(res.skipped).toEqual([{ id: b2!.id, reason: 'recipients changed: an undelivered recipient is not among the expected ones' }]);
    // A bounce request naming a message that is not a bounce never removes it.
    const spam = listing().find((x) => x.authId === BOB)!;
    const r2 = purge({
      ids: [spam.id],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: { [spam.id]: { sender: spam.sender, recipients: spam.recipients } },
    });
    expect(r2.res.skipped).toEqual([{ id: spam.id, reason: 'not a null-sender message' }]);
  });

  it('holds (freezes) instead of deleting: the message stays, frozen in -bp and in its envelope', () => {
    const m = listing().find((x) => x.authId === BOB && !x.frozen)!;
    const req: PurgeRequest = { ids: [m.id], match: { kind: 'auth', authId: BOB }, mode: 'hold', expect: expectOf([m]) };
    const first = purge(req);
    expect(first.res.done).toEqual([m.id]);
    expect(first.stdout).toContain(`Message ${m.id} is now frozen`);
    const again = listing().find((x) => x.id === m.id)!;
    expect(again.frozen).toBe(true);
    expect(fake.queue.envelope(m.id)!.frozen).toBe(true);
    expect(listing()).toHaveLength(339);
    // Still re-checked like any other (the -frozen line did not break the envelope), and said so.
    expect(purge(req).stdout).toContain(`Message ${m.id} is already frozen`);
    expect(fake.frozen).toEqual([m.id]);
  });
});

describe('FakeExim: restart', () => {
  it('gives the daemon a new pid that the real restart parser reports', () => {
    const plan = exim.ops.restart(ctx);
    const before = fake.pid;
    const r = fake.answer(plan.command, '');
    const res = plan.parse(r.stdout, r.stderr ?? '', r.code);
    expect(res.ok).toBe(true);
    expect(fake.pid).not.toBe(before);
    expect(res.detail).toContain(`pid ${fake.pid} (was ${before})`);
  });
});

describe('FakeEximQueue.readdressBounces', () => {
  it("points every bounce at one of the account's spam senders, so the backscatter is provable", () => {
    const senders = fake.queue.sendersOf(BOB);
    expect(senders).toHaveLength(300);
    expect(fake.queue.readdressBounces(senders)).toBe(20);
    const all = parseEximAttributedOutput(fake.answer(exim.attributedQueue(ctx).command, '').stdout).messages;
    const spamSenders = new Set(senders);
    for (const b of all.filter((m) => m.bounce)) {
      expect(b.recipients).toHaveLength(1);
      expect(spamSenders.has(b.recipients[0]!)).toBe(true);
      expect(fake.queue.envelope(b.id)!.recipients).toEqual(b.recipients);
    }
  });
});
