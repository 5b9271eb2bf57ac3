import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { incidentalSecrets, looksLikeSecret, resolveSecret, safeUrl } from '../../src/actions/secrets.js';
import { REDACTED, Redactor, redact } from '../../src/text/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'mailsweep-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

describe('resolveSecret', () => {
  it('reads and trims an environment variable', async () => {
    await expect(resolveSecret({ env: 'WHM_TOKEN' }, 'WHM token', { WHM_TOKEN: '  abc123\n' })).resolves.toBe('abc123');
  });

  it('explains a missing or empty variable without inventing a value', async () => {
    await expect(resolveSecret({ env: 'NOPE' }, 'WHM token for web1', {})).rejects.toThrow(
      /WHM token for web1: environment variable NOPE is not set/,
    );
    await expect(resolveSecret({ env: 'E' }, 'x', { E: '  ' })).rejects.toThrow(/is empty/);
  });

  it('reads and trims a file that only its owner (and group) can read', async () => {
    const p = secretFile('ok', 'file-secret\n', 0o600);
    await expect(resolveSecret({ file: p }, 'WHMCS secret')).resolves.toBe('file-secret');
    const g = secretFile('group', 'group-secret', 0o640);
    await expect(resolveSecret({ file: g }, 'WHMCS secret')).resolves.toBe('group-secret');
  });

  it('refuses a world-readable file with a clear message and without its content', async () => {
    const p = secretFile('open', 'leaky-secret-value', 0o644);
    const err = await resolveSecret({ file: p }, 'WHM token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/readable by other users \(mode 644\); run: chmod 600/);
    expect((err as Error).message).not.toContain('leaky-secret-value');
  });

  it('reports a missing file, an empty file, and bad source combinations', async () => {
    await expect(resolveSecret({ file: join(dir, 'missing') }, 't')).rejects.toThrow(/does not exist/);
    const empty = secretFile('empty', '\n', 0o600);
    await expect(resolveSecret({ file: empty }, 't')).rejects.toThrow(/is empty/);
    await expect(resolveSecret({}, 't')).rejects.toThrow(/no secret source/);
    await expect(resolveSecret({ env: 'A', file: empty }, 't', { A: 'x' })).rejects.toThrow(/not both/);
  });
});

describe('redact', () => {
  it('replaces secrets, also URL-encoded and JSON-escaped', () => {
    const s = 'p@ss w/rd"x';
    const text = `a ${s} b ${encodeURIComponent(s)} c ${new URLSearchParams({ q: s }).toString()} d ${JSON.stringify(s)}`;
    const out = redact(text, [s]);
    expect(out).not.toContain('p@ss');
    expect(out).not.toContain('w/rd');
    expect(out).not.toContain('w%2Frd');
  });

  it('hides Authorization header values whatever the scheme', () => {
    expect(redact('Authorization: whm root:ABCDEF123', [])).toBe(`Authorization: whm ${REDACTED}`);
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}', [])).toBe(`{"authorization":"Basic ${REDACTED}"}`);
    expect(redact('authorization=cpanel bob:TOK', [])).toBe(`authorization=cpanel ${REDACTED}`);
  });

  it('hides password=, secret= and accesskey= values in URLs and form bodies', () => {
    const out = redact(
      'GET /json-api/uapi_cpanel?api.version=1&password=hunter2&email=info action=SendEmail&secret=s3cr3t&accesskey=k3y&id=1',
      [],
    );
    expect(out).toBe(
      `GET /json-api/uapi_cpanel?api.version=1&password=${REDACTED}&email=info action=SendEmail&secret=${REDACTED}&accesskey=${REDACTED}&id=1`,
    );
  });

  it('leaves ordinary text alone', () => {
    expect(redact('password reset for info@example.com done', ['zzz'])).toBe('password reset for info@example.com done');
  });
});

