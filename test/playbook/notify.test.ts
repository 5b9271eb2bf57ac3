// The notify step through WHMCS (the local HTTPS fake) inside the real engine: template mail with
// PHP-serialized customvars, or a ticket; the new password only when asked for, never in the journal.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../../src/actions/index.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook } from '../../src/playbook/engine.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { LocalTransport } from '../../src/transport/local.js';
import { FakeWhmcs } from '../fakes/fake-whmcs.js';

let whmcs: FakeWhmcs;
const dir = mkdtempSync(join(tmpdir(), 'ms-notify-'));
const ID = 'whmcs-ident-abcdef';
const SECRET = 'whmcs-secret-0123456789';

beforeAll(async () => {
  whmcs = await FakeWhmcs.start({ identifier: ID, secret: SECRET, clients: [{ id: 7, email: 'owner@customer.test', firstname: 'Olga', lastname: 'Owner' } as never], departments: [2], templates: ['Hijacked Mailbox'] });
  writeFileSync(join(dir, 'ca.pem'), whmcs.cert);
});
afterAll(() => whmcs?.close());

function host(vars: Record<string, unknown>): HostSpec {
  return {
    name: 'mx1', address: '127.0.0.1', port: 22, user: 'root', connection: 'local', become: false, becomeUser: 'root', mta: 'exim',
    queueWarn: 75, queueCrit: 100, groups: ['all'], source: { file: 'inv.yaml', line: 1 },
    vars: { whmcs_url: whmcs.url, whmcs_identifier_env: 'T_WHMCS_ID', whmcs_secret_env: 'T_WHMCS_SECRET', whmcs_ca_file: join(dir, 'ca.pem'), notify_to: 'owner@customer.test', ...vars },
  };
}

const PB = `
name: notify only
steps:
  - name: Notify
    id: notify
    action: notify
    params: { account: bob@example.test, include_password: "{{ include_password }}", spam_count: 300 }
`;

async function run(vars: Record<string, unknown>, include = false) {
  process.env.T_WHMCS_ID = ID;
  process.env.T_WHMCS_SECRET = SECRET;
  const runsDir = mkdtempSync(join(dir, 'runs-'));
  const pb = parsePlaybook(PB.replace('name: notify only', 'name: notify only\nvars: { include_password: false }'), 'n.yaml', ACTION_NAMES);
  return runPlaybook({
    playbook: pb, host: host(vars), transport: new LocalTransport(), actions: ACTIONS, preflight: PREFLIGHT,
    vars: { include_password: include }, dryRun: false, unattended: true, answers: {}, skip: new Set(), runsDir, secrets: [], tty: false, commandTimeoutMs: 10_000,
  });
}

describe('notify through WHMCS', () => {
  it('sends the template with PHP-serialized customvars to the client found by e-mail', async () => {
    const out = await run({ whmcs_template: 'Hijacked Mailbox' });
    expect(out.status, out.error).toBe('ok');
    const mail = whmcs.emails.at(-1)!;
    expect(mail).toMatchObject({ messagename: 'Hijacked Mailbox', id: 7 });
    expect(mail.customvars).toEqual({ account: 'bob@example.test', host: 'mx1', spam_count: 300 });
    const journal = readFileSync(out.journalPath, 'utf8');
    expect(journal).not.toContain(SECRET);
    expect(journal).toMatch(/"t":"effect","step":"notify","key":"notified"/);
  });

  it('opens a ticket when no template is set', async () => {
    const out = await run({ whmcs_dept_id: 2 });
    expect(out.status, out.error).toBe('ok');
    expect(whmcs.tickets.at(-1)).toMatchObject({ deptid: 2, clientid: 7, subject: 'Your mailbox bob@example.test was used to send spam' });
    expect(whmcs.tickets.at(-1)!.message).toContain('set a new password');
  });

  it('fails clearly on bad credentials, naming WHMCS and never the secret', async () => {
    process.env.T_WHMCS_SECRET = 'wrong';
    const pb = parsePlaybook(PB.replace('name: notify only', 'name: notify only\nvars: { include_password: false }'), 'n.yaml', ACTION_NAMES);
    const runsDir = mkdtempSync(join(dir, 'runs-'));
    const out = await runPlaybook({
      playbook: pb, host: host({ whmcs_template: 'Hijacked Mailbox' }), transport: new LocalTransport(), actions: ACTIONS, preflight: PREFLIGHT,
      vars: { include_password: false }, dryRun: false, unattended: true, answers: {}, skip: new Set(), runsDir, secrets: [], tty: false, commandTimeoutMs: 10_000,
    });
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/WHMCS SendEmail\(messagename=Hijacked Mailbox\) failed: auth error/);
    expect(readFileSync(out.journalPath, 'utf8')).not.toContain(SECRET);
  });

  it('includes the new password only when asked, and the journal still redacts it', async () => {
    const runsDir = mkdtempSync(join(dir, 'runs-'));
    const pb = parsePlaybook(PB.replace('name: notify only', 'name: notify only\nvars: { include_password: false }'), 'n.yaml', ACTION_NAMES);
    process.env.T_WHMCS_SECRET = SECRET;
    // A run whose reset step wrote the hand-over file (what reset-password does).
    const runId = 'r1';
    mkdirSync(join(runsDir, runId), { recursive: true });
    writeFileSync(join(runsDir, `${runId}.jsonl`), JSON.stringify({ t: 'run-start', runId, playbook: 'n.yaml', host: 'mx1', vars: { include_password: true }, dryRun: false, user: 't', at: new Date().toISOString() }) + '\n');
    writeFileSync(join(runsDir, runId, 'new-password'), 'bob@example.test\tN3w-Pass.word:42\n', { mode: 0o600 });
    const out = await runPlaybook({
      playbook: pb, host: host({ whmcs_template: 'Hijacked Mailbox' }), transport: new LocalTransport(), actions: ACTIONS, preflight: PREFLIGHT,
      vars: {}, dryRun: false, unattended: true, answers: {}, skip: new Set(), runsDir, resume: runId, secrets: [], tty: false, commandTimeoutMs: 10_000,
    });
    expect(out.status, out.error).toBe('ok');
    expect(whmcs.emails.at(-1)!.customvars).toMatchObject({ new_password: 'N3w-Pass.word:42' });
    expect(readFileSync(out.journalPath, 'utf8')).not.toContain('N3w-Pass.word:42');
  });
});
