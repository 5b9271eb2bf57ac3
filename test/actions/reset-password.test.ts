// The reset step in the real engine, against the fake WHM (HTTPS on loopback) and a real
// password_reset_command run by /bin/sh: the `new-password` hand-over file exists only when the
// reset is confirmed, holds the password the mailbox really has, and the summary says where it is
// — or that no password was set.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../../src/actions/index.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { localHost } from '../playbook/local-host.js';

const TOKEN = 'whm-token-reset-0123456789';
let whm: FakeWhm;
const dir = mkdtempSync(join(tmpdir(), 'ms-reset-'));

beforeAll(async () => {
  whm = await FakeWhm.start({ token: TOKEN, domains: { 'example.test': 'examplec' }, mailboxes: { examplec: ['bob@example.test'] } });
  writeFileSync(join(dir, 'ca.pem'), whm.cert);
  process.env.T_RESET_TOKEN = TOKEN;
});
afterAll(() => whm?.close());

const PB = `
name: reset
vars: { account: "" }
steps:
  - { name: Reset, id: reset, action: reset-password, params: { account: "{{ account }}" } }
  - { name: Summary, id: summary, action: summary, params: { account: "{{ account }}" } }
`;

function host(vars: Record<string, unknown>): HostSpec {
  return { ...localHost('mx1', 'exim'), vars };
}
const WHM = () => ({ cpanel_url: whm.url, cpanel_token_env: 'T_RESET_TOKEN', cpanel_ca_file: join(dir, 'ca.pem') });

async function run(vars: Record<string, unknown>, account: string, o: Partial<RunOptions> = {}) {
  const lines: string[] = [];
  const out = await runPlaybook({
    playbook: parsePlaybook(PB, 'r.yaml', ACTION_NAMES),
    host: host(vars),
    transport: new LocalTransport(),
    actions: ACTIONS,
    preflight: PREFLIGHT,
    vars: { account },
    dryRun: false,
    unattended: true,
    answers: {},
    skip: new Set(),
    runsDir: mkdtempSync(join(dir, 'runs-')),
    secrets: [],
    renderer: plainRenderer({ out: (l) => lines.push(`${l}\n`) }),
    commandTimeoutMs: 10_000,
    ...o,
  });
  const runDir = join(out.journalPath.replace(/\.jsonl$/, ''));
  return { out, text: lines.join(''), file: join(runDir, 'new-password'), journal: readFileSync(out.journalPath, 'utf8') };
}

describe('reset-password hand-over file', () => {
  it('WHM confirmed: the file holds the password the mailbox now has (mode 600), and the summary says where', async () => {
    const r = await run(WHM(), 'bob@example.test');
    expect(r.out.status, r.out.error).toBe('ok');
    const pw = readFileSync(r.file, 'utf8').split('\t')[1]!.trim();
    expect(whm.passwordIs('bob@example.test', pw)).toBe(true);
    expect(statSync(r.file).mode & 0o777).toBe(0o600);
    expect(r.text).toContain(`password: new password set; it is in ${r.file} (mode 600)`);
    expect(r.journal).not.toContain(pw);
    expect(r.text).not.toContain(pw);
  });

  it('WHM refuses the reset: no file is left behind, and the run says no password was set', async () => {
    const before = whm.mailbox('bob@example.test')!.passwordChanges;
    const r = await run(WHM(), 'nobody@example.test');
    expect(r.out.status).toBe('failed');
    expect(r.out.error).toMatch(/WHM uapi_cpanel Email::passwd_pop.* failed: api error/);
    expect(existsSync(r.file)).toBe(false);
    expect(r.journal).not.toMatch(/"key":"password-set"/);
    expect(whm.mailbox('bob@example.test')!.passwordChanges).toBe(before);
  });

  it('WHM answers HTTP 500 mid-reset: no file', async () => {
    whm.fail('http-500');
    try {
      const r = await run(WHM(), 'bob@example.test');
      expect(r.out.status).toBe('failed');
      expect(existsSync(r.file)).toBe(false);
    } finally {
      whm.fail(null);
    }
  });

  it('password_reset_command fails: no file, and the message says no password was set', async () => {
    const r = await run({ password_reset_command: 'cat >/dev/null; echo "user unknown" >&2; exit 3' }, 'bob@example.test');
    expect(r.out.status).toBe('failed');
    expect(r.out.error).toMatch(/password_reset_command failed \(exit 3\): user unknown; no password was set/);
    expect(existsSync(r.file)).toBe(false);
  });

  it('password_reset_command succeeds: the file holds exactly what the command got on stdin', async () => {
    const got = join(dir, 'got');
    const r = await run({ password_reset_command: `cat > ${got}; printf %s "$MAILSWEEP_ACCOUNT" > ${got}.account` }, 'bob@example.test');
    expect(r.out.status, r.out.error).toBe('ok');
    expect(readFileSync(r.file, 'utf8').split('\t')[1]).toBe(readFileSync(got, 'utf8'));
    expect(readFileSync(`${got}.account`, 'utf8')).toBe('bob@example.test');
    // The journal records what went on stdin — with the password redacted.
    expect(r.journal).not.toContain(readFileSync(got, 'utf8').trim());
    expect(r.journal).toContain('"stdin":"[REDACTED]\\n"');
  });

  it('a skipped reset: the summary says no new password was set', async () => {
    const r = await run(WHM(), 'bob@example.test', { skip: new Set(['reset']) });
    expect(r.out.status, r.out.error).toBe('ok');
    expect(r.text).toContain('password: NOT reset (step skipped); no new password was set');
    expect(existsSync(r.file)).toBe(false);
  });
});
