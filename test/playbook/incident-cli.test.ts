// `mailsweep incident` as a user runs it (CLI entry, separate process) against the project's fake
// SSH hosts: a host that cannot be reached ends with the scan's status word, a journal end record
// and exit 2 (never "internal error"); a bad --timeout is a configuration error (exit 3); tokens
// pasted where a variable's name belongs and URL userinfo are never shown nor journaled.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadDemoFleet } from '../../src/commands/demo.js';
import { generateKeyPair } from '../../src/demo/fake-host.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';

const exec = promisify(execFile);
const TOKEN = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // shaped like a cPanel API token
const URL_PASS = 'S3cr3t-In-The-Url';

let dir: string;
let fleet: FakeFleet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-incident-cli-'));
  const demo = (await loadDemoFleet()).find((e) => e.name === 'mx1.dc1.example.net')!;
  const hosts: FleetHostEntry[] = [
    { name: 'dead', mode: 'dead', tools: [] },
    // `mta:` set: detection runs nothing, the run connects up front all the same.
    { name: 'deadexim', mode: 'dead', tools: [], vars: { mta: 'exim' } },
    { name: 'locked', mode: 'auth-reject', tools: [] },
    { name: 'stranger', mode: 'normal', tools: [], unknownKey: true },
    { name: 'changed', mode: 'normal', tools: [] },
    { name: 'mute', mode: 'hang-handshake', tools: [] },
    { ...demo, name: 'mx1', vars: { cpanel_url: `https://admin:${URL_PASS}@127.0.0.1:9/`, cpanel_token_env: TOKEN } },
  ];
  fleet = await startFakeFleet(join(dir, 'fleet'), hosts);
  // "changed": known_hosts holds another key for it, as after a reinstall (or an attack).
  const other = ssh2.utils.parseKey(generateKeyPair().public);
  if (other instanceof Error) throw other;
  const port = fleet.hosts.find((h) => h.name === 'changed')!.port;
  const kh = readFileSync(fleet.knownHostsPath, 'utf8')
    .split('\n')
    .map((l) =>
      l.startsWith(`[127.0.0.1]:${port} `) ? `[127.0.0.1]:${port} ${other.type} ${other.getPublicSSH().toString('base64')}` : l,
    );
  writeFileSync(fleet.knownHostsPath, kh.join('\n'));
}, 60_000);
afterAll(() => fleet?.close());

