// The notify step inside the real engine, against the local HTTPS fakes (WHMCS, WHM) and an SMTP
// sink: the notice is the Liquid template filled from what the run really did (journal effects of
// the reset and of every purge round), sent to the address WHM or WHMCS knows, never guessed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../../src/actions/index.js';
import { renderNotice, DEFAULT_NOTICE } from '../../src/actions/notify.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { Action } from '../../src/playbook/types.js';
import { LocalTransport } from '../../src/transport/local.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { FakeWhmcs } from '../fakes/fake-whmcs.js';
import { SmtpSink } from '../fakes/smtp-sink.js';
import { localHost } from './local-host.js';

let whmcs: FakeWhmcs;
let whm: FakeWhm;
let sink: SmtpSink;
const dir = mkdtempSync(join(tmpdir(), 'ms-notify-'));
const ID = 'whmcs-ident-abcdef';
const SECRET = 'whmcs-secret-0123456789';
const TOKEN = 'WHMTOKEN0123456789ABCDEFGHIJKLMN';

beforeAll(async () => {
  whmcs = await FakeWhmcs.start({
    identifier: ID,
    secret: SECRET,
    clients: [
      { id: 7, email: 'owner@customer.test', firstname: 'Olga', lastname: 'Owner' },
      { id: 9, email: 'billing@shop.test', firstname: 'Sam', lastname: 'Shop' },
    ],
    departments: [2],
    templates: ['Hijacked Mailbox'],
  });
  whm = await FakeWhm.start({
    token: TOKEN,
    domains: { 'example.test': 'examplec', 'shop.test': 'shopc', 'self.test': 'selfc', 'evil.test': 'evilc', 'client7.test': 'c7' },
    mailboxes: {
      examplec: ['bob@example.test'],
      shopc: ['carol@shop.test'],
      selfc: ['me@self.test'],
      evilc: ['x@evil.test'],
      c7: ['joe@client7.test'],
    },
    contacts: {
      examplec: 'boss@customer.test',
      c7: 'owner@customer.test',
      selfc: 'me@self.test',
      evilc: 'owner\u001bm\u202e\u0007@customer.test',
    },
  });
  sink = await SmtpSink.start();
  writeFileSync(join(dir, 'whmcs-ca.pem'), whmcs.cert);
  writeFileSync(join(dir, 'whm-ca.pem'), whm.cert);
  process.env.T_WHMCS_ID = ID;
  process.env.T_WHMCS_SECRET = SECRET;
  process.env.T_WHM_TOKEN = TOKEN;
});
afterAll(async () => {
  await whmcs?.close();
  await whm?.close();
  await sink?.close();
});

const WHMCS = () => ({
  whmcs_url: whmcs.url,
  whmcs_identifier_env: 'T_WHMCS_ID',
  whmcs_secret_env: 'T_WHMCS_SECRET',
  whmcs_ca_file: join(dir, 'whmcs-ca.pem'),
});
const WHM = () => ({ cpanel_url: whm.url, cpanel_token_env: 'T_WHM_TOKEN', cpanel_ca_file: join(dir, 'whm-ca.pem') });
/** The sink keeps the wire form: undo quoted-printable soft line breaks to read the text. */
const body = (m: { data: string }) => m.data.replace(/=\r?\n/g, '');
const MAIL = () => ({ notify_smtp_host: '127.0.0.1', notify_smtp_port: sink.port, notify_from: 'abuse@provider.test' });

function host(vars: Record<string, unknown>): HostSpec {
  return { ...localHost('mx1', 'exim'), vars };
}

/** Stands in for purge (which needs a real MTA): journals its removals per batch as purge does. */
const fakePurge: Action = {
  name: 'fakepurge',
  params: z.object({ rounds: z.array(z.number()), key: z.string().default('delete') }),
  describe: () => 'fake purge',
  async run(p: { rounds: number[]; key: string }, ctx) {
    const round = Number(ctx.scope.round ?? 0);
    ctx.scope.round = round + 1;
    const n = p.rounds[Math.min(round, p.rounds.length - 1)] ?? 0;
    if (!ctx.dryRun && n) ctx.journal.append({ t: 'effect', step: ctx.step.id, key: p.key, detail: { count: n, ids: [] } });
    return { listed: n, done: n, clean: round + 1 >= p.rounds.length, queueAfter: 100 - round * 10 };
  },
};
const actions: Record<string, Action> = { ...ACTIONS, fakepurge: fakePurge };

