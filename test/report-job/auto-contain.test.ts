// Issue #14, deliverable 4: the report's opt-in automatic containment. The policy's config and
// its test per account; the executor on hosts reached through LocalTransport (contain_commands
// run by a real /bin/sh: rate limit, dry run, no way to contain, a failing command, an operator's
// release that stands); and the real `report` against the fake SSH fleet: the hijacked account's
// hold is put in place on both hosts, the alert carries the release command, and running that
// command lifts it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseReportConfig } from '../../src/alerts/config.js';
import { eligible, type ContainCandidate, type ContainPolicy } from '../../src/alerts/contain-policy.js';
import { alertmanagerPayload, slackPayload, textBody, title } from '../../src/alerts/render.js';
import type { ContainmentNote, Notice } from '../../src/alerts/store.js';
import { runReport } from '../../src/commands/report.js';
import { autoContain, type AutoContainOptions } from '../../src/commands/report-contain.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { ACCOUNT_RULE_NAMES, ACCOUNT_RULES } from '../../src/rules/account-rules.js';
import type { HostReport } from '../../src/scan/types.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { localHost } from '../playbook/local-host.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ms-auto-contain-'));

const cfg = (yaml: string) => parseReportConfig(yaml, 'report.yaml');
const policyOf = (yaml: string) => cfg(yaml).autoContain!;

describe('auto_contain in the report config', () => {
  it('is off unless written, and mode must be said', () => {
    expect(cfg('channels: {}\n').autoContain).toBeUndefined();
    expect(() => cfg('auto_contain:\n  measures: [hold]\n')).toThrow(/report\.yaml:1: auto_contain\.mode: required: contain or dry-run/);
  });

  it('reads the policy with its defaults', () => {
    expect(policyOf('auto_contain:\n  mode: dry-run\n  measures: kick, hold\n'.replace('kick, hold', '[kick, hold]'))).toEqual({
      mode: 'dry-run',
      severity: 'critical',
      minRules: 2,
      anyOf: [],
      measures: ['hold', 'kick'],
      maxAccounts: 3,
      timeoutMs: 60_000,
    });
    expect(
      policyOf(
        'auto_contain:\n  mode: contain\n  when: { severity: warning, min_rules: 1, any_of: [sender-mismatch, many-ips] }\n  measures: hold\n  max_accounts: 1\n  runs_dir: /var/lib/ms\n  timeout: 2m\n',
      ),
    ).toMatchObject({
      severity: 'warning',
      minRules: 1,
      anyOf: ['sender-mismatch', 'many-ips'],
      measures: ['hold'],
      maxAccounts: 1,
      runsDir: '/var/lib/ms',
      timeoutMs: 120_000,
    });
  });

  it('refuses what the report must never do unattended, and names the line', () => {
    expect(() => cfg('repeat_interval: 4h\nauto_contain:\n  mode: contain\n  measures: [hold, purge]\n')).toThrow(
      /report\.yaml:4: auto_contain\.measures\.1: "purge" is never done unattended by the report; only reversible measures: hold, suspend_outgoing, suspend_login, kick/,
    );
    expect(() => cfg('auto_contain:\n  mode: contain\n  measures: reset\n')).toThrow(/"reset" is never done unattended/);
    expect(() => cfg('auto_contain:\n  mode: contain\n  measures: [hodl]\n')).toThrow(/unknown measure "hodl"/);
    expect(() => cfg('auto_contain:\n  mode: contain\n  measures: [hold]\n  when: { any_of: [sender-mismatsh] }\n')).toThrow(
      /report\.yaml:4: auto_contain\.when\.any_of\.0: not an account rule; one of user-volume, sender-mismatch/,
    );
    expect(() => cfg('auto_contain:\n  mode: always\n  measures: [hold]\n')).toThrow(/auto_contain\.mode/);
    expect(() => cfg('auto_contain:\n  mode: contain\n  measures: [hold]\n  max_acounts: 2\n')).toThrow(/unknown key "max_acounts"/);
  });

  it('names exactly the rules the account rules report under', () => {
    const source = readFileSync('src/rules/account-rules.ts', 'utf8');
    const reported = [...source.matchAll(/rule: '([a-z-]+)'/g)].map((m) => m[1]);
    expect(new Set(reported)).toEqual(new Set(ACCOUNT_RULE_NAMES));
    expect(ACCOUNT_RULES).toHaveLength(ACCOUNT_RULE_NAMES.length);
  });
});

