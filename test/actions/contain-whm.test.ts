// `contain` and `release` in the real engine against the fake WHM (HTTPS on loopback): each
// measure and its undo changes the fake's state and back; a failing UAPI call is a step error and
// nothing is recorded as done; a dry run changes nothing; release lifts only what contain did.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/inventory/types.js';
import { type RunOptions } from '../../src/playbook/engine.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { localHost, runLocalPlaybook } from '../playbook/local-host.js';

const TOKEN = 'whm-token-contain-0123456789';
const BOB = 'bob@example.test';
let whm: FakeWhm;
const dir = mkdtempSync(join(tmpdir(), 'ms-contain-'));

beforeAll(async () => {
  whm = await FakeWhm.start({
    token: TOKEN,
    domains: { 'example.test': 'examplec' },
    mailboxes: { examplec: [BOB, 'carol@example.test'] },
  });
  writeFileSync(join(dir, 'ca.pem'), whm.cert);
  process.env.T_CONTAIN_TOKEN = TOKEN;
});
afterAll(() => whm?.close());
beforeEach(() => {
  whm.fail(null);
  whm.failFunction(null);
  whm.omitRestrictions = false;
  for (const a of [BOB, 'carol@example.test']) whm.setMailbox(a, { heldOutgoing: false, suspendedOutgoing: false, suspendedLogin: false });
  whm.setAccount('examplec', { hold: false, suspended: false });
});

const CONTAIN = `
name: contain
vars: { account: "", measures: "", scope: mailbox }
steps:
  - { name: Contain, id: contain, action: contain, confirm: true, params: { account: "{{ account }}", measures: "{{ measures }}", scope: "{{ scope }}" } }
`;
const RELEASE = `
name: release
vars: { account: "", contain_run: "" }
steps:
  - { name: Release, id: release, action: release, confirm: true, params: { account: "{{ account }}", run: "{{ contain_run }}" } }
`;

function host(vars: Record<string, unknown>): HostSpec {
  return { ...localHost('mx1', 'exim'), vars };
}
const WHM = { cpanel_url: '', cpanel_token_env: 'T_CONTAIN_TOKEN', cpanel_ca_file: join(dir, 'ca.pem') };

async function run(pb: string, vars: Record<string, unknown>, runsDir: string, o: Partial<RunOptions> = {}) {
  return runLocalPlaybook(pb, host({ ...WHM, cpanel_url: whm.url }), { vars, runsDir, ...o });
}
const contain = (measures: string, runsDir: string, o: Partial<RunOptions> = {}, scope = 'mailbox') =>
  run(CONTAIN, { account: BOB, measures, scope }, runsDir, o);
const release = (runsDir: string, o: Partial<RunOptions> = {}, runId = '') =>
  run(RELEASE, { account: BOB, contain_run: runId }, runsDir, o);
const runs = () => mkdtempSync(join(dir, 'runs-'));
const state = () => {
  const m = whm.mailbox(BOB)!;
  return { held: m.heldOutgoing, outgoing: m.suspendedOutgoing, login: m.suspendedLogin };
};