/** reset (real, fake WHM) → purge ×2 rounds → backscatter → notify (real) → summary (real). */
const PB = (notify: string, resetConfirm = '') => `
name: notice test
vars: { account: "", include_password: false, notify_template: "" }
steps:
  - { name: Reset, id: reset, action: reset-password, skippable: true, ${resetConfirm} params: { account: "{{ account }}" } }
  - { name: Purge, id: purge, action: fakepurge, params: { rounds: [250, 40] } }
  - { name: Backscatter, id: backscatter, action: fakepurge, params: { rounds: [12] } }
  - { name: Repeat, id: repeat, action: repeat, params: { steps: [purge], until: "{{ purge.clean }}", max: 3 } }
  - name: Notify
    id: notify
    action: notify
    skippable: true
    params: { account: "{{ account }}", include_password: "{{ include_password }}", template: "{{ notify_template }}", queue_before: 312, spam_queued_before: 290 ${notify} }
  - { name: Summary, id: summary, action: summary, params: { account: "{{ account }}", before: 312 } }
`;

async function run(vars: Record<string, unknown>, o: Partial<RunOptions> & { pb?: string; account?: string } = {}) {
  const { pb: text, account, vars: runVars, ...rest } = o;
  const pb = parsePlaybook(text ?? PB(''), 'n.yaml', [...ACTION_NAMES, 'fakepurge']);
  return runPlaybook({
    playbook: pb,
    host: host(vars),
    transport: new LocalTransport(),
    actions,
    preflight: PREFLIGHT,
    vars: { account: account ?? 'bob@example.test', ...(runVars ?? {}) },
    dryRun: false,
    unattended: true,
    answers: {},
    skip: new Set(),
    runsDir: mkdtempSync(join(dir, 'runs-')),
    secrets: [],
    renderer: plainRenderer({ out: () => {} }),
    commandTimeoutMs: 10_000,
    ...rest,
  });
}

