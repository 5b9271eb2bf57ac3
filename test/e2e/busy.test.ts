// The unattended incident on a BUSY server (issue #8): the lab's stalling relay (`lab busy HOST
// on`: the relay target accepts TCP and never answers) keeps queue runners delivering the spam,
// each holding its message's lock for minutes — the normal state of a server under a spam run.
// The incident must still remove every spam and backscatter message of the account, leave every
// legitimate message and unrelated bounce, and leave the MTA running with no process paused.
// Everything is checked with the MTA's own tools and spool inside the host, never with mailsweep.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { SmtpSink } from '../fakes/smtp-sink.js';
import { CLI, LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-busy-0123456789abcdef';
const BOB = 'bob@example.test';
const BUSY_HOSTS = ['bookworm-sendmail', 'bookworm-exim', 'trixie-exim'];

let hosts: LabHost[] = [];
let whm: FakeWhm;
let sink: SmtpSink;
let dir: string;
let inventory: string;
let answers: string;
const transports = new Map<string, SshTransport>();

/** test/lab/lab, asynchronously (the fakes in this process must keep answering). */
function lab(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join('test', 'lab', 'lab'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`lab ${args.join(' ')} exited ${code}`))));
  });
}

/** A root shell on the host over SSH: the processes it starts live in the server's own namespaces, as an admin's would. */
async function onHost(h: LabHost, cmd: string): Promise<string> {
  let t = transports.get(h.name);
  if (!t) {
    t = new SshTransport({ host: h.address, port: 22, user: 'root', privateKeyFile: join(LAB, 'id_ed25519'), knownHosts: new KnownHostsFile(join(LAB, 'known_hosts')), agentSocket: '' });
    transports.set(h.name, t);
  }
  const r = await t.exec(cmd, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${h.name}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function incident(name: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'incident', name, '-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--runs-dir', join(dir, 'runs'), ...args], {
      env: { ...process.env, CI: 'true', WHM_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// Per MTA: the spool, the spam's files, how a queue run is started, and each message's envelope
// sender as the spool holds it (exim -H line 3, sendmail qf S line).
const MTA = {
  exim: {
    spamFiles: `cd /var/spool/exim4/input && grep -l '^<[^>]*\\.invalid>$' *-H | sed 's/-H$//'`,
    // A queue run forced over every message (as an admin's `exim -qf`), and forced deliveries of
    // three spam messages (`exim -M`, as exim's own immediate delivery or a second runner).
    startRunners: (ids: string[]) => `(exim4 -qf </dev/null >/dev/null 2>&1 &); for id in ${ids.join(' ')}; do (exim4 -M "$id" </dev/null >/dev/null 2>&1 &); done`,
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
  const out = await onHost(h, `for p in /proc/[0-9]*; do [ "$(readlink $p/root)" = / ] || continue; ls -l $p/fd 2>/dev/null | sed -n "s|^.* -> \\(/var/spool/.*\\)$|\${p#/proc/} \\1|p"; done`);
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
  whm = await FakeWhm.start({ token: TOKEN, domains: { 'example.test': 'examplec', 'shop.test': 'shopc' }, mailboxes: { examplec: ['alice@example.test', 'bob@example.test', 'dave@example.test'], shopc: ['carol@shop.test'] } });
  sink = await SmtpSink.start();
  dir = mkdtempSync(join(tmpdir(), 'ms-busy-'));
  writeFileSync(join(dir, 'whm-ca.pem'), whm.cert);
  const vars = {
    ansible_user: 'root',
    ansible_ssh_private_key_file: join(LAB, 'id_ed25519'),
    cpanel_url: whm.url,
    cpanel_token_env: 'WHM_TOKEN',
    cpanel_ca_file: join(dir, 'whm-ca.pem'),
    notify_smtp_host: '127.0.0.1',
    notify_smtp_port: sink.port,
    notify_from: 'abuse@provider.test',
    notify_to: 'owner@customer.test',
  };
  answers = join(dir, 'answers.yaml');
  writeFileSync(answers, stringify({ 'confirm.purge': 'yes', 'confirm.backscatter': 'yes' }));
  inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify({ all: { vars, hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address, mta: h.mta }])) } }));
}, 120_000);

afterAll(async () => {
  for (const t of transports.values()) await t.close();
  await whm?.close();
  await sink?.close();
  // The relay closed again (the runners' deliveries fail at once) and the queues as seeded.
  for (const name of BUSY_HOSTS) await lab('busy', name, 'off').catch(() => undefined);
  await lab('reseed', ...BUSY_HOSTS);
}, 900_000);

describe('unattended incident while queue runners hold the spam (stalling relay)', () => {
  it.each(BUSY_HOSTS)('%s: every spam and backscatter message removed, every legitimate one kept, the MTA running', async (name) => {
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
      for (const end = Date.now() + 30_000; Date.now() < end && held.size < 3; await new Promise((r) => setTimeout(r, 250))) held = await holders(h, spamFiles);
      expect(held.size, `${name}: spam messages held by a delivery`).toBeGreaterThanOrEqual(3);

      const before = whm.mailbox(BOB)!.passwordChanges;
      // Deleting is a question whose safe answer is no: the unattended run is told yes explicitly.
      const r = await incident(name, ['--yes', '--auth-id', BOB, '--answers', answers]);
      expect(r.status, r.stderr).toBe(0);
      expect(whm.mailbox(BOB)!.passwordChanges).toBe(before + 1);

      // The MTA's own count, and its spool by envelope sender: only the legitimate mail and the
      // unrelated bounces (null sender, to former customers of partners) are left.
      expect(ownCount(h), name).toBe(h.expected.legit);
      const unrelated = h.expected.unrelatedBounces ?? 0;
      expect(tally(await onHost(h, mta.senders)), name).toEqual({
        ...Object.fromEntries(Object.entries(h.expected.legitByUser).map(([u, n]) => [`<${u}>`, n])),
        ...(unrelated ? { '<>': unrelated } : {}),
      });
      // Every process that held a spam message was ended by the purge (a stalled delivery waits 5 min).
      for (const pid of held.keys()) expect(await onHost(h, `[ -d /proc/${pid} ] && sed 's/^.*) \\(.\\).*/\\1/' /proc/${pid}/stat || echo gone`), `${name}: holder ${pid}`).toMatch(/^(gone|Z)\n?$/);
      // Nothing the purge paused is left stopped; the daemon runs and answers SMTP.
      expect(await onHost(h, `for p in /proc/[0-9]*; do [ "$(readlink $p/root)" = / ] || continue; e=$(readlink $p/exe 2>/dev/null); case "\${e##*/}" in ${mta.exe}*) sed -n 's/^.*) \\(.\\).*/\\1/p' $p/stat;; esac; done | grep -c T || true`)).toBe('0\n');
      const pid = (await onHost(h, mta.daemonPid)).trim();
      expect(await onHost(h, `kill -0 ${pid} && echo alive`)).toBe('alive\n');
      const banner = await onHost(h, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/25; head -n 1 <&3; printf "QUIT\\r\\n" >&3'`);
      expect(banner, name).toMatch(/^220 /);
      // The run says what it paused and resumed.
      const journal = readFileSync(/journal: (\S+)/.exec(r.stderr)![1]!, 'utf8');
      expect(journal).toMatch(/"t":"effect","step":"purge","key":"delete"/);
    } finally {
      await lab('busy', name, 'off');
    }
  }, 600_000);
});