describe('contain and release through WHM', () => {
  it('each mailbox measure changes the fake, release changes it back; journal has each effect with its undo; no token anywhere', async () => {
    const r = runs();
    const c = await contain('hold,suspend_outgoing,suspend_login', r);
    expect(c.out.status, c.out.error).toBe('ok');
    expect(state()).toEqual({ held: true, outgoing: true, login: true });
    expect(whm.mailbox('carol@example.test')).toMatchObject({ heldOutgoing: false, suspendedOutgoing: false, suspendedLogin: false });
    expect(c.effects.map((e) => e.key)).toEqual(['contain:hold', 'contain:suspend_outgoing', 'contain:suspend_login']);
    expect(c.effects[0]!.detail).toMatchObject({
      measure: 'hold',
      prior: 'off',
      applied: true,
      undo: { via: 'whm', api: 'uapi', fn: 'release_outgoing', cpanelUser: 'examplec', email: BOB },
    });
    expect(c.text).toContain(`to undo: mailsweep release mx1 --auth-id ${BOB} --run ${c.out.runId}`);

    const x = await release(r);
    expect(x.out.status, x.out.error).toBe('ok');
    expect(state()).toEqual({ held: false, outgoing: false, login: false });
    // Undone in reverse order, each journaled naming the contain run.
    expect(x.effects.map((e) => e.key)).toEqual(['release:suspend_login', 'release:suspend_outgoing', 'release:hold']);
    expect(x.effects[0]!.detail).toMatchObject({ containRun: c.out.runId, call: `uapi_cpanel Email::unsuspend_login(email=${BOB})` });
    for (const t of [c.journal, c.text, x.journal, x.text]) expect(t).not.toContain(TOKEN);

    // A second release finds nothing left and changes nothing.
    const calls = whm.calls.length;
    const y = await release(r);
    expect(y.out.status).toBe('ok');
    expect(y.text).toContain(`nothing left to release from run ${c.out.runId}`);
    expect(whm.calls.length).toBe(calls);
  });

  it('whole cPanel account: WHM API 1 hold_outgoing_email / suspend_outgoing_email, and back', async () => {
    const r = runs();
    const c = await contain('hold,suspend_outgoing', r, {}, 'account');
    expect(c.out.status, c.out.error).toBe('ok');
    expect(whm.account('examplec')).toEqual({ hold: true, suspended: true });
    expect(
      whm.calls.filter((k) => k.fn.endsWith('_outgoing_email') && k.fn.match(/^(hold|suspend)/)).map((k) => [k.fn, k.params.user]),
    ).toEqual([
      ['hold_outgoing_email', 'examplec'],
      ['suspend_outgoing_email', 'examplec'],
    ]);
    expect(state()).toEqual({ held: false, outgoing: false, login: false });
    const x = await release(r);
    expect(x.out.status, x.out.error).toBe('ok');
    expect(whm.account('examplec')).toEqual({ hold: false, suspended: false });
  });

  it('suspend_login has no whole-account form: refused before anything changes', async () => {
    const before = whm.calls.length;
    const c = await contain('hold,suspend_login', runs(), {}, 'account');
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/suspend_login has no whole-account form/);
    expect(whm.calls.length).toBe(before);
    expect(c.effects).toEqual([]);
  });

  it('a failing UAPI call (status 0) is a clear step error; that measure is not recorded, later ones never run', async () => {
    whm.failFunction('hold_outgoing');
    const mark = whm.calls.length;
    const c = await contain('hold,suspend_login', runs());
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(
      /WHM uapi_cpanel Email::hold_outgoing\(email=bob@example.test\) failed: api error: .*Injected failure of Email::hold_outgoing/,
    );
    expect(c.effects).toEqual([]);
    expect(state()).toEqual({ held: false, outgoing: false, login: false });
    expect(whm.calls.slice(mark).some((k) => k.uapi === 'Email::suspend_login')).toBe(false);
  });

  it('a failure after one measure: the done one is recorded and is all release undoes', async () => {
    whm.failFunction('suspend_login');
    const r = runs();
    const c = await contain('hold,suspend_login', r);
    expect(c.out.status).toBe('failed');
    expect(c.effects.map((e) => e.key)).toEqual(['contain:hold']);
    expect(state()).toEqual({ held: true, outgoing: false, login: false });
    whm.failFunction(null);
    const mark = whm.calls.length;
    const x = await release(r);
    expect(x.out.status, x.out.error).toBe('ok');
    expect(x.effects.map((e) => e.key)).toEqual(['release:hold']);
    expect(whm.calls.slice(mark).some((k) => k.uapi === 'Email::unsuspend_login')).toBe(false);
    expect(state()).toEqual({ held: false, outgoing: false, login: false });
  });

  it('a dry run makes no WHM call at all, shows the calls, and records no effect', async () => {
    const before = whm.calls.length;
    const c = await contain('hold,suspend_outgoing,suspend_login', runs(), { dryRun: true });
    expect(c.out.status, c.out.error).toBe('ok');
    expect(whm.calls.length).toBe(before);
    expect(c.text).toContain(`[dry-run] would call WHM ${whm.url}: uapi_cpanel Email::hold_outgoing(email=${BOB})`);
    expect(c.text).toContain(`would call WHM ${whm.url}: getdomainowner(domain=example.test)`);
    expect(c.text).toContain('uapi_cpanel Email::list_pops_with_disk(domain=example.test)');
    expect(c.journal).toMatch(/"t":"api".*"call":"uapi_cpanel Email::suspend_login\(email=bob@example.test\)","dryRun":true/);
    expect(c.effects).toEqual([]);
    expect(state()).toEqual({ held: false, outgoing: false, login: false });
  });

  it('a suspension that pre-existed is recorded as such and release leaves it in place', async () => {
    whm.setMailbox(BOB, { suspendedOutgoing: true });
    const r = runs();
    const mark = whm.calls.length;
    const c = await contain('hold,suspend_outgoing', r);
    expect(c.out.status, c.out.error).toBe('ok');
    expect(c.effects.map((e) => [e.key, e.detail!.prior, e.detail!.applied])).toEqual([
      ['contain:hold', 'off', true],
      ['contain:suspend_outgoing', 'on', false],
    ]);
    expect(whm.calls.slice(mark).filter((k) => k.uapi === 'Email::suspend_outgoing')).toEqual([]);
    expect(c.text).toContain('suspend_outgoing: already in place before this run');
    const x = await release(r);
    expect(x.out.status, x.out.error).toBe('ok');
    expect(state()).toEqual({ held: false, outgoing: true, login: false });
    expect(whm.calls.slice(mark).some((k) => k.uapi === 'Email::unsuspend_outgoing')).toBe(false);
    expect(x.text).toMatch(/suspend_outgoing: was already in place before run \S+: left as it is/);
  });

  it('release --run names an older contain run; a run id that contained nothing is an error', async () => {
    const r = runs();
    const first = await contain('hold', r);
    const second = await contain('suspend_login', r);
    expect([first.out.status, second.out.status]).toEqual(['ok', 'ok']);
    const x = await release(r, {}, first.out.runId);
    expect(x.out.status, x.out.error).toBe('ok');
    expect(state()).toEqual({ held: false, outgoing: false, login: true });
    const y = await release(r, {}, 'no-such-run');
    expect(y.out.status).toBe('failed');
    expect(y.out.error).toContain(`no contain run no-such-run recorded containing ${BOB} on mx1`);
  });

  it('a resumed contain run does not repeat a measure it recorded', async () => {
    whm.failFunction('suspend_login');
    const r = runs();
    const c = await contain('hold,suspend_login', r);
    expect(c.out.status).toBe('failed');
    whm.failFunction(null);
    const holds = whm.calls.filter((k) => k.uapi === 'Email::hold_outgoing').length;
    const again = await run(CONTAIN, {}, r, { resume: c.out.runId });
    expect(again.out.status, again.out.error).toBe('ok');
    expect(whm.calls.filter((k) => k.uapi === 'Email::hold_outgoing').length).toBe(holds);
    expect(state()).toEqual({ held: true, outgoing: false, login: true });
    expect(again.text).toMatch(/hold: done earlier in run/);
  });

  it('cPanel does not say whether a restriction was there before: contained, and release lifts it only with --force', async () => {
    whm.omitRestrictions = true;
    const r = runs();
    const c = await contain('hold', r);
    expect(c.out.status, c.out.error).toBe('ok');
    expect(c.effects[0]!.detail).toMatchObject({ prior: 'unknown', applied: true });
    expect(c.text).toContain('release will ask before lifting it');
    const x = await release(r);
    expect(x.out.status).toBe('failed');
    expect(x.out.error).toMatch(/could not read whether hold was already in place.*never answers yes.*--force/);
    expect(state().held).toBe(true);
    const y = await release(r, { forced: new Map([['release.unknown_prior', '--force']]) });
    expect(y.out.status, y.out.error).toBe('ok');
    expect(state().held).toBe(false);
  });
});
