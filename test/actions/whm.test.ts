import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WhmClient, generatePassword } from '../../src/actions/whm.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { LeakCheck } from './leak-check.js';

const TOKEN = 'U7HMR63FHY282DQZ4H5BIH16JLYSO01M';
const PASSWORD = 'N3w-Mailbox.Pass:word@x';

let fake: FakeWhm;
const leaks = new LeakCheck();
const apiError = (p: Promise<unknown>) => leaks.apiError(p);

function client(over: Partial<ConstructorParameters<typeof WhmClient>[0]> = {}): WhmClient {
  return new WhmClient({ baseUrl: fake.url, user: 'root', token: TOKEN, ca: fake.cert, timeoutMs: 5_000, ...over });
}

beforeAll(async () => {
  fake = await FakeWhm.start({
    token: TOKEN,
    domains: { 'example.com': 'exampleco', 'example.net': 'exampleco', 'other.org': 'otherorg' },
    mailboxes: { exampleco: ['info@example.com', 'sales@example.com', 'info@example.net'], otherorg: ['a@other.org'] },
    contacts: { exampleco: 'owner@customer.example' },
  });
});
afterAll(async () => {
  // No error message, no error JSON and no recorded call may contain the token or a password.
  leaks.check([TOKEN, PASSWORD], fake.calls, 5);
  await fake.close();
});
beforeEach(() => fake.fail(null));