function report(
  name: string,
  findings: [string, 'info' | 'warning' | 'critical', string?][],
  status: HostReport['status'] = 'ok',
): HostReport {
  return {
    name,
    address: '127.0.0.1',
    status,
    findings: findings.map(([rule, severity, authId]) => ({ rule, severity, message: `${rule} fired`, ...(authId ? { authId } : {}) })),
    suspects: [],
  } as unknown as HostReport;
}

describe('which accounts the policy picks', () => {
  const policy: ContainPolicy = {
    mode: 'contain',
    severity: 'critical',
    minRules: 2,
    anyOf: ['sender-mismatch', 'many-ips'],
    measures: ['hold'],
    maxAccounts: 3,
    timeoutMs: 60_000,
  };
  it('critical on two rules including one of any_of, on one host, by its own findings only', () => {
    const hosts = [
      report('mx1', [
        ['sender-mismatch', 'critical', 'bob@x.test'],
        ['mass-recipients', 'critical', 'bob@x.test'],
        ['user-volume', 'critical', 'amy@x.test'],
        ['mass-recipients', 'critical', 'amy@x.test'], // two rules, but neither is in any_of
        ['many-ips', 'warning', 'cat@x.test'],
        ['sender-mismatch', 'critical', 'cat@x.test'], // many-ips only a warning: one rule counts
        // Host findings (no account) lent to nobody: queue-size and backscatter do not make dan eligible.
        ['queue-size', 'critical'],
        ['backscatter', 'critical'],
        ['many-ips', 'critical', 'dan@x.test'],
      ]),
      report('mx2', [
        ['sender-mismatch', 'critical', 'bob@x.test'],
        ['many-ips', 'critical', 'bob@x.test'],
        ['user-volume', 'critical', 'bob@x.test'],
      ]),
      report(
        'mx3',
        [
          ['sender-mismatch', 'critical', 'eve@x.test'],
          ['many-ips', 'critical', 'eve@x.test'],
        ],
        'timeout',
      ),
    ];
    const got = eligible(hosts, policy);
    expect(got.map((c) => [c.host, c.account, c.rules.length])).toEqual([
      ['mx2', 'bob@x.test', 3],
      ['mx1', 'bob@x.test', 2],
    ]);
    expect(eligible(hosts, { ...policy, anyOf: [] }).map((c) => `${c.host}:${c.account}`)).toEqual([
      'mx2:bob@x.test',
      'mx1:amy@x.test',
      'mx1:bob@x.test',
    ]);
    expect(eligible(hosts, { ...policy, severity: 'warning', anyOf: [] }).map((c) => `${c.host}:${c.account}`)).toContain('mx1:cat@x.test');
    expect(eligible(hosts, { ...policy, minRules: 4 })).toEqual([]);
  });
});

/** A host reached through LocalTransport whose contain_commands keep a map file per measure. */
function localContainHost(name: string, d: string, failing = false): HostSpec {
  const map = join(d, `${name}.hold`);
  writeFileSync(map, '');
  return {
    ...localHost(name, 'postfix'),
    vars: {
      contain_commands: {
        hold: {
          contain: failing ? 'echo "map is read-only" >&2; exit 4' : `IFS= read -r u; printf '%s HOLD\\n' "$u" >> '${map}'`,
          release: `IFS= read -r u; grep -vxF -- "$u HOLD" '${map}' > '${map}.new'; mv '${map}.new' '${map}'`,
          check: `IFS= read -r u; grep -qxF -- "$u HOLD" '${map}'`,
        },
      },
    },
  };
}

function options(d: string, hosts: HostSpec[], policy: Partial<ContainPolicy> = {}, opened?: number): AutoContainOptions {
  return {
    policy: {
      mode: 'contain',
      severity: 'critical',
      minRules: 2,
      anyOf: [],
      measures: ['hold', 'kick'],
      maxAccounts: 3,
      timeoutMs: 20_000,
      ...policy,
    },
    hosts: new Map(hosts.map((h) => [h.name, h])),
    incidentOpenedAt: () => opened,
    runsDir: join(d, 'runs'),
    inventory: join(d, 'inventory.yaml'),
    knownHosts: new KnownHostsFile(join(d, 'known_hosts')),
    hostKeyPolicy: 'strict',
    perHostKnownHosts: false,
    deadlineAt: Date.now() + 600_000,
  };
}

const cand = (host: string, account: string): ContainCandidate => ({ host, account, rules: ['sender-mismatch', 'many-ips'], sent: 10 });