async function incident(host: string, extra: string[], runs = join(dir, `runs-${host}`)) {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    'incident',
    host,
    '-i',
    fleet.inventoryPath,
    '--known-hosts',
    fleet.knownHostsPath,
    '--runs-dir',
    runs,
    ...extra,
  ];
  const r = await exec(process.execPath, args, { env: { ...process.env, CI: 'true' }, timeout: 60_000 }).then(
    (x) => ({ code: 0, ...x }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  const files = (() => {
    try {
      return readdirSync(runs).filter((f) => f.endsWith('.jsonl'));
    } catch {
      return [];
    }
  })();
  const journal = files.length ? readFileSync(join(runs, files[0]!), 'utf8') : '';
  return {
    ...r,
    journal,
    events: journal.trim()
      ? journal
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [],
  };
}

describe('incident against a host that cannot be reached', () => {
  it.each([
    ['dead', 'unreachable'],
    ['deadexim', 'unreachable'],
    ['locked', 'auth-failed'],
    ['stranger', 'hostkey-unknown'],
    ['changed', 'hostkey-changed'],
    ['mute', 'timeout'],
  ])(
    '%s: ends "%s", exit 2, with a journal end record',
    async (host, status) => {
      const r = await incident(host, ['--yes', '--auth-id', 'bob@example.test', '-t', '2']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toMatch(/internal error|please report/);
      expect(r.stderr).toMatch(new RegExp(`incident run \\S+: ${host} ${status}: \\S`));
      // The resume line repeats what the run needs to find its host, keys and journal.
      const runs = join(dir, `runs-${host}`);
      expect(r.stderr).toContain(`resume with: mailsweep incident ${host} --resume `);
      expect(r.stderr).toMatch(
        new RegExp(
          `--resume \\S+ -i \\S+ --known-hosts \\S+ --runs-dir ${runs.replace(/[/.-]/g, (c) => `\\${c}`)} -t 2 --auth-id bob@example\\.test --yes\n`,
        ),
      );
      expect(r.events.at(-1)).toMatchObject({ t: 'run-end', status: 'failed', connection: status });
      expect(String(r.events.at(-1)!.error)).not.toBe('');
    },
    60_000,
  );
});

describe('incident --timeout', () => {
  it.each(['abc', '0', '-5', '1.5', ''])('"%s" is refused as scan refuses it (exit 3), before anything connects', async (t) => {
    const r = await incident('mx1', ['--dry-run', '--auth-id', 'bob@example.test', '-t', t]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/--timeout must be a whole number from 1 to 3600/);
    expect(r.events).toEqual([]);
  });

  it('reaches the identify step: its scan commands are journaled with that deadline', async () => {
    const r = await incident('mx1', ['--dry-run', '--auth-id', 'bob@example.test', '-t', '7'], join(dir, 'runs-timeout-7'));
    const scan = r.events.filter((e) => e.t === 'command' && e.step === 'identify');
    expect(scan.length, r.stderr).toBeGreaterThanOrEqual(2);
    for (const c of scan) expect(c.timeoutMs, String(c.cmd).slice(0, 60)).toBeLessThanOrEqual(7000);
    expect(scan[0]).toMatchObject({ timeoutMs: 7000, destructive: false });
  }, 60_000);
});

describe('incident --set', () => {
  it('a name the playbook does not have is refused (exit 3), naming the vars it has; nothing connects', async () => {
    const r = await incident(
      'mx1',
      ['--dry-run', '--auth-id', 'bob@example.test', '--set', 'suspend_logn=true'],
      join(dir, 'runs-set-typo'),
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /--set suspend_logn: the playbook has no such var; did you mean "suspend_login"\? \(its vars: .*suspend_login/,
    );
    expect(r.events).toEqual([]);
  });

  it('an answers key the playbook never asks, or a nested one, is refused (exit 3) with file, line and the near key', async () => {
    const typo = join(dir, 'answers-typo.yaml');
    writeFileSync(typo, 'identify.account: bob@example.test\nconfirm.purg: yes\n');
    const r = await incident('mx1', ['--dry-run', '--answers', typo], join(dir, 'runs-answers-typo'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `mailsweep: error: --answers ${typo}:2: no question "confirm.purg" in this playbook; did you mean "confirm.purge"?`,
    );
    expect(r.events).toEqual([]);
    const nested = join(dir, 'answers-nested.yaml');
    writeFileSync(nested, 'identify:\n  account: bob@example.test\n');
    const n = await incident('mx1', ['--dry-run', '--answers', nested], join(dir, 'runs-answers-nested'));
    expect(n.code, n.stderr).toBe(3);
    expect(n.stderr).toMatch(/answers-nested\.yaml:1: "identify" is a nested mapping; .*\(write "identify\.account": …\)/);
  }, 60_000);

  it('suspend_login reaches the reset step (the dry run shows the WHM call)', async () => {
    const r = await incident(
      'mx1',
      ['--dry-run', '--auth-id', 'bob@example.test', '--set', 'suspend_login=true'],
      join(dir, 'runs-set-login'),
    );
    expect(r.stderr).toMatch(/Email::suspend_login\(email=bob@example.test\)/);
  }, 60_000);
});

describe('secrets in the inventory that are not secrets by name', () => {
  it('a token pasted as cpanel_token_env and a password in cpanel_url are never printed nor journaled', async () => {
    const dry = await incident('mx1', ['--dry-run', '--auth-id', 'bob@example.test'], join(dir, 'runs-secret-dry'));
    expect(dry.stderr).toMatch(/\[dry-run\] would call WHM https:\/\/127\.0\.0\.1:9\/: getdomainowner/);
    // Without a terminal the plan shows the MTA commands too, whole (the restart script is > 300 characters).
    expect(dry.stderr).toMatch(/── Restart the MTA[^\n]*\n\[dry-run\] would run: [^]*echo "\$R running \$pid"/);
    const real = await incident('mx1', ['--yes', '--auth-id', 'bob@example.test', '--skip', 'notify'], join(dir, 'runs-secret'));
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(/cpanel_token_env must name an environment variable .* its value is not shown/);
    for (const r of [dry, real]) {
      const all = `${r.stdout}\n${r.stderr}\n${r.journal}`;
      expect(all).not.toContain(TOKEN);
      expect(all).not.toContain(URL_PASS);
    }
    // Nothing destructive ran before the reset refused.
    expect(real.events.some((e) => e.t === 'command' && e.destructive === true)).toBe(false);
  }, 60_000);

  it('the inventory refuses literal secrets under camelCase and api-token style names, not their _env / _file indirections', async () => {
    const inv = (vars: Record<string, unknown>) => {
      const f = join(dir, `inv-${Object.keys(vars).join('-')}.yaml`);
      writeFileSync(f, stringify({ all: { vars: { ansible_user: 'root', ...vars }, hosts: { mx1: { ansible_host: '127.0.0.1' } } } }));
      return f;
    };
    for (const key of [
      'cpanelToken',
      'whm_apitoken',
      'whmApiToken',
      'smtp_passwd',
      'notify_smtp_pass',
      'apiKey',
      'whmcs_apikey',
      'api_key',
      'smtpPassword',
    ]) {
      const r = await exec(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', 'incident', 'mx1', '-i', inv({ [key]: TOKEN }), '--dry-run'],
        { env: { ...process.env, CI: 'true' } },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(r.code, key).toBe(3);
      expect(r.stderr, key).toMatch(new RegExp(`${key}: looks like a secret`));
      expect(r.stderr, key).not.toContain(TOKEN);
    }
  }, 60_000);
});
