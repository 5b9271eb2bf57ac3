// End-to-end: each adapter's incident operations (purge, hold, restart) through the real SSH
// transport against the real-server lab. Destructive: the queues are reseeded
// (test/lab/lab reseed) before and after, and between the delete and the hold runs.
// Counts are taken with the MTA's own tools inside the host, never with mailsweep.
import { mtaHost } from '../../src/mta/host.js';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdapter } from '../../src/mta/index.js';
import type { MtaAdapter, PurgeRequest, QueueMessage } from '../../src/mta/types.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { SshTransport } from '../../src/transport/ssh.js';

const LAB = resolve(process.env.MAILSWEEP_LAB_DIR ?? '.lab');
const LAB_SCRIPT = resolve('test/lab/lab');
const BOB = 'bob@example.test';
const LEGIT = { 'alice@example.test': 6, 'carol@shop.test': 8, 'dave@example.test': 5 } as Record<string, number>;

interface LabHost {
  name: string;
  address: string;
  mta: 'exim' | 'postfix' | 'sendmail';
  namespace: string;
  root: string;
  expected: { total: number; backscatter: number; unrelatedBounces?: number };
}

/** Every null-sender message seeded: the spam's backscatter and the unrelated bounces. */
const bounces = (h: LabHost): number => h.expected.backscatter + (h.expected.unrelatedBounces ?? 0);

let hosts: LabHost[] = [];
const transports = new Map<string, SshTransport>();

/** Async: a long synchronous call would block the worker's RPC with vitest (onTaskUpdate timeout). */
async function reseed(...names: string[]): Promise<void> {
  await promisify(execFile)(LAB_SCRIPT, ['reseed', ...names], { timeout: 600_000 });
}

function inHost(h: LabHost, cmd: string): string {
  return execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/sh', '-c', cmd], { encoding: 'utf8' });
}

/** The MTA's own counts: messages in the queue (held/quarantined included) and held ones. */
function ownCounts(h: LabHost): { total: number; held: number } {
  if (h.mta === 'exim') {
    return {
      total: Number(inHost(h, 'exim -bpc').trim()),
      held: Number(inHost(h, "exim -bp | grep -c '\\*\\*\\* frozen \\*\\*\\*' || true").trim()),
    };
  }
  if (h.mta === 'postfix') {
    const foot = inHost(h, 'postqueue -p | tail -n 1');
    const total = /Mail queue is empty/.test(foot) ? 0 : Number(/in (\d+) Requests?\./.exec(foot)![1]);
    return { total, held: Number(inHost(h, "postqueue -p | grep -c '^[0-9A-Za-z]*!' || true").trim()) };
  }
  // sendmail: mailq lists the qf jobs, mailq -qQ the quarantined (hf) ones.
  const sum = (out: string): number => {
    const mta = out.includes('MTA Queue status') ? out.slice(out.indexOf('MTA Queue status')) : out;
    const m = /\((\d+) requests?\)/.exec(mta);
    return m ? Number(m[1]) : 0;
  };
  const queued = sum(inHost(h, 'mailq'));
  const held = sum(inHost(h, 'mailq -qQ'));
  return { total: queued + held, held };
}

function transport(h: LabHost): SshTransport {
  let t = transports.get(h.name);
  if (!t) {
    t = new SshTransport({
      host: h.address,
      port: 22,
      user: 'root',
      privateKeyFile: join(LAB, 'id_ed25519'),
      knownHosts: new KnownHostsFile(join(LAB, 'known_hosts')),
      agentSocket: '',
    });
    transports.set(h.name, t);
  }
  return t;
}

async function run<T>(h: LabHost, plan: { command: string; stdin?: string; parse(o: string, e: string, c: number | null): T }): Promise<T> {
  // The request (ids, senders, recipients, auth id) travels on stdin, as purge.ts sends it.
  const r = await transport(h).exec(plan.command, { timeoutMs: 120_000, ...(plan.stdin !== undefined ? { stdin: plan.stdin } : {}) });
  return plan.parse(r.stdout, r.stderr, r.code);
}

function adapter(h: LabHost): MtaAdapter {
  return getAdapter(h.mta);
}

async function listing(h: LabHost): Promise<QueueMessage[]> {
  const l = await run(h, adapter(h).attributedQueue(mtaHost()));
  return l.messages;
}

/** What the listing showed per id: the sender, and the recipients (re-checked for bounces). */
function expectOf(msgs: QueueMessage[]): Record<string, { sender: string; recipients: string[] }> {
  return Object.fromEntries(msgs.map((m) => [m.id, { sender: m.sender, recipients: m.recipients }]));
}