describe('the executor', () => {
  it('contains up to max_accounts accounts (an account on two hosts is one), then alerts only', async () => {
    const d = mkdtempSync(join(dir, 'limit-'));
    mkdirSync(join(d, 'runs'));
    const hosts = [localContainHost('mx1', d), localContainHost('mx2', d)];
    const notes = await autoContain(
      [cand('mx1', 'bob@x.test'), cand('mx2', 'bob@x.test'), cand('mx1', 'amy@x.test'), cand('mx2', 'cat@x.test')],
      options(d, hosts, { maxAccounts: 2 }),
    );
    expect(notes.map((n) => [n.host, n.account, n.outcome])).toEqual([
      ['mx1', 'bob@x.test', 'contained'],
      ['mx2', 'bob@x.test', 'contained'],
      ['mx1', 'amy@x.test', 'contained'],
      ['mx2', 'cat@x.test', 'rate-limited'],
    ]);
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('bob@x.test HOLD\namy@x.test HOLD\n');
    expect(readFileSync(join(d, 'mx2.hold'), 'utf8')).toBe('bob@x.test HOLD\n');
    const bob = notes[0]!;
    // hold done; kick: no doveadm on this machine's PATH is said, not counted as done.
    expect(bob.measures).toEqual(['hold']);
    expect(bob.detail).toMatch(/^kick: dovecot is not on mx1 \(no doveadm in PATH\)/);
    expect(bob.release).toBe(
      `mailsweep release mx1 --auth-id bob@x.test --run ${bob.runId} -i ${join(d, 'inventory.yaml')} --runs-dir ${join(d, 'runs')}`,
    );
    expect(notes[3]!.contain).toBe(
      `mailsweep contain mx2 --auth-id cat@x.test --hold --kick -i ${join(d, 'inventory.yaml')} --runs-dir ${join(d, 'runs')}`,
    );
    expect(notes[3]!.detail).toMatch(/max_accounts \(2\) reached/);
    // Each containment is an ordinary contain run: its journal holds the effect and its undo.
    const journal = readFileSync(join(d, 'runs', `${bob.runId}.jsonl`), 'utf8');
    expect(journal).toContain('"key":"contain:hold"');
  });

  it('dry-run changes nothing and says what it would do; a host with no way to contain says why', async () => {
    const d = mkdtempSync(join(dir, 'dry-'));
    mkdirSync(join(d, 'runs'));
    const bare = { ...localHost('mx9', 'postfix') };
    const notes = await autoContain(
      [cand('mx1', 'bob@x.test'), cand('mx9', 'bob@x.test')],
      options(d, [localContainHost('mx1', d), bare], { mode: 'dry-run' }),
    );
    expect(notes.map((n) => n.outcome)).toEqual(['would-contain', 'cannot']);
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('');
    expect(notes[0]!.contain).toMatch(/^mailsweep contain mx1 --auth-id bob@x\.test --hold --kick /);
    expect(notes[1]!.detail).toMatch(/hold: .*no contain_commands\.hold/);
  });

  it('a failing contain command is a failed containment with the command to retry, not a crash', async () => {
    const d = mkdtempSync(join(dir, 'fail-'));
    mkdirSync(join(d, 'runs'));
    const [n] = await autoContain([cand('mx1', 'bob@x.test')], options(d, [localContainHost('mx1', d, true)]));
    expect(n).toMatchObject({ outcome: 'failed', account: 'bob@x.test' });
    expect(n!.detail).toMatch(/contain_commands\.hold\.contain failed \(exit 4\): map is read-only/);
    expect(n!.contain).toMatch(/^mailsweep contain mx1 /);
    // Nothing was put in place: no release to offer.
    expect(n!.release).toBeUndefined();
  });

  it('once per incident: contained earlier stays so (with its release command); released by an operator stays released', async () => {
    const d = mkdtempSync(join(dir, 'once-'));
    mkdirSync(join(d, 'runs'));
    const hosts = [localContainHost('mx1', d)];
    const openedAt = Date.now() - 60_000;
    const [first] = await autoContain([cand('mx1', 'bob@x.test')], options(d, hosts, {}, undefined));
    expect(first!.outcome).toBe('contained');
    const [again] = await autoContain([cand('mx1', 'bob@x.test')], options(d, hosts, {}, openedAt));
    expect(again).toMatchObject({ outcome: 'already-contained', runId: first!.runId, release: first!.release });
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('bob@x.test HOLD\n');

    // The operator runs the printed release command (the real CLI, with the inventory it names).
    writeFileSync(
      join(d, 'inventory.yaml'),
      stringify({ all: { hosts: { mx1: { ansible_connection: 'local', mta: 'postfix', ...hosts[0]!.vars } } } }),
    );
    const words = first!.release!.split(' ').slice(1);
    const r = await run(process.execPath, ['dist/cli.js', ...words, '--yes'], { env: { ...process.env, CI: 'true' } });
    expect(r.stderr).toMatch(/release run .* done|released|hold/);
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('');

    const [after] = await autoContain([cand('mx1', 'bob@x.test')], options(d, hosts, {}, openedAt));
    expect(after!.outcome).toBe('released');
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('');
    // A new incident (opened after that run) is contained afresh.
    const [fresh] = await autoContain([cand('mx1', 'bob@x.test')], options(d, hosts, {}, Date.now() + 1000));
    expect(fresh!.outcome).toBe('contained');
    expect(readFileSync(join(d, 'mx1.hold'), 'utf8')).toBe('bob@x.test HOLD\n');
  }, 60_000);
});

