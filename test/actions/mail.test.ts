import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { sendNotice } from '../../src/actions/mail.js';
import { SmtpSink } from '../fakes/smtp-sink.js';

const SMTP_PASS = 'smtp-Pa55word:xyz';
let sink: SmtpSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

const message = {
  from: 'abuse@hoster.example',
  to: 'owner@example.com',
  subject: 'Your mailbox info@example.com was misused',
  text: 'We reset the password of info@example.com after it sent 4213 spam messages.\n.\nA line with a dot.',
};

async function caught(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  const e = err as ApiError;
  expect(`${e.message} ${JSON.stringify(e)}`).not.toContain(SMTP_PASS);
  return e;
}

describe('sendNotice against a local SMTP sink', () => {
  it('delivers a plain-text notice without authentication', async () => {
    sink = await SmtpSink.start();
    const r = await sendNotice({ smtp: { host: '127.0.0.1', port: sink.port }, ...message });
    expect(r.accepted).toEqual(['owner@example.com']);
    expect(r.rejected).toEqual([]);
    expect(sink.messages).toHaveLength(1);
    const m = sink.messages[0];
    expect(m?.from).toBe('abuse@hoster.example');
    expect(m?.to).toEqual(['owner@example.com']);
    expect(m?.data).toContain('Subject: Your mailbox info@example.com was misused');
    expect(m?.data).toContain('A line with a dot.');
  });

  it('authenticates with the password from passEnv', async () => {
    sink = await SmtpSink.start({ auth: { user: 'notices', pass: SMTP_PASS } });
    await sendNotice({
      smtp: { host: '127.0.0.1', port: sink.port, user: 'notices', passEnv: 'NOTICE_SMTP_PASS' },
      env: { NOTICE_SMTP_PASS: `${SMTP_PASS}\n` },
      ...message,
    });
    expect(sink.authAttempts).toEqual([{ user: 'notices', ok: true }]);
    expect(sink.messages[0]?.authUser).toBe('notices');
  });

  it('wrong password → auth error without the password', async () => {
    sink = await SmtpSink.start({ auth: { user: 'notices', pass: 'other' } });
    const err = await caught(
      sendNotice({
        smtp: { host: '127.0.0.1', port: sink.port, user: 'notices', passEnv: 'P' },
        env: { P: SMTP_PASS },
        ...message,
      }),
    );
    expect(err).toMatchObject({ kind: 'auth', service: 'smtp', code: 'EAUTH', status: 535 });
  });

  it('missing password variable → clear configuration error', async () => {
    sink = await SmtpSink.start();
    await expect(
      sendNotice({ smtp: { host: '127.0.0.1', port: sink.port, user: 'u', passEnv: 'UNSET_VAR' }, env: {}, ...message }),
    ).rejects.toThrow(/UNSET_VAR is not set/);
  });

  it('rejected recipient → api error with the SMTP code', async () => {
    sink = await SmtpSink.start({ rejectRcpt: ['owner@example.com'] });
    const err = await caught(sendNotice({ smtp: { host: '127.0.0.1', port: sink.port }, ...message }));
    expect(err).toMatchObject({ kind: 'api', code: 'EENVELOPE', status: 550 });
  });

  it('silent server → network timeout', async () => {
    sink = await SmtpSink.start({ silent: true });
    const err = await caught(sendNotice({ smtp: { host: '127.0.0.1', port: sink.port, timeoutMs: 300 }, ...message }));
    expect(err).toMatchObject({ kind: 'network', timedOut: true });
  });

  it('connection refused → network error', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await caught(sendNotice({ smtp: { host: '127.0.0.1', port }, ...message }));
    expect(err.kind).toBe('network');
  });
});
