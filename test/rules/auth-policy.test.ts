// auth-policy: the judgement of three probes (25, 587, 465), then the whole host probe against fake
// SMTP servers on 127.0.0.1 (test/fakes/fake-smtpd.ts, openssl-made certificate) through a Transport
// that sends ports 25/587/465 to them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authPolicyFindings, type PortProbe } from '../../src/rules/auth-policy.js';
import { probeAuthPolicy, silent } from '../../src/scan/auth-probe.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { Transport } from '../../src/transport/types.js';
import { startFakeSmtpd, type FakeSmtpd, type FakeSmtpdOptions } from '../fakes/fake-smtpd.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../fakes/self-signed.js';

const closed = (port: number): PortProbe => silent(port, `cannot open 127.0.0.1:${port}`);
/** An answering port: plaintext EHLO (25/587) or TLS from the start (465), TLS certificate verified. */
const up = (port: number, p: Partial<PortProbe> = {}): PortProbe => ({
  ...closed(port),
  open: true,
  banner: '220 mx.test ESMTP',
  error: undefined,
  ...(port === 465 ? { tls: 'ok', authAfterTls: [], certificate: { verified: true } } : { authBeforeTls: [] }),
  ...p,
});
const starttls = (port: number, before: string[], after: string[], p: Partial<PortProbe> = {}) =>
  up(port, { authBeforeTls: before, starttls: true, tls: 'ok', authAfterTls: after, certificate: { verified: true }, ...p });
const brief = (f: ReturnType<typeof authPolicyFindings>) => f.map((x) => `${x.severity}: ${x.message}`);

describe('authPolicyFindings', () => {
  it('the recommended setup is quiet: no AUTH on 25, AUTH only inside TLS on 587 and 465', () => {
    expect(authPolicyFindings(starttls(25, [], []), starttls(587, [], ['PLAIN', 'LOGIN']), up(465, { authAfterTls: ['PLAIN'] }))).toEqual(
      [],
    );
  });

  it('AUTH before TLS on 25 (as the lab exims): plaintext AUTH and MX-port AUTH, each a warning', () => {
    const f = authPolicyFindings(starttls(25, ['PLAIN', 'LOGIN'], ['PLAIN', 'LOGIN']), closed(587), closed(465));
    expect(brief(f)).toEqual([
      'warning: port 25 offers AUTH (PLAIN LOGIN) before TLS: plaintext AUTH without TLS, passwords cross the network in clear (STARTTLS is offered, not required)',
      'warning: port 25 offers AUTH (PLAIN LOGIN) before and after STARTTLS: a stolen password relays on the MX port; require submission on 587',
      'info: nothing answers on port 587 (cannot open 127.0.0.1:587) nor on port 465 (cannot open 127.0.0.1:465): no submission port',
    ]);
    // Evidence keeps the shape reports had: the port and the mechanisms.
    expect(f[1]!.evidence).toMatchObject({ port: 25, auth: ['PLAIN', 'LOGIN'] });
    expect(f[2]!.evidence).toEqual({ port: 587 });
  });

  it('AUTH only after STARTTLS on 25 is still AUTH on the MX port, not plaintext', () => {
    expect(brief(authPolicyFindings(starttls(25, [], ['PLAIN']), starttls(587, [], ['PLAIN']), closed(465)))).toEqual([
      'warning: port 25 offers AUTH (PLAIN) after STARTTLS: a stolen password relays on the MX port; require submission on 587',
    ]);
  });

  it('plaintext AUTH on 587 without STARTTLS (as the lab sendmail)', () => {
    expect(brief(authPolicyFindings(up(25), up(587, { authBeforeTls: ['LOGIN', 'PLAIN'] }), closed(465)))).toEqual([
      'warning: port 587 offers AUTH (LOGIN PLAIN) before TLS: plaintext AUTH without TLS, passwords cross the network in clear',
    ]);
  });

  it('challenge-response mechanisms only before TLS: still a warning, worded for what crosses the network', () => {
    expect(brief(authPolicyFindings(up(25), up(587, { authBeforeTls: ['CRAM-MD5'] }), closed(465)))).toEqual([
      'warning: port 587 offers AUTH (CRAM-MD5) before TLS: plaintext AUTH without TLS, the exchange crosses the network unencrypted',
    ]);
  });

  it('submission without authentication: 587 even after STARTTLS, 465 over TLS', () => {
    expect(brief(authPolicyFindings(up(25), starttls(587, [], []), up(465)))).toEqual([
      'warning: port 587 does not offer AUTH even after STARTTLS: submission without authentication',
      'warning: port 465 does not offer AUTH: submission without authentication',
    ]);
    expect(brief(authPolicyFindings(up(25), up(587), closed(465)))).toEqual([
      'warning: port 587 does not offer AUTH: submission without authentication',
    ]);
  });

  it('587 closed while 465 offers AUTH is fine', () => {
    expect(authPolicyFindings(up(25), closed(587), up(465, { authAfterTls: ['PLAIN'] }))).toEqual([]);
  });

  it('a failed TLS session proves nothing about AUTH: info, not a warning', () => {
    const broken587 = up(587, { starttls: true, tls: 'failed', error: 'TLS: wrong version number' });
    const broken465 = up(465, {
      banner: null,
      tls: 'failed',
      authAfterTls: null,
      certificate: undefined,
      error: 'TLS: packet length too long',
    });
    expect(brief(authPolicyFindings(up(25), broken587, broken465))).toEqual([
      'info: port 587: STARTTLS failed (TLS: wrong version number): whether it offers AUTH is unknown',
      'info: port 465: TLS handshake failed (TLS: packet length too long): whether it offers AUTH is unknown',
    ]);
  });

  it('an unverified certificate is an info naming the ports', () => {
    const self = { certificate: { verified: false, reason: 'self-signed' } };
    const f = authPolicyFindings(starttls(25, [], [], self), starttls(587, [], ['PLAIN'], self), up(465, { authAfterTls: ['PLAIN'] }));
    expect(brief(f)).toEqual([
      'info: TLS certificate not verified on port 25 (self-signed), port 587 (self-signed): clients that check certificates refuse it',
    ]);
    expect(f[0]!.evidence).toEqual({ certificates: { 25: 'self-signed', 587: 'self-signed' } });
  });
});