describe('the alert says what was contained', () => {
  const base: Notice = {
    status: 'firing',
    reason: 'new',
    at: 0,
    incident: {
      id: 1,
      key: 'account:bob@x.test',
      kind: 'account',
      subject: 'bob@x.test',
      severity: 'critical',
      openedAt: 0,
      lastSeenAt: 0,
      lastNotifiedAt: null,
      resolvedAt: null,
      hosts: ['mx1'],
      evidence: [{ host: 'mx1', severity: 'critical', rules: ['sender-mismatch', 'many-ips'], messages: [] }],
    },
  };
  const contained: ContainmentNote = {
    host: 'mx1',
    account: 'bob@x.test',
    outcome: 'contained',
    measures: ['hold'],
    rules: ['sender-mismatch', 'many-ips'],
    runId: 'R1',
    release: 'mailsweep release mx1 --auth-id bob@x.test --run R1 --runs-dir /r',
  };
  it('in the title, the text, the Alertmanager annotations and Slack', () => {
    const n = { ...base, containment: [contained] };
    expect(title(n)).toMatch(/CRITICAL: account bob@x\.test .* \[contained\]$/);
    const text = textBody(n);
    expect(text).toContain(
      'Automatic containment (auto_contain):\n  contained on mx1: hold outgoing mail (queued, not sent) (run R1)\n    undo: mailsweep release mx1 --auth-id bob@x.test --run R1 --runs-dir /r',
    );
    const a = (alertmanagerPayload(n, 'hook').alerts as { annotations: Record<string, string> }[])[0]!;
    expect(a.annotations.release_command).toBe(contained.release);
    expect(a.annotations.containment).toMatch(/^contained on mx1/);
    expect(JSON.stringify(slackPayload(n))).toContain('undo: mailsweep release mx1');
    expect(title({ ...base, containment: [{ ...contained, outcome: 'would-contain' }] })).toMatch(/\[would contain\]$/);
    const two = { ...base, incident: { ...base.incident, hosts: ['mx1', 'mx2'] } };
    expect(title({ ...two, containment: [contained, { ...contained, host: 'mx2', outcome: 'cannot' }] })).toMatch(
      /\[contained on 1 of 2 hosts\]$/,
    );
    expect(title({ ...base, containment: [{ ...contained, outcome: 'failed' }] })).toMatch(/\[containment FAILED\]$/);
    expect(title({ ...base, containment: [{ ...contained, outcome: 'rate-limited' }] })).not.toMatch(/contain/);
  });
  it('server text in a containment note reaches no one raw', () => {
    const evil = '\x1b]0;pwn\x07bob\u202e@x.test\n';
    const n = { ...base, containment: [{ ...contained, host: evil, detail: evil, outcome: 'failed' as const }] };
    for (const out of [textBody(n), title(n), JSON.stringify(alertmanagerPayload(n, 'h')), JSON.stringify(slackPayload(n))]) {
      expect(out).not.toContain('\x1b');
      expect(out).not.toContain('\u202e');
    }
  });
});

