import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WhmcsClient, phpSerialize } from '../../src/actions/whmcs.js';
import { FakeWhmcs } from '../fakes/fake-whmcs.js';
import { LeakCheck } from './leak-check.js';

const IDENTIFIER = 'D4j1dKYE3g40VROOPCGyJ9zRwP0ADJIv';
const SECRET = 'F1CKGXRIpylMfsrig3mwwdSdYUdLiFlo';
const ACCESSKEY = 'acc3ss!key@#';

let fake: FakeWhmcs;
const leaks = new LeakCheck();
const apiError = (p: Promise<unknown>) => leaks.apiError(p);

function client(over: Partial<ConstructorParameters<typeof WhmcsClient>[0]> = {}): WhmcsClient {
  return new WhmcsClient({
    url: fake.url,
    identifier: IDENTIFIER,
    secret: SECRET,
    accesskey: ACCESSKEY,
    ca: fake.cert,
    timeoutMs: 5_000,
    ...over,
  });
}

beforeAll(async () => {
  fake = await FakeWhmcs.start({
    identifier: IDENTIFIER,
    secret: SECRET,
    accesskey: ACCESSKEY,
    clients: [
      { id: 7, email: 'owner@example.com', firstname: 'Zoë', lastname: 'Müller', companyname: 'Example GmbH' },
      { id: 8, email: 'other@other.org', firstname: 'Al', lastname: 'B' },
    ],
    departments: [1, 2],
    templates: ['Mailbox Compromised'],
  });
});
afterAll(async () => {
  leaks.check([SECRET, ACCESSKEY, IDENTIFIER], fake.calls, 4);
  await fake.close();
});
beforeEach(() => fake.fail(null));

describe('WhmcsClient against the fake WHMCS', () => {
  it('sendEmail (custom general message) posts form-encoded json requests with PHP-serialized customvars', async () => {
    const customvars = { mailbox: 'info@example.com', messages_sent: 4213, ratio: 0.5, blocked: true, city: 'Köln' };
    await client().sendEmail({
      id: 7,
      customtype: 'general',
      customsubject: 'Your mailbox info@example.com was misused',
      custommessage: '<p>We reset the password of {$mailbox}.</p>',
      customvars,
    });
    const call = fake.calls.at(-1);
    expect(call).toMatchObject({ action: 'SendEmail', authorized: true });
    expect(call?.params).toMatchObject({ responsetype: 'json', identifier: '[REDACTED]', secret: '[REDACTED]', id: '7' });
    const sent = fake.emails.at(-1);
    expect(sent).toMatchObject({ id: 7, customtype: 'general', customsubject: 'Your mailbox info@example.com was misused' });
    expect(sent?.customvarsSerialized).toBe(phpSerialize(customvars));
    expect(sent?.customvarsSerialized).toBe(
      'a:5:{s:7:"mailbox";s:16:"info@example.com";s:13:"messages_sent";i:4213;s:5:"ratio";d:0.5;s:7:"blocked";b:1;s:4:"city";s:5:"Köln";}',
    );
    expect(sent?.customvars).toEqual(customvars);
  });

  it('sendEmail with a template name', async () => {
    await client().sendEmail({ messagename: 'Mailbox Compromised', id: 7, customvars: { mailbox: 'info@example.com' } });
    expect(fake.emails.at(-1)).toMatchObject({ messagename: 'Mailbox Compromised', customvars: { mailbox: 'info@example.com' } });
  });

  it('result "error" → ApiError with the WHMCS message', async () => {
    const err = await apiError(client().sendEmail({ messagename: 'No Such Template', id: 7 }));
    expect(err).toMatchObject({ kind: 'not-found', errors: ['Email Template not found'], service: 'whmcs', call: 'SendEmail' });
    const err2 = await apiError(client().openTicket({ deptid: 1, subject: 's', message: 'm', name: 'X', email: 'not-an-address' }));
    expect(err2).toMatchObject({ kind: 'api', errors: ['Email Address Invalid'] });
    expect(err2.message).toBe('OpenTicket: WHMCS error: Email Address Invalid');
  });

  it('validates locally what the docs require before calling', async () => {
    await expect(client().sendEmail({ id: 7 })).rejects.toThrow(TypeError);
    await expect(client().sendEmail({ id: 7, customtype: 'general', customsubject: 's' })).rejects.toThrow(/custommessage/);
    await expect(client().openTicket({ deptid: 1, subject: 's', message: 'm' })).rejects.toThrow(/name and email/);
  });

  it('openTicket returns the numeric id and the public ticket number', async () => {
    const r = await client().openTicket({
      deptid: 2,
      subject: 'Mailbox info@example.com sent spam',
      message: 'We **suspended** outgoing mail.',
      clientid: 7,
      priority: 'High',
      markdown: true,
    });
    expect(r).toEqual({ id: 1, tid: '516757', c: 'Fk1c0de' });
    expect(fake.tickets[0]).toMatchObject({ deptid: 2, clientid: 7, priority: 'High', markdown: true });
    expect(fake.calls.at(-1)?.params.markdown).toBe('1');
  });

  it('findClientByEmail uses GetClientsDetails with email; unknown → null', async () => {
    await expect(client().findClientByEmail('owner@example.com')).resolves.toEqual({
      id: 7,
      email: 'owner@example.com',
      firstname: 'Zoë',
      lastname: 'Müller',
      companyname: 'Example GmbH',
      status: 'Active',
    });
    expect(fake.calls.at(-1)).toMatchObject({ action: 'GetClientsDetails', params: { email: 'owner@example.com' } });
    await expect(client().findClientByEmail('nobody@example.com')).resolves.toBeNull();
  });

  it('bad secret or missing access key → auth', async () => {
    const err = await apiError(client({ secret: `${SECRET}x` }).findClientByEmail('owner@example.com'));
    expect(err).toMatchObject({ kind: 'auth', errors: ['Authentication Failed'] });
    expect(err.message).not.toContain(SECRET);
    const noKey = new WhmcsClient({ url: fake.url, identifier: IDENTIFIER, secret: SECRET, ca: fake.cert });
    expect((await apiError(noKey.findClientByEmail('owner@example.com'))).kind).toBe('auth');
  });

  it('HTTP 500 → api error', async () => {
    fake.fail('http-500');
    expect(await apiError(client().findClientByEmail('owner@example.com'))).toMatchObject({ kind: 'api', status: 500 });
  });

  it('untrusted certificate → tls; timeout → network/timedOut', async () => {
    const noCa = new WhmcsClient({ url: fake.url, identifier: IDENTIFIER, secret: SECRET, accesskey: ACCESSKEY });
    expect((await apiError(noCa.findClientByEmail('owner@example.com'))).kind).toBe('tls');
    fake.fail('timeout');
    expect(await apiError(client({ timeoutMs: 300 }).sendEmail({ messagename: 'Mailbox Compromised', id: 7 }))).toMatchObject({
      kind: 'network',
      timedOut: true,
    });
  });
});
