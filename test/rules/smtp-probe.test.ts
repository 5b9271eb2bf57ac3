// The auth-policy probe against fake SMTP servers on 127.0.0.1 (test/fakes/fake-smtpd.ts; certificates
// made by openssl at test time), through a real Transport: the local one (net.Socket) and SSH to a fake
// host on loopback, whose direct-tcpip channel is a plain Duplex that nodemailer upgrades to TLS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { loadInventory } from '../../src/inventory/load.js';
import { probeSmtp } from '../../src/rules/smtp-probe.js';
import { transportFor } from '../../src/scan/connect.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { LocalTransport } from '../../src/transport/local.js';
import { sh } from '../../src/transport/quote.js';
import type { Transport } from '../../src/transport/types.js';
import { startFakeSmtpd, type FakeSmtpd, type FakeSmtpdOptions } from '../fakes/fake-smtpd.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../fakes/self-signed.js';

/** Anything a terminal would interpret: C0/C1 controls, DEL, bidi and invisible format characters. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

let cert: SelfSignedCert;
const servers: FakeSmtpd[] = [];
async function fake(o: FakeSmtpdOptions): Promise<FakeSmtpd> {
  const s = await startFakeSmtpd(o);
  servers.push(s);
  return s;
}
const local = new LocalTransport();

beforeAll(() => {
  cert = makeSelfSignedCert();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('probeSmtp: what a server offers before and after TLS', () => {
  it('plaintext AUTH, no STARTTLS', async () => {
    const s = await fake({ ext: ['PIPELINING', 'AUTH PLAIN LOGIN', 'AUTH=LOGIN'] });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000 });
    expect(r).toEqual({
      port: s.port,
      implicitTls: false,
      open: true,
      banner: '220 mx.test ESMTP',
      authBeforeTls: ['PLAIN', 'LOGIN'],
      starttls: false,
      tls: 'none',
      authAfterTls: null,
    });
    // It says QUIT (after answering) and never tries to authenticate.
    await vi.waitFor(() => expect(s.sessions[0]).toEqual(['EHLO mailsweep.invalid', 'QUIT']));
  });

  it('STARTTLS, then EHLO again: AUTH only inside TLS; the self-signed certificate is recorded as not verified', async () => {
    const s = await fake({ ext: ['PIPELINING'], extTls: ['AUTH PLAIN LOGIN'], cert });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000 });
    expect(r).toMatchObject({ authBeforeTls: [], starttls: true, tls: 'ok', authAfterTls: ['PLAIN', 'LOGIN'] });
    expect(r.certificate).toEqual({ verified: false, reason: expect.stringMatching(/chain not trusted/) });
    expect(s.sessions[0]!.slice(0, 4)).toEqual(['EHLO mailsweep.invalid', 'STARTTLS', '<TLS>', 'EHLO mailsweep.invalid']);
  });

  it('a certificate from a trusted CA verifies; for another name it does not', async () => {
    const s = await fake({ extTls: ['AUTH PLAIN'], cert });
    expect((await probeSmtp(local, s.port, { timeoutMs: 5_000, ca: cert.cert, certName: 'localhost' })).certificate).toEqual({
      verified: true,
    });
    expect((await probeSmtp(local, s.port, { timeoutMs: 5_000, ca: cert.cert, certName: 'mx1.example.net' })).certificate).toEqual({
      verified: false,
      reason: 'certificate is not for mx1.example.net',
    });
  });

  it('implicit TLS (465): TLS from the first byte, then EHLO', async () => {
    const s = await fake({ implicitTls: true, cert, ext: ['AUTH PLAIN'] });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000, implicitTls: true });
    expect(r).toMatchObject({ implicitTls: true, banner: '220 mx.test ESMTP', authBeforeTls: null, tls: 'ok', authAfterTls: ['PLAIN'] });
    expect(s.sessions[0]!.slice(0, 2)).toEqual(['<TLS>', 'EHLO mailsweep.invalid']);
  });

  it('EHLO refused: the HELO answer offers nothing (not "AUTH assumed")', async () => {
    const s = await fake({ refuseEhlo: true, ext: ['AUTH PLAIN'] });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000 });
    expect(r).toMatchObject({ banner: '220 mx.test ESMTP', authBeforeTls: [], tls: 'none' });
    expect(s.sessions[0]!.slice(0, 2)).toEqual(['EHLO mailsweep.invalid', 'HELO mailsweep.invalid']);
  });

  it('a closed port: not open, no banner, the reason', async () => {
    const r = await probeSmtp(local, 1, { timeoutMs: 5_000 });
    expect(r).toMatchObject({
      open: false,
      banner: null,
      tls: 'none',
      authBeforeTls: null,
      error: expect.stringMatching(/cannot open 127\.0\.0\.1:1/),
    });
  });
});

describe('probeSmtp: hostile and broken servers each give an answer, never a throw', () => {
  it('control, escape and bidi characters in the banner and the AUTH line reach the result only made visible', async () => {
    const s = await fake({
      banner: '220 mx.test \u001b]0;owned\u0007 \u001b[2J\u202eevil',
      ext: ['AUTH PLAIN \u001b[31mLOGIN\u202e \u0085X'],
    });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000 });
    expect(JSON.stringify(r)).not.toMatch(UNSAFE);
    expect(r.banner).toBe('220 mx.test ^[]0;owned^G ^[[2J<U+202E>evil');
    expect(r.authBeforeTls).toEqual(['PLAIN', '^[[31MLOGIN<U+202E>', '<U+0085>X']);
  });

  it('a server that never answers: the probe ends at its deadline', async () => {
    const s = await fake({ mode: 'silent' });
    const started = Date.now();
    const r = await probeSmtp(local, s.port, { timeoutMs: 1_500 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r).toMatchObject({ open: true, banner: null, tls: 'none', error: 'no answer within 1.5 s' });
  });

  it('the per-reply timeout ends a silent server before the whole deadline', async () => {
    const s = await fake({ mode: 'silent' });
    const started = Date.now();
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000, replyMs: 500 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(r).toMatchObject({ open: true, banner: null, error: 'no greeting within 0.5 s' });
  });

  it('a server that drops the connection after STARTTLS: what it said before TLS stands, TLS failed', async () => {
    const s = await fake({ ext: ['AUTH PLAIN'], cert, mode: 'drop-after-starttls' });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000 });
    expect(r).toMatchObject({ authBeforeTls: ['PLAIN'], starttls: true, tls: 'failed', authAfterTls: null, error: expect.any(String) });
  });

  it('TLS garbage after STARTTLS, and on an implicit-TLS port', async () => {
    const a = await fake({ cert, mode: 'tls-garbage' });
    const ra = await probeSmtp(local, a.port, { timeoutMs: 5_000 });
    expect(ra).toMatchObject({ authBeforeTls: [], tls: 'failed', error: expect.stringMatching(/^TLS: /) });
    expect(JSON.stringify(ra)).not.toMatch(UNSAFE);
    const b = await fake({ cert, implicitTls: true, mode: 'tls-garbage' });
    const rb = await probeSmtp(local, b.port, { timeoutMs: 5_000, implicitTls: true });
    expect(rb).toMatchObject({ open: true, banner: null, tls: 'failed', error: expect.stringMatching(/^TLS: /) });
  });

  it('a plaintext SMTP server on the implicit-TLS port: TLS failed', async () => {
    const s = await fake({ ext: ['AUTH PLAIN'] });
    const r = await probeSmtp(local, s.port, { timeoutMs: 5_000, implicitTls: true });
    expect(r).toMatchObject({ open: true, banner: null, tls: 'failed', authAfterTls: null });
  });

  it('an endless EHLO answer is cut at 256 KiB', async () => {
    const s = await fake({ mode: 'flood' });
    const r = await probeSmtp(local, s.port, { timeoutMs: 10_000 });
    expect(r).toMatchObject({ banner: '220 mx.test ESMTP', authBeforeTls: null, error: 'the server sent more than 262144 bytes' });
  });

  it('a transport without TCP channels', async () => {
    const bare: Transport = { describe: 'bare', exec: local.exec.bind(local), close: async () => {} };
    expect(await probeSmtp(bare, 25, { timeoutMs: 1_000 })).toMatchObject({ open: false, error: 'transport cannot open TCP connections' });
  });
});

describe('probeSmtp through SSH: the channel is a Duplex, not a socket', () => {
  let fleet: FakeFleet;
  let ssh: Transport;
  const dir = mkdtempSync(join(tmpdir(), 'ms-smtp-probe-'));
  beforeAll(async () => {
    fleet = await startFakeFleet(dir, [{ name: 'mx', mode: 'normal', tools: [] }]);
    const [host] = (await loadInventory(fleet.inventoryPath)).hosts;
    ssh = transportFor(host!, { knownHosts: new KnownHostsFile(fleet.knownHostsPath), hostKeyPolicy: 'strict', connectTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await ssh?.close();
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('STARTTLS over a forwarded channel', async () => {
    const s = await fake({ ext: ['AUTH PLAIN'], extTls: ['AUTH PLAIN LOGIN'], cert });
    expect(await probeSmtp(ssh, s.port, { timeoutMs: 5_000 })).toMatchObject({
      authBeforeTls: ['PLAIN'],
      tls: 'ok',
      authAfterTls: ['PLAIN', 'LOGIN'],
      certificate: { verified: false },
    });
  });

  it('implicit TLS over a forwarded channel, and a drop after STARTTLS', async () => {
    const tls = await fake({ implicitTls: true, cert, ext: ['AUTH LOGIN'] });
    expect(await probeSmtp(ssh, tls.port, { timeoutMs: 5_000, implicitTls: true })).toMatchObject({ tls: 'ok', authAfterTls: ['LOGIN'] });
    const drop = await fake({ cert, mode: 'drop-after-starttls' });
    expect(await probeSmtp(ssh, drop.port, { timeoutMs: 5_000 })).toMatchObject({ starttls: true, tls: 'failed' });
  });

  it('a silent server over SSH: ends at the deadline, and the SSH connection still works', async () => {
    const s = await fake({ mode: 'silent' });
    expect(await probeSmtp(ssh, s.port, { timeoutMs: 1_000 })).toMatchObject({ open: true, banner: null, error: 'no answer within 1 s' });
    expect((await ssh.exec(sh`echo still here`, { timeoutMs: 5_000 })).stdout).toBe('still here\n');
  });
});