describe('probeAuthPolicy: three ports of one host', () => {
  let cert: SelfSignedCert;
  const servers: FakeSmtpd[] = [];
  const fake = async (o: FakeSmtpdOptions) => (servers.push(await startFakeSmtpd(o)), servers[servers.length - 1]!);
  /** The host's ports 25/587/465 are these fake servers' (or nothing: port 1). */
  const host = (ports: Record<number, number>): Transport => {
    const local = new LocalTransport();
    return {
      describe: 'fake host',
      exec: local.exec.bind(local),
      close: async () => {},
      openTcp: (port) => local.openTcp(ports[port] ?? 1),
    };
  };
  beforeAll(() => {
    cert = makeSelfSignedCert();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('probes 25, 587 and 465 side by side and judges them', async () => {
    const mx = await fake({ ext: ['PIPELINING'], extTls: ['PIPELINING'], cert });
    const sub = await fake({ ext: ['PIPELINING'], extTls: ['AUTH PLAIN LOGIN'], cert });
    const tls = await fake({ implicitTls: true, cert, ext: ['AUTH PLAIN'] });
    const probes = await probeAuthPolicy(host({ 25: mx.port, 587: sub.port, 465: tls.port }), 5_000, 'localhost');
    expect(probes.map((p) => [p.port, p.tls, p.authBeforeTls, p.authAfterTls])).toEqual([
      [25, 'ok', [], []],
      [587, 'ok', [], ['PLAIN', 'LOGIN']],
      [465, 'ok', null, ['PLAIN']],
    ]);
    expect(brief(authPolicyFindings(...probes))).toEqual([
      'info: TLS certificate not verified on port 25 (certificate chain not trusted (self-signed, unknown CA or expired)), port 587 (certificate chain not trusted (self-signed, unknown CA or expired)), port 465 (certificate chain not trusted (self-signed, unknown CA or expired)): clients that check certificates refuse it',
    ]);
  });

  it('a hostile MX and a silent submission port: findings printable, the silent one cut at the budget', async () => {
    const mx = await fake({ banner: '220 \u001b[2Jmx', ext: ['AUTH PLAIN \u001b]8;;http://x\u0007LOGIN\u202e'] });
    const hung = await fake({ mode: 'silent' });
    const started = Date.now();
    const probes = await probeAuthPolicy(host({ 25: mx.port, 587: hung.port }), 1_500, 'mx.test');
    expect(Date.now() - started).toBeLessThan(2_500);
    const f = authPolicyFindings(...probes);
    expect(JSON.stringify(f)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(brief(f)).toEqual([
      'warning: port 25 offers AUTH (PLAIN ^[]8;;HTTP://X^GLOGIN<U+202E>) before TLS: plaintext AUTH without TLS, passwords cross the network in clear',
      'warning: port 25 offers AUTH (PLAIN ^[]8;;HTTP://X^GLOGIN<U+202E>) without TLS: a stolen password relays on the MX port; require submission on 587',
      expect.stringMatching(
        /^info: nothing answers on port 587 \(no answer within 1\.5 s\) nor on port 465 \(.*cannot open 127\.0\.0\.1:1.*\): no submission port$/,
      ),
    ]);
  });
});