describe('WhmClient against the fake WHM', () => {
  it('getDomainOwner returns the cPanel user, always with api.version=1', async () => {
    await expect(client().getDomainOwner('example.com')).resolves.toBe('exampleco');
    const call = fake.calls.at(-1);
    expect(call).toMatchObject({ fn: 'getdomainowner', apiVersion: '1', authorized: true, method: 'GET' });
    expect(call?.params.domain).toBe('example.com');
  });

  it('accountContact reads the contact address from accountsummary (data.acct[0].email)', async () => {
    await expect(client().accountContact('exampleco')).resolves.toEqual({ email: 'owner@customer.example', domain: 'example.com' });
    expect(fake.calls.at(-1)).toMatchObject({ fn: 'accountsummary', apiVersion: '1', params: { user: 'exampleco' } });
    // No contact set: WHM shows "*unknown*", which is not an address.
    await expect(client().accountContact('otherorg')).resolves.toEqual({ email: null, domain: 'other.org' });
    const err = await apiError(client().accountContact('ghost'));
    expect(err.message).toMatch(/accountsummary: WHM API error: .*ghost.* does not exist/);
  });

  it('unknown domain → not-found', async () => {
    const err = await apiError(client().getDomainOwner('nobody.example'));
    expect(err.kind).toBe('not-found');
    expect(err.message).toMatch(/nobody\.example/);
  });

  it('bad token → auth (HTTP 403), message without the token', async () => {
    const err = await apiError(client({ token: `${TOKEN}x` }).getDomainOwner('example.com'));
    expect(err).toMatchObject({ kind: 'auth', status: 403, service: 'whm' });
    expect(err.message).toMatch(/refused the credentials of user root/);
    expect(err.message).not.toContain(TOKEN);
    fake.fail('bad-token');
    expect((await apiError(client().getDomainOwner('example.com'))).kind).toBe('auth');
  });

  it('metadata.result 0 → api error with the reason', async () => {
    fake.fail('api-error');
    const err = await apiError(client().getDomainOwner('example.com'));
    expect(err).toMatchObject({ kind: 'api', errors: ['Injected API failure (fake).'] });
    expect(err.message).toContain('Injected API failure');
  });

  it('HTTP 500 → api error with the status', async () => {
    fake.fail('http-500');
    const err = await apiError(client().listPops('exampleco'));
    expect(err).toMatchObject({ kind: 'api', status: 500 });
  });

  it('setMailboxPassword changes the password through Email::passwd_pop (local part + domain)', async () => {
    const c = client();
    await c.setMailboxPassword('exampleco', 'info@example.net', PASSWORD);
    expect(fake.passwordIs('info@example.net', PASSWORD)).toBe(true);
    expect(fake.mailbox('info@example.net')?.passwordChanges).toBe(1);
    expect(fake.mailbox('info@example.com')?.passwordChanges).toBe(0);
    const call = fake.calls.at(-1);
    expect(call).toMatchObject({ fn: 'uapi_cpanel', uapi: 'Email::passwd_pop', apiVersion: '1' });
    expect(call?.params).toMatchObject({
      'cpanel.user': 'exampleco',
      'cpanel.module': 'Email',
      'cpanel.function': 'passwd_pop',
      email: 'info',
      domain: 'example.net',
      password: '[REDACTED]',
    });
  });

  it('POST mode (opt-in) sends the same call as a form body', async () => {
    await client({ method: 'POST' }).setMailboxPassword('exampleco', 'sales@example.com', PASSWORD);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'POST', apiVersion: '1', uapi: 'Email::passwd_pop' });
    expect(fake.passwordIs('sales@example.com', PASSWORD)).toBe(true);
  });

  it('unknown mailbox → UAPI status 0 inside HTTP 200 → api error with the UAPI errors', async () => {
    const err = await apiError(client().setMailboxPassword('exampleco', 'ghost@example.com', PASSWORD));
    expect(err).toMatchObject({ kind: 'api', status: 200, call: 'Email::passwd_pop' });
    expect(err.errors).toEqual(['The account “ghost@example.com” does not exist.']);
    expect(err.message).toContain('does not exist');
    expect(err.message).not.toContain(PASSWORD);
  });

  it('suspendOutgoing and suspendLogin flip the mailbox state; listPops reports it', async () => {
    const c = client();
    await c.suspendOutgoing('exampleco', 'info@example.com');
    await c.suspendLogin('exampleco', 'info@example.com');
    expect(fake.mailbox('info@example.com')).toMatchObject({ suspendedOutgoing: true, suspendedLogin: true });
    const pops = await c.listPops('exampleco', '^info@');
    expect(pops.map((p) => p.email).sort()).toEqual(['info@example.com', 'info@example.net']);
    expect(pops.find((p) => p.email === 'info@example.com')?.suspended_login).toBe(1);
    await c.unsuspendLogin('exampleco', 'info@example.com');
    await c.unsuspendOutgoing('exampleco', 'info@example.com');
    expect(fake.mailbox('info@example.com')).toMatchObject({ suspendedOutgoing: false, suspendedLogin: false });
    expect((await c.listPops('exampleco')).length).toBe(3);
  });

  it('a mailbox of another cPanel user is not found', async () => {
    const err = await apiError(client().suspendOutgoing('otherorg', 'info@example.com'));
    expect(err.kind).toBe('api');
  });

  it('untrusted certificate without ca → tls error; insecure: true works', async () => {
    const err = await apiError(
      new WhmClient({ baseUrl: fake.url, user: 'root', token: TOKEN, timeoutMs: 5_000 }).getDomainOwner('example.com'),
    );
    expect(err.kind).toBe('tls');
    expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const insecure = new WhmClient({ baseUrl: fake.url, user: 'root', token: TOKEN, insecure: true });
    await expect(insecure.getDomainOwner('example.com')).resolves.toBe('exampleco');
  });

  it('timeout → network error marked timedOut', async () => {
    fake.fail('timeout');
    const started = Date.now();
    const err = await apiError(client({ timeoutMs: 300 }).setMailboxPassword('exampleco', 'info@example.com', PASSWORD));
    expect(err).toMatchObject({ kind: 'network', timedOut: true, code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('connection refused → network error', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await apiError(client({ baseUrl: `https://127.0.0.1:${port}` }).getDomainOwner('example.com'));
    expect(err).toMatchObject({ kind: 'network', code: 'ECONNREFUSED' });
  });

  it('refuses plain http base URLs', () => {
    expect(() => new WhmClient({ baseUrl: 'http://127.0.0.1:2086', user: 'root', token: TOKEN })).toThrow(/https/);
  });
});

describe('generatePassword', () => {
  it('has the requested length, all four classes and only safe characters', () => {
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(20);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[-_.,:@]/);
      expect(p).toMatch(/^[A-Za-z0-9_.,:@-]+$/);
      expect(p).not.toMatch(/^-/);
      expect(p).not.toMatch(/[IOl01]/);
    }
    expect(generatePassword(32)).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, () => generatePassword())).size).toBe(100);
    expect(() => generatePassword(4)).toThrow(RangeError);
  });
});