describe('mailsweep report with auto_contain on the fake fleet', () => {
  let fleet: FakeFleet;
  let d: string;
  let inventory: string;
  beforeAll(async () => {
    d = mkdtempSync(join(dir, 'fleet-'));
    fleet = await startFakeFleet(d, [
      { name: 'mx1.dc1.example.net', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-exim') },
      { name: 'mx7.dc2.example.net', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-postfix') },
      { name: 'mx3.dc1.example.net', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-sendmail-quiet') },
    ]);
    // The fake hosts run commands with the real /bin/sh: each host's hold map is a file here.
    const inv = parse(readFileSync(fleet.inventoryPath, 'utf8')) as {
      all: { children: { mail: { hosts: Record<string, Record<string, unknown>> } } };
    };
    const fleetHosts = inv.all.children.mail.hosts;
    for (const name of Object.keys(fleetHosts)) fleetHosts[name]!.contain_commands = localContainHost(name, d).vars.contain_commands;
    inventory = join(d, 'inventory.yaml');
    writeFileSync(inventory, stringify(inv));
  }, 60_000);
  afterAll(async () => void (await fleet?.close()));

  async function reportRun(mode: 'contain' | 'dry-run', at: string, extra: Record<string, unknown> = {}) {
    const config = join(d, `report-${mode}.yaml`);
    writeFileSync(
      config,
      `auto_contain:\n  mode: ${mode}\n  when: { any_of: [sender-mismatch, many-ips] }\n  measures: [hold, kick]\n  runs_dir: ${join(d, 'runs')}\n`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const r = await runReport(
      {
        inventory,
        knownHosts: fleet.knownHostsPath,
        config,
        state: join(d, `state-${mode}.sqlite`),
        history: join(d, `history-${mode}.sqlite`),
        forks: '4',
        timeout: '20',
        now: at,
        ...extra,
      },
      { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: process.env },
    );
    return { ...r, out: out.join(''), err: err.join('') };
  }

  it('dry-run: the alert says "would contain" on both hosts; nothing changes', async () => {
    const r = await reportRun('dry-run', '2026-11-23T08:00:00Z');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/\[would contain\]/);
    expect(r.out).toMatch(/would contain on mx1\.dc1\.example\.net: hold outgoing mail/);
    expect(r.out).toMatch(/would contain on mx7\.dc2\.example\.net/);
    for (const h of ['mx1.dc1.example.net', 'mx7.dc2.example.net', 'mx3.dc1.example.net'])
      expect(readFileSync(join(d, `${h}.hold`), 'utf8')).toBe('');
  }, 60_000);

  it('contain: the hijacked account is held on both hosts (not on the quiet one), the alert carries the release command, which lifts it', async () => {
    const r = await reportRun('contain', '2026-11-23T08:00:00Z');
    expect(r.err).toBe('');
    expect(r.code).toBe(2);
    expect(r.notices).toHaveLength(1);
    const n = r.notices[0]!;
    expect(n.containment?.map((c) => [c.host, c.outcome]).sort()).toEqual([
      ['mx1.dc1.example.net', 'contained'],
      ['mx7.dc2.example.net', 'contained'],
    ]);
    expect(readFileSync(join(d, 'mx1.dc1.example.net.hold'), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(readFileSync(join(d, 'mx7.dc2.example.net.hold'), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(readFileSync(join(d, 'mx3.dc1.example.net.hold'), 'utf8')).toBe('');
    const mx7 = n.containment!.find((c) => c.host === 'mx7.dc2.example.net')!;
    expect(mx7.release).toBe(
      `mailsweep release mx7.dc2.example.net --auth-id bob@example.test --run ${mx7.runId} -i ${inventory} --known-hosts ${fleet.knownHostsPath} --runs-dir ${join(d, 'runs')}`,
    );
    expect(r.out).toContain(`undo: ${mx7.release}`);

    // An hour later, same findings: nothing contained again, nothing new said.
    const again = await reportRun('contain', '2026-11-23T09:00:00Z');
    expect(again.notices).toEqual([]);
    expect(readFileSync(join(d, 'mx7.dc2.example.net.hold'), 'utf8')).toBe('bob@example.test HOLD\n');

    // The alert's release command, run as printed, over SSH to the fake host.
    const rel = await run(process.execPath, ['dist/cli.js', ...mx7.release!.split(' ').slice(1), '--yes'], {
      env: { ...process.env, CI: 'true' },
    });
    expect(rel.stderr).toMatch(/hold/);
    expect(readFileSync(join(d, 'mx7.dc2.example.net.hold'), 'utf8')).toBe('');
    // The operator's release stands: the next run does not hold it again while the incident is open.
    await reportRun('contain', '2026-11-23T10:00:00Z');
    expect(readFileSync(join(d, 'mx7.dc2.example.net.hold'), 'utf8')).toBe('');
  }, 120_000);

  it('--no-auto-contain: a new incident is alerted, nothing contained', async () => {
    const r = await reportRun('contain', '2026-11-23T08:00:00Z', { autoContain: false, state: join(d, 'state-off.sqlite') });
    expect(r.notices).toHaveLength(1);
    expect(r.notices[0]!.containment).toBeUndefined();
    expect(readFileSync(join(d, 'mx7.dc2.example.net.hold'), 'utf8')).toBe('');
  }, 60_000);
});
