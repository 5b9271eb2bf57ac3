// Issue #14, deliverable 4 on the real lab: `mailsweep report` with an auto_contain policy, run as
// cron runs it (the CLI, no terminal), against the whole lab. The hijacked account is held on the
// hosts that have a way to hold it (README's postfix and exim contain_commands), its next SMTP AUTH
// submission there really held; the sendmail host has none and the alert says so; the alert (a
// webhook receiver here) carries the release command, and that command, run as printed, sends the
// held mail on.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readmeContainCommands } from '../actions/readme-contain.js';
import { HttpReceiver } from '../report-job/receivers.js';
import { lab } from './incident-env.js';
import { CLI, LAB, labHosts, type LabHost } from './lab-host.js';
import { eximFrozen, onHost, postfixQueueOf, submitAs, waitFor } from './lab-mail.js';

const ACCOUNT = 'bob@example.test';
const POSTFIX_MAP = '/etc/postfix/sasl_hold';
const EXIM_HOLD = '/etc/exim4/mailsweep-hold';

let dir: string;
let inventory: string;
let config: string;
let http: HttpReceiver;
let hosts: LabHost[];
const host = (name: string) => hosts.find((h) => h.name === name)!;

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  hosts = labHosts();
  dir = mkdtempSync(join(tmpdir(), 'ms-e2e-report-contain-'));
  http = await HttpReceiver.start();
  const readme = readmeContainCommands();
  const ways: Record<string, unknown> = {
    postfix: { contain_commands: { hold: readme.mx2!.hold } },
    exim: { contain_commands: { hold: readme.mx3!.hold } },
    sendmail: {},
  };
  inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    stringify({
      all: {
        vars: { ansible_user: 'root', ansible_ssh_private_key_file: join(LAB, 'id_ed25519') },
        hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address, mta: h.mta, ...(ways[h.mta] as object) }])),
      },
    }),
  );
  config = join(dir, 'report.yaml');
  writeFileSync(
    config,
    [
      'channels:',
      '  hook:',
      '    type: webhook',
      `    url: http://127.0.0.1:${http.port}/hook`,
      'auto_contain:',
      '  mode: contain',
      '  when: { severity: critical, min_rules: 2, any_of: [sender-mismatch, many-ips] }',
      '  measures: [hold, kick]',
      '  max_accounts: 1',
      `  runs_dir: ${join(dir, 'runs')}`,
      '',
    ].join('\n'),
  );
  for (const h of hosts)
    expect(onHost(h, `cat ${h.mta === 'postfix' ? POSTFIX_MAP : h.mta === 'exim' ? EXIM_HOLD : '/dev/null'}`)).toBe('');
});

afterAll(async () => {
  await http?.close();
  if (!hosts) return;
  // As the lab made them: empty hold files, the seeded queues (mail sent here makes reseed seed afresh).
  onHost(host('bookworm-postfix'), `: > ${POSTFIX_MAP}; postmap ${POSTFIX_MAP}`);
  for (const n of ['bookworm-exim', 'trixie-exim']) onHost(host(n), `: > ${EXIM_HOLD}`);
  await lab('reseed', 'bookworm-postfix', 'bookworm-exim', 'trixie-exim');
}, 600_000);

describe('mailsweep report with auto_contain on the real lab', () => {
  it('holds the hijacked account where the hosts can, says where it could not, and the alert carries the release command', async () => {
    const base = ['-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--config', config, '--state', join(dir, 'state.sqlite')];
    const r = await cli(['report', ...base, '--history', join(dir, 'history.sqlite')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/CRITICAL: account bob@example\.test flagged on 4 hosts: .* \[contained on 3 of 4 hosts\]/);
    expect(r.stdout).toContain('sent to: hook');

    // Held for real: the hold files say so, and the account's next submission is held.
    expect(onHost(host('bookworm-postfix'), `cat ${POSTFIX_MAP}`)).toBe(`${ACCOUNT} HOLD\n`);
    for (const n of ['bookworm-exim', 'trixie-exim']) expect(onHost(host(n), `cat ${EXIM_HOLD}`)).toBe(`${ACCOUNT}\n`);
    const pf = host('bookworm-postfix');
    const held = submitAs(pf, ACCOUNT, `e2e report hold ${process.pid}`);
    expect(
      await waitFor(
        () => postfixQueueOf(pf, held),
        (q) => q === 'hold',
      ),
    ).toBe('hold');
    const ex = host('bookworm-exim');
    expect(await eximFrozen(ex, submitAs(ex, ACCOUNT, `e2e report hold ${process.pid}`))).toBe(true);

    // One alert (max_accounts counts accounts, not hosts), per host: what was done, or why not.
    const hooks = http.at('/hook');
    expect(hooks).toHaveLength(1);
    const alerts = hooks[0]!.body.alerts as { labels: { host: string }; annotations: Record<string, string> }[];
    const of = (n: string) => alerts.find((a) => a.labels.host === n)!.annotations;
    expect(of('bookworm-sendmail').containment).toMatch(
      /^cannot contain on bookworm-sendmail: hold: no cpanel_url and no contain_commands\.hold/,
    );
    expect(of('bookworm-exim').containment).toMatch(
      // bookworm-exim runs dovecot: the kick ran there, and found no session to end.
      /^contained on bookworm-exim: hold outgoing mail \(queued, not sent\) \(run \S+\): kick: bob@example\.test had no open IMAP\/POP session/,
    );
    const release = of('bookworm-postfix').release_command!;
    expect(release).toMatch(
      new RegExp(
        `^mailsweep release bookworm-postfix --auth-id bob@example\\.test --run \\S+ -i ${inventory} --known-hosts ${join(LAB, 'known_hosts')} --runs-dir ${join(dir, 'runs')}$`,
      ),
    );
    // The journal of the automatic run is an ordinary contain run's, in the policy's runs_dir.
    const runId = /--run (\S+)/.exec(release)![1]!;
    expect(readFileSync(join(dir, 'runs', `${runId}.jsonl`), 'utf8')).toContain('"key":"contain:hold"');

    // The next hourly run: nothing new, nothing contained again, nothing sent.
    const again = await cli(['report', ...base, '--history', join(dir, 'history.sqlite')]);
    expect(again.status).toBe(2);
    expect(again.stdout).toBe('');
    expect(http.at('/hook')).toHaveLength(1);

    // The alert's release command, run as printed (unattended): the hold is lifted, the held mail sent on.
    const rel = await cli([...release.split(' ').slice(1), '--yes']);
    expect(rel.status, rel.stderr).toBe(0);
    expect(onHost(pf, `cat ${POSTFIX_MAP}`)).toBe('');
    expect(
      await waitFor(
        () => postfixQueueOf(pf, held),
        (q) => q !== 'hold',
      ),
    ).not.toBe('hold');
  }, 600_000);
});