describe('Redactor', () => {
  it('collects secrets and offers a bound redact function for the journal', () => {
    const r = new Redactor(['tok-1']).add('pw-2', undefined, '');
    expect(r.size).toBe(2);
    const fn = r.redact;
    expect(fn('tok-1 and pw-2')).toBe(`${REDACTED} and ${REDACTED}`);
  });

  it('deep-redacts JSON-able values without changing the original', () => {
    const r = new Redactor(['newpass-123']);
    const value = {
      step: 'reset',
      params: { email: 'info', password: 'anything', domain: 'example.com' },
      headers: { Authorization: 'whm root:XYZ', accept: 'json' },
      note: 'set to newpass-123',
      list: ['newpass-123', 1, null, true],
      token: '',
    };
    const out = r.redactValue(value);
    expect(out).toEqual({
      step: 'reset',
      params: { email: 'info', password: REDACTED, domain: 'example.com' },
      headers: { Authorization: REDACTED, accept: 'json' },
      note: `set to ${REDACTED}`,
      list: [REDACTED, 1, null, true],
      token: '',
    });
    expect(value.params.password).toBe('anything');
  });

  it('handles errors and cycles, and stringify() never leaks', () => {
    const r = new Redactor(['s3cret-token']);
    const err = Object.assign(new Error('failed with s3cret-token'), { code: 'X' });
    const cyclic: Record<string, unknown> = { err };
    cyclic.self = cyclic;
    const out = r.redactValue(cyclic) as Record<string, Record<string, unknown>>;
    expect(out.err).toEqual({ name: 'Error', message: `failed with ${REDACTED}`, code: 'X' });
    expect(out.self).toBe('[Circular]');
    expect(r.stringify({ a: 's3cret-token', url: '/x?secret=abc' })).toBe(`{"a":"${REDACTED}","url":"/x?secret=${REDACTED}"}`);
  });
});

describe('secrets that are not secrets by name', () => {
  const CPANEL_TOKEN = 'U7BKQX0LXUE8CNPZ1J3D44Y2JT9ER0AF';
  it('a token pasted where the variable name belongs is refused and never echoed', async () => {
    for (const name of [CPANEL_TOKEN, 'tok en with spaces', 'abc$def', 'whmcs-Sk3yR4nD0mV4lu3xx']) {
      const err = (await resolveSecret({ env: name, key: 'cpanel_token_env' }, 'WHM token for mx1', { [name]: 'x' }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/cpanel_token_env must name an environment variable .*its value is not shown/);
      expect(err.message).not.toContain(name);
    }
    // A real name is still named when it is missing.
    await expect(resolveSecret({ env: 'WHM_TOKEN_DC1', key: 'cpanel_token_env' }, 'WHM token', {})).rejects.toThrow(
      /WHM_TOKEN_DC1 is not set \(named by cpanel_token_env\)/,
    );
  });

  it('tells names from tokens', () => {
    for (const n of ['WHM_TOKEN', 'MAILSWEEP_WHM_TOKEN_DC1', 'T_WHMCS_SECRET', 'notify_smtp_pass', '/etc/mailsweep/whm.token'])
      expect(looksLikeSecret(n), n).toBe(false);
    for (const t of [CPANEL_TOKEN, 'a1B2c3D4e5F6g7H8i9J0']) expect(looksLikeSecret(t), t).toBe(true);
  });

  it('strips URL userinfo for display', () => {
    expect(safeUrl('https://user:secret@whm.example:2087/')).toBe('https://whm.example:2087/');
    expect(safeUrl('https://whm.example:2087')).toBe('https://whm.example:2087');
    expect(safeUrl('https://us er:pa ss@not a url')).toBe('https://not a url');
  });

  it('collects URL passwords and pasted tokens from host vars for the redactor', () => {
    const found = incidentalSecrets({
      cpanel_url: 'https://root:p%40ss-W0rd@whm.example:2087',
      whmcs_url: 'https://whmcs.example/includes/api.php',
      cpanel_token_env: CPANEL_TOKEN,
      whmcs_secret_env: 'WHMCS_SECRET',
      notify_smtp_pass_env: 'SMTP_PASS',
      jump: 'https://root@host',
    });
    expect(found).toEqual(expect.arrayContaining(['p%40ss-W0rd', 'p@ss-W0rd', CPANEL_TOKEN]));
    expect(found).not.toContain('WHMCS_SECRET');
    expect(found).not.toContain('SMTP_PASS');
    expect(found).not.toContain('root');
    const r = new Redactor(found);
    expect(r.redact(`GET https://root:p%40ss-W0rd@whm.example ${CPANEL_TOKEN}`)).not.toMatch(/W0rd|U7BKQX/);
  });
});