describe('the customer notice states what happened', () => {
  it('after a reset and two purge rounds: the after-purge counts summed, the reset told, no password unless asked', async () => {
    const sent = sink.messages.length;
    const out = await run({ ...WHM(), ...MAIL() });
    expect(out.status, out.error).toBe('ok');
    expect(sink.messages.length).toBe(sent + 1);
    const m = { ...sink.messages.at(-1)!, data: body(sink.messages.at(-1)!) };
    expect(m.to).toEqual(['boss@customer.test']); // WHM accountsummary's contact address
    expect(m.data).toMatch(/Subject: Your mailbox bob@example.test was used to send spam/);
    expect(m.data).toMatch(/We removed 290 of these messages from the queue, and 12 bounce message\(s\) they caused\./);
    expect(m.data).toMatch(/we have set a new password on the mailbox/);
    expect(m.data).not.toMatch(/The new password is/);
    expect(whm.mailbox('bob@example.test')!.passwordChanges).toBeGreaterThan(0);
    const journal = readFileSync(out.journalPath, 'utf8');
    expect(journal).toMatch(/"service":"whm","call":"getdomainowner\(domain=example.test\) \+ accountsummary","ok":true/);
    expect(journal).not.toContain(TOKEN);
    expect(whm.calls.some((c) => c.fn === 'accountsummary' && c.params.user === 'examplec')).toBe(true);
    expect(out.results.summary).toMatchObject({ reset: 'done', spamRemoved: 290, backscatterRemoved: 12 });
    expect(String((out.results.summary as { passwordFile: string }).passwordFile)).toMatch(/new-password$/);
  });

  it('include_password carries the password that was really set, and the journal never does', async () => {
    const out = await run({ ...WHM(), ...MAIL() }, { vars: { include_password: true } });
    expect(out.status, out.error).toBe('ok');
    const file = String((out.results.reset as { passwordFile: string }).passwordFile);
    const pw = readFileSync(file, 'utf8').split('\t')[1]!.trim();
    expect(whm.passwordIs('bob@example.test', pw)).toBe(true);
    expect(body(sink.messages.at(-1)!)).toContain(`The new password is: ${pw}`);
    expect(readFileSync(out.journalPath, 'utf8')).not.toContain(pw);
  });

  it('a skipped reset: the notice says the password was NOT changed and carries none, whatever include_password says', async () => {
    const out = await run({ ...WHM(), ...MAIL() }, { skip: new Set(['reset']), vars: { include_password: true } });
    expect(out.status, out.error).toBe('ok');
    const data = body(sink.messages.at(-1)!);
    expect(data).toMatch(/We have NOT changed it yet/);
    expect(data).not.toMatch(/set a new password on the mailbox|The new password is/);
    expect(out.results.summary).toMatchObject({ reset: 'skipped', passwordFile: null });
  });

  it('a declined reset is told as such in the summary', async () => {
    const out = await run({ ...WHM(), ...MAIL() }, { pb: PB('', 'confirm: "Reset?",'), answers: { 'confirm.reset': 'no' } });
    expect(out.status, out.error).toBe('ok');
    expect(out.results.summary).toMatchObject({ reset: 'declined' });
    expect(body(sink.messages.at(-1)!)).toMatch(/We have NOT changed it yet/);
  });

  it('nothing removed: no "removed" sentence at all', async () => {
    const pb = PB('').replace('rounds: [250, 40]', 'rounds: [0]').replace('rounds: [12]', 'rounds: [0]');
    const out = await run({ ...WHM(), ...MAIL() }, { pb });
    expect(out.status, out.error).toBe('ok');
    expect(body(sink.messages.at(-1)!)).not.toMatch(/removed|stopped/);
  });
});

describe('the customer address', () => {
  it('WHM gives the hijacked mailbox itself: passed over, notify_to used', async () => {
    const out = await run({ ...WHM(), ...MAIL(), notify_to: 'owner@customer.test' }, { account: 'me@self.test' });
    expect(out.status, out.error).toBe('ok');
    expect(sink.messages.at(-1)!.to).toEqual(['owner@customer.test']);
  });

  it('a hostile contact address from WHM is not used, and shown made printable', async () => {
    const lines: string[] = [];
    const out = await run(
      { ...WHM(), ...MAIL() },
      { account: 'x@evil.test', skip: new Set(['reset']), renderer: plainRenderer({ out: (l) => lines.push(`${l}\n`) }) },
    );
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/nobody to ask: give the answer with --answers \(key "notify.customer_email"\)/);
    const text = lines.join('');
    expect(text).toMatch(/not an e-mail address, not used/);
    expect(text).not.toMatch(/[\u001b\u0007]/);
  });

  it('unattended with no address anywhere: the step fails clearly and nothing is sent', async () => {
    const sent = sink.messages.length;
    const out = await run({ ...MAIL(), password_reset_command: 'cat >/dev/null' }, { account: 'carol@shop.test' });
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/notify\.customer_email/);
    expect(sink.messages.length).toBe(sent);
  });

  it('an answer overrides what was found', async () => {
    const out = await run({ ...WHM(), ...MAIL() }, { answers: { 'notify.customer_email': 'other@customer.test' } });
    expect(out.status, out.error).toBe('ok');
    expect(sink.messages.at(-1)!.to).toEqual(['other@customer.test']);
  });
});

