// The unattended incident on a BUSY server (issue #8): the lab's stalling relay (`lab busy HOST
// on`: the relay target accepts TCP and never answers) keeps queue runners delivering the spam,
// each holding its message's lock for minutes — the normal state of a server under a spam run.
// The incident must still remove every spam and backscatter message of the account, leave every
// legitimate message and unrelated bounce, and leave the MTA running with no process paused.
// Everything is checked with the MTA's own tools and spool inside the host, never with mailsweep.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { incidentEnv, lab, type IncidentEnv } from './incident-env.js';
import { LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-busy-0123456789abcdef';
const BOB = 'bob@example.test';
const BUSY_HOSTS = ['bookworm-sendmail', 'bookworm-exim', 'trixie-exim'];

let hosts: LabHost[] = [];
let env: IncidentEnv;
const transports = new Map<string, SshTransport>();

/** A root shell on the host over SSH: the processes it starts live in the server's own namespaces, as an admin's would. */
async function onHost(h: LabHost, cmd: string): Promise<string> {
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
  const r = await t.exec(cmd, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${h.name}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

// Per MTA: the spool, the spam's files, how a queue run is started, and each message's envelope
// sender as the spool holds it (exim -H line 3, sendmail qf S line).
const MTA = {
  exim: {
    spamFiles: `cd /var/spool/exim4/input && grep -l '^<[^>]*\\.invalid>$' *-H | sed 's/-H$//'`,
    // A queue run forced over every message (as an admin's `exim -qf`), and forced deliveries of
    // three spam messages (`exim -M`, as exim's own immediate delivery or a second runner).
    startRunners: (ids: string[]) =>
      `(exim4 -qf </dev/null >/dev/null 2>&1 &); for id in ${ids.join(' ')}; do (exim4 -M "$id" </dev/null >/dev/null 2>&1 &); done`,
    lockFile: (id: string) => `/var/spool/exim4/input/${id}-D`,
    senders: `cd /var/spool/exim4/input && for f in *-H; do sed -n 3p "$f"; done | sort | uniq -c`,
    exe: 'exim4',
    daemonPid: 'cat /run/exim4/exim.pid',
  },
  sendmail: {
    spamFiles: `cd /var/spool/mqueue && grep -l '^S<[^>]*\\.invalid>$' qf* | sed 's/^qf//'`,
    // Queue runs for three spam messages (`sendmail -qI<id>`); the incident's restart starts one more.
    startRunners: (ids: string[]) => `for id in ${ids.join(' ')}; do (sendmail -qI"$id" </dev/null >/dev/null 2>&1 &); done`,
    lockFile: (id: string) => `/var/spool/mqueue/qf${id}`,
    senders: `cd /var/spool/mqueue && grep -h '^S' qf* | sed 's/^S//' | sort | uniq -c`,
    exe: 'sendmail',
    daemonPid: 'head -n 1 /run/sendmail/mta/sendmail.pid',
  },
} as const;

/** Pids of this host's MTA processes holding one of `files` open: "pid file" lines. */
async function holders(h: LabHost, files: string[]): Promise<Map<string, string>> {
  const want = new Set(files);
  const out = await onHost(
    h,
    `for p in /proc/[0-9]*; do [ "$(readlink $p/root)" = / ] || continue; ls -l $p/fd 2>/dev/null | sed -n "s|^.* -> \\(/var/spool/.*\\)$|\${p#/proc/} \\1|p"; done`,
  );
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [pid, file] = line.split(' ');
    if (pid && file && want.has(file)) m.set(pid, file);
  }
  return m;
}

/** "count sender" lines → { sender: count }. */
function tally(out: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const l of out.split('\n')) {
    const m = /^\s*(\d+) (.*)$/.exec(l);
    if (m) r[m[2]!] = Number(m[1]);
  }
  return r;
}

beforeAll(async () => {
  hosts = labHosts();
  env = await incidentEnv(hosts, TOKEN);
}, 120_000);

afterAll(async () => {
  for (const t of transports.values()) await t.close();
  await env?.close();
  // The relay closed again (the runners' deliveries fail at once) and the queues as seeded.
  for (const name of BUSY_HOSTS) await lab('busy', name, 'off').catch(() => undefined);
  await lab('reseed', ...BUSY_HOSTS);
}, 900_000);

describe('unattended incident while queue runners hold the spam (stalling relay)', () => {
  it.each(BUSY_HOSTS)(
    '%s: every spam and backscatter message removed, every legitimate one kept, the MTA running',
    async (name) => {
      const h = hosts.find((x) => x.name === name)!;
      const mta = MTA[h.mta as 'exim' | 'sendmail'];
      await lab('reseed', name);
      expect(ownCount(h)).toBe(h.expected.total);
      await lab('busy', name, 'on');
      try {
        const spam = (await onHost(h, mta.spamFiles)).split('\n').filter(Boolean);
        expect(spam.length, name).toBe(h.expected.spam);
        await onHost(h, mta.startRunners([spam[5]!, spam[50]!, spam[150]!]));
        // The runners reach the relay and wait for its greeting, each holding its message.
        const spamFiles = spam.map((id) => mta.lockFile(id));
        let held = new Map<string, string>();
        for (const end = Date.now() + 30_000; Date.now() < end && held.size < 3; await new Promise((r) => setTimeout(r, 250)))
          held = await holders(h, spamFiles);
        expect(held.size, `${name}: spam messages held by a delivery`).toBeGreaterThanOrEqual(3);

        const before = env.whm.mailbox(BOB)!.passwordChanges;
        const r = await env.incident(name, ['--yes', '--auth-id', BOB]);
        expect(r.status, r.stderr).toBe(0);
        expect(env.whm.mailbox(BOB)!.passwordChanges).toBe(before + 1);

        // The MTA's own count, and its spool by envelope sender: only the legitimate mail and the
        // unrelated bounces (null sender, to former customers of partners) are left.
        expect(ownCount(h), name).toBe(h.expected.legit);
        const unrelated = h.expected.unrelatedBounces ?? 0;
        expect(tally(await onHost(h, mta.senders)), name).toEqual({
          ...Object.fromEntries(Object.entries(h.expected.legitByUser).map(([u, n]) => [`<${u}>`, n])),
          ...(unrelated ? { '<>': unrelated } : {}),
        });
        // Every process that held a spam message was ended by the purge (a stalled delivery waits 5 min).
        for (const pid of held.keys())
          expect(
            await onHost(h, `[ -d /proc/${pid} ] && sed 's/^.*) \\(.\\).*/\\1/' /proc/${pid}/stat || echo gone`),
            `${name}: holder ${pid}`,
          ).toMatch(/^(gone|Z)\n?$/);
        // Nothing the purge paused is left stopped; the daemon runs and answers SMTP.
        expect(
          await onHost(
            h,
            `for p in /proc/[0-9]*; do [ "$(readlink $p/root)" = / ] || continue; e=$(readlink $p/exe 2>/dev/null); case "\${e##*/}" in ${mta.exe}*) sed -n 's/^.*) \\(.\\).*/\\1/p' $p/stat;; esac; done | grep -c T || true`,
          ),
        ).toBe('0\n');
        const pid = (await onHost(h, mta.daemonPid)).trim();
        expect(await onHost(h, `kill -0 ${pid} && echo alive`)).toBe('alive\n');
        const banner = await onHost(h, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/25; head -n 1 <&3; printf "QUIT\\r\\n" >&3'`);
        expect(banner, name).toMatch(/^220 /);
        const journal = readFileSync(/journal: (\S+)/.exec(r.stderr)![1]!, 'utf8');
        expect(journal).toMatch(/"t":"effect","step":"purge","key":"delete"/);
        // The purge says what it did to the runners: ended the deliveries that held the spam, and
        // resumed what it paused with the daemon running.
        expect(journal).toMatch(/paused: killed \d+ \((exim4|sendmail), SIGTERM\): it held /);
        expect(journal).toMatch(/resumed: \d+ process\(es\) \(SIGCONT\); daemon running, pid \d+/);
        expect(r.stderr).toMatch(/paused: daemon \d+/);
      } finally {
        await lab('busy', name, 'off');
      }
    },
    600_000,
  );
});