function byAuth(msgs: QueueMessage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of msgs) {
    const k = m.authId ?? (m.bounce ? '<>' : '?');
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function each(fn: (h: LabHost) => Promise<void>): Promise<void[]> {
  return Promise.all(hosts.map(fn));
}

beforeAll(async () => {
  if (!existsSync(join(LAB, 'hosts.json'))) throw new Error(`lab is not up: ${LAB}/hosts.json missing (run test/lab/lab up)`);
  hosts = (JSON.parse(readFileSync(join(LAB, 'hosts.json'), 'utf8')) as { hosts: LabHost[] }).hosts;
  expect(hosts.length).toBeGreaterThanOrEqual(4);
  // MAILSWEEP_E2E_HOSTS=a,b: only those hosts (a developer's run beside others using the lab).
  const only = process.env.MAILSWEEP_E2E_HOSTS?.split(',').filter(Boolean);
  if (only?.length) hosts = hosts.filter((h) => only.includes(h.name));
  await reseed(...hosts.map((h) => h.name));
}, 600_000);

afterAll(async () => {
  for (const t of transports.values()) await t.close();
  await reseed(...hosts.map((h) => h.name));
}, 600_000);

describe('purge against the real-server lab', () => {
  it('starts from the seeded queues (bob 300, legit 19, bounces: backscatter and unrelated ones)', async () => {
    await each(async (h) => {
      expect(ownCounts(h).total, h.name).toBe(h.expected.total);
      expect(byAuth(await listing(h)), h.name).toEqual({ [BOB]: 300, ...LEGIT, '<>': bounces(h) });
    });
  });

  it('hostile auth ids and ids neither break the command nor widen the match', async () => {
    await each(async (h) => {
      const msgs = await listing(h);
      const all = msgs.map((m) => m.id);
      const marker = `/tmp/mailsweep-pwned-${h.name}`;
      const hostileAuth = [
        `${BOB}' $(touch ${marker}) "x`,
        `${BOB}\n-host_auth plain_server`,
        `${BOB}\n--auth_id alice@example.test`,
        '*',
        '.*',
        `${BOB} `,
        `\`touch ${marker}\``,
      ];
      for (const authId of hostileAuth) {
        const req: PurgeRequest = { ids: all, match: { kind: 'auth', authId }, mode: 'delete', expect: expectOf(msgs) };
        const res = await run(h, adapter(h).ops.purge(mtaHost(), req));
        expect(res.done, `${h.name} ${JSON.stringify(authId)}`).toEqual([]);
        expect(res.skipped.length, h.name).toBe(all.length);
      }
      const hostileIds = [`'; rm -rf /var/spool; '`, '$(touch /tmp/x)', '-Mrm', `${all[0]}\n${all[1]}`, '../../etc/passwd'];
      const res = await run(h, adapter(h).ops.purge(mtaHost(), { ids: hostileIds, match: { kind: 'auth', authId: BOB }, mode: 'delete' }));
      expect(res.done).toEqual([]);
      expect(
        res.skipped.map((s) => s.reason).every((r) => /not a \w+ queue id/.test(r)),
        JSON.stringify(res.skipped),
      ).toBe(true);
      expect(inHost(h, `[ -e ${marker} ] && echo yes || echo no`).trim(), h.name).toBe('no');
      expect(ownCounts(h).total, h.name).toBe(h.expected.total);
    });
  });

  it("deletes exactly bob's 300 (a legit id slipped in is skipped), then the bounces", async () => {
    await each(async (h) => {
      const msgs = await listing(h);
      const bob = msgs.filter((m) => m.authId === BOB);
      const legit = msgs.find((m) => m.authId === 'alice@example.test')!;
      const bounce = msgs.find((m) => m.bounce)!;
      expect(bob.length).toBe(300);
      const ids = [...bob.map((m) => m.id), legit.id, bounce.id];
      const res = await run(
        h,
        adapter(h).ops.purge(mtaHost(), { ids, match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: expectOf(msgs) }),
      );
      expect(res.done.length, `${h.name}: ${JSON.stringify(res.skipped.slice(0, 3))} ${res.warnings.join('; ')}`).toBe(300);
      expect(new Set(res.done)).toEqual(new Set(bob.map((m) => m.id)));
      expect(res.skipped.map((s) => s.id).sort(), h.name).toEqual([legit.id, bounce.id].sort());
      expect(res.warnings, h.name).toEqual([]);
      // The MTA's own count: exactly 300 fewer.
      expect(ownCounts(h).total, h.name).toBe(h.expected.total - 300);
      const after = await listing(h);
      expect(byAuth(after), h.name).toEqual({ ...LEGIT, '<>': bounces(h) });

      // Bounces: every id in the queue is offered (with the recipients the listing showed), only
      // the null-sender ones go; one whose recipients are not the listed ones stays.
      const changed = after.find((m) => m.bounce)!;
      const exp = expectOf(after);
      exp[changed.id] = { sender: '', recipients: changed.recipients.slice(1).concat('someone-else@example.test') };
      const b = await run(
        h,
        adapter(h).ops.purge(mtaHost(), { ids: after.map((m) => m.id), match: { kind: 'bounce' }, mode: 'delete', expect: exp }),
      );
      expect(b.done.length, `${h.name}: ${JSON.stringify(b.skipped.slice(0, 3))}`).toBe(bounces(h) - 1);
      expect(b.skipped.length).toBe(20);
      expect(b.skipped.find((s) => s.id === changed.id)?.reason, h.name).toMatch(/recipients changed/);
      const last = await run(
        h,
        adapter(h).ops.purge(mtaHost(), { ids: [changed.id], match: { kind: 'bounce' }, mode: 'delete', expect: expectOf(after) }),
      );
      expect(last.done, h.name).toEqual([changed.id]);
      expect(ownCounts(h).total, h.name).toBe(19);
      expect(byAuth(await listing(h)), h.name).toEqual(LEGIT);

      // Purging again: everything is gone already, nothing else is touched.
      const again = await run(
        h,
        adapter(h).ops!.purge(
          {},
          { ids: bob.slice(0, 5).map((m) => m.id), match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: expectOf(bob) },
        ),
      );
      expect(again.done).toEqual([]);
      expect(
        again.skipped.every((s) => /gone/.test(s.reason)),
        JSON.stringify(again.skipped),
      ).toBe(true);
      expect(ownCounts(h).total, h.name).toBe(19);
    });
  });

  it('restarts each MTA (init script in the lab), which then answers SMTP again', async () => {
    await each(async (h) => {
      const r = await run(h, adapter(h).ops.restart(mtaHost()));
      expect(r.ok, `${h.name}: ${r.detail}`).toBe(true);
      expect(r.detail).toMatch(/running, pid \d+ \(was \d+\)/);
      const banner = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          h.namespace,
          'timeout',
          '20',
          'bash',
          '-c',
          'for i in $(seq 40); do exec 3<>/dev/tcp/127.0.0.1/25 && break; sleep 0.5; done; head -n 1 <&3; printf "QUIT\\r\\n" >&3',
        ],
        { encoding: 'utf8' },
      );
      expect(banner, h.name).toMatch(/^220 /);
    });
  });

  it("holds bob's 300 on a reseeded queue: every message stays, bob's are frozen / held / quarantined", async () => {
    await reseed(...hosts.map((h) => h.name));
    await each(async (h) => {
      expect(ownCounts(h).total, h.name).toBe(h.expected.total);
      const msgs = await listing(h);
      const bob = msgs.filter((m) => m.authId === BOB);
      const legit = msgs.filter((m) => m.authId === 'carol@shop.test').slice(0, 2);
      const res = await run(
        h,
        adapter(h).ops!.purge(
          {},
          { ids: [...bob, ...legit].map((m) => m.id), match: { kind: 'auth', authId: BOB }, mode: 'hold', expect: expectOf(msgs) },
        ),
      );
      expect(res.done.length, `${h.name}: ${JSON.stringify(res.skipped.slice(0, 3))}`).toBe(300);
      expect(res.skipped.map((s) => s.id).sort()).toEqual(legit.map((m) => m.id).sort());
      const own = ownCounts(h);
      expect(own.total, h.name).toBe(h.expected.total);
      // exim: the 20 backscatter bounces were frozen already; postfix / sendmail: only bob's are held.
      expect(own.held, h.name).toBe(h.mta === 'exim' ? 300 + h.expected.backscatter : 300);
      const after = await listing(h);
      const held = after.filter((m) => m.frozen || m.held);
      if (h.mta !== 'sendmail') expect(held.filter((m) => m.authId === BOB).length, h.name).toBe(300);
      expect(
        after.filter((m) => m.authId !== BOB && !m.bounce).every((m) => !m.frozen && !m.held),
        h.name,
      ).toBe(true);
    });
  });
});