describe('notify through WHMCS', () => {
  it('SendEmail gets the facts as PHP-serialized customvars, for whmcs_client_id, at the address WHMCS has for it', async () => {
    const out = await run({ ...WHM(), ...WHMCS(), whmcs_template: 'Hijacked Mailbox', whmcs_client_id: 9 });
    expect(out.status, out.error).toBe('ok');
    const mail = whmcs.emails.at(-1)!;
    // WHMCS mails its client's own address: that is the one reported, not WHM's contact.
    expect(mail).toMatchObject({ messagename: 'Hijacked Mailbox', id: 9 });
    expect(out.results.notify).toMatchObject({ to: 'billing@shop.test', clientId: 9 });
    expect(mail.customvars).toEqual({
      account: 'bob@example.test',
      host: 'mx1',
      run_id: out.runId,
      reset: 'done',
      suspended_outgoing: false,
      spam_removed: 290,
      backscatter_removed: 12,
      held: false,
      spam_queued_before: 290,
      queue_before: 312,
      queue_after: 80,
    });
    const journal = readFileSync(out.journalPath, 'utf8');
    expect(journal).not.toContain(SECRET);
    expect(journal).toMatch(/"t":"effect","step":"notify","key":"notified"/);
  });

  it('attach_evidence through WHMCS: said not possible, the notice goes without it', async () => {
    const lines: string[] = [];
    const out = await run(
      { ...WHM(), ...WHMCS(), whmcs_template: 'Hijacked Mailbox', whmcs_client_id: 9 },
      { pb: PB(', attach_evidence: true'), renderer: plainRenderer({ out: (l) => lines.push(l) }) },
    );
    expect(out.status, out.error).toBe('ok');
    expect(lines.join('\n')).toContain('attach_evidence: WHMCS notices cannot carry attachments');
    expect(whmcs.emails.at(-1)!.customvars).not.toHaveProperty('evidence_attached');
  });

  it('without whmcs_client_id, the client is the one whose address WHM gives as the contact', async () => {
    const out = await run({ ...WHM(), ...WHMCS(), whmcs_template: 'Hijacked Mailbox' }, { account: 'joe@client7.test' });
    expect(out.status, out.error).toBe('ok');
    expect(whmcs.emails.at(-1)).toMatchObject({ id: 7 });
    expect(out.results.notify).toMatchObject({ to: 'owner@customer.test', clientId: 7 });
  });

  it('a contact address that is no WHMCS client: SendEmail refuses clearly, sends nothing', async () => {
    const sent = whmcs.emails.length;
    const out = await run({ ...WHM(), ...WHMCS(), whmcs_template: 'Hijacked Mailbox' });
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/WHMCS: no client has the address boss@customer.test/);
    expect(whmcs.emails.length).toBe(sent);
  });

  it('without WHM, the address comes from WHMCS GetClientsDetails(clientid)', async () => {
    const out = await run({ ...WHMCS(), whmcs_template: 'Hijacked Mailbox', whmcs_client_id: 7, password_reset_command: 'cat >/dev/null' });
    expect(out.status, out.error).toBe('ok');
    expect(whmcs.emails.at(-1)).toMatchObject({ id: 7 });
    expect(out.results.notify).toMatchObject({ to: 'owner@customer.test', clientId: 7 });
  });

  it('OpenTicket carries the rendered notice', async () => {
    const out = await run({ ...WHMCS(), whmcs_dept_id: 2, notify_to: 'owner@customer.test' }, { skip: new Set(['reset']) });
    expect(out.status, out.error).toBe('ok');
    const t = whmcs.tickets.at(-1)!;
    expect(t).toMatchObject({ deptid: 2, clientid: 7, subject: 'Your mailbox bob@example.test was used to send spam' });
    expect(t.message).toMatch(/We have NOT changed it yet/);
    expect(t.message).toMatch(/We removed 290 of these messages/);
  });

  it('fails clearly on bad credentials, naming WHMCS and never the secret', async () => {
    process.env.T_WHMCS_SECRET = 'wrong';
    try {
      const out = await run(
        { ...WHMCS(), whmcs_template: 'Hijacked Mailbox', notify_to: 'owner@customer.test' },
        { skip: new Set(['reset']) },
      );
      expect(out.status).toBe('failed');
      expect(out.error).toMatch(/WHMCS SendEmail\(messagename=Hijacked Mailbox\) failed: auth error/);
      expect(readFileSync(out.journalPath, 'utf8')).not.toContain(SECRET);
    } finally {
      process.env.T_WHMCS_SECRET = SECRET;
    }
  });
});

describe('the notice template', () => {
  it('is overridable by notify_template, and server text reaches it only printable', async () => {
    const t = join(dir, 'mine.liquid');
    writeFileSync(t, 'Subject: Abuse on {{ host }}\nAccount {{ account }}: reset {{ reset }}, removed {{ spam_removed }}.\n');
    const out = await run(
      { ...MAIL(), notify_to: 'owner@customer.test', notify_template: t, password_reset_command: 'cat >/dev/null' },
      { account: 'bob\u001b[2J\u202e@example.test' },
    );
    expect(out.status, out.error).toBe('ok');
    const data = body(sink.messages.at(-1)!);
    expect(data).toMatch(/Subject: Abuse on mx1/);
    expect(data).toContain('Account bob^[[2J<U+202E>@example.test: reset done, removed 290.');
    expect(data).not.toMatch(/[\u001b\u202e]/);
  });

  it('a template error names the file and the line, before anything is sent', async () => {
    const t = join(dir, 'bad.liquid');
    writeFileSync(t, 'Subject: x\nline two\nhello {{ no_such_thing }}\n');
    const sent = sink.messages.length;
    const out = await run({ ...MAIL(), notify_to: 'owner@customer.test' }, { skip: new Set(['reset']), vars: { notify_template: t } });
    expect(out.status).toBe('failed');
    expect(out.error).toContain(`notice template ${t}`);
    expect(out.error).toMatch(/no_such_thing.*line:3/);
    expect(sink.messages.length).toBe(sent);
  });

  it('the shipped template renders every state without a stray blank line run', async () => {
    for (const reset of ['done', 'skipped', 'declined', 'not-run']) {
      const { subject, text } = await renderNotice(DEFAULT_NOTICE, {
        account: 'a@b.test',
        host: 'mx1',
        run_id: 'r',
        reset,
        password: reset === 'done' ? 'PW-1' : '',
        suspended_outgoing: reset === 'done',
        spam_removed: 3,
        backscatter_removed: 0,
        held: false,
        spam_queued_before: 3,
        queue_before: 5,
        queue_after: 2,
        evidence_attached: reset === 'done',
      });
      expect(text.includes('The attached archive holds the evidence')).toBe(reset === 'done');
      expect(subject).toBe('Your mailbox a@b.test was used to send spam');
      expect(text).not.toMatch(/\n{3}/);
      expect(text.includes('The new password is: PW-1')).toBe(reset === 'done');
      expect(/We removed 3 of these messages from the queue\.\n/.test(text)).toBe(true);
    }
    const base = {
      account: 'a@b.test',
      host: 'mx1',
      run_id: 'r',
      reset: 'done',
      password: '',
      suspended_outgoing: false,
      spam_queued_before: 3,
      queue_before: 5,
      queue_after: 2,
      evidence_attached: false,
    };
    const held = await renderNotice(DEFAULT_NOTICE, { ...base, spam_removed: 3, backscatter_removed: 2, held: true });
    expect(held.text).toMatch(
      /We stopped 3 of these messages before delivery \(they are held aside for review\), and 2 bounce message\(s\) they caused\./,
    );
    expect(held.text).not.toMatch(/removed/);
    const bounces = await renderNotice(DEFAULT_NOTICE, { ...base, spam_removed: 0, backscatter_removed: 4, held: false });
    expect(bounces.text).toMatch(/We removed 4 bounce message\(s\) the spam caused\./);
  });
});

describe('dry run', () => {
  it('looks the address up, shows the notice, sends nothing', async () => {
    const sent = sink.messages.length;
    const lines: string[] = [];
    const out = await run({ ...WHM(), ...MAIL() }, { dryRun: true, renderer: plainRenderer({ out: (l) => lines.push(`${l}\n`) }) });
    expect(out.status, out.error).toBe('ok');
    expect(sink.messages.length).toBe(sent);
    const text = lines.join('');
    expect(text).toMatch(/\[dry-run\] would send the notice to boss@customer.test through mail via 127.0.0.1/);
    expect(text).toMatch(/Subject: Your mailbox bob@example.test was used to send spam/);
    expect(text).toMatch(/password: not reset \(dry run\); no new password was set/);
  });
});
