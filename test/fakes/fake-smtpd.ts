// FAKE SMTP server for the auth-policy probe's tests, on 127.0.0.1: greeting, EHLO/HELO, STARTTLS
// (node:tls on the same socket), implicit TLS (465-style), QUIT, and the hostile ways a server can
// answer. Certificates come from test/fakes/self-signed.ts (openssl at test time).
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { SelfSignedCert } from './self-signed.js';

export interface FakeSmtpdOptions {
  /** EHLO extensions before TLS (STARTTLS is added when `cert` is set and `starttls` is not false). */
  ext?: string[];
  /** EHLO extensions inside TLS (default: `ext`). */
  extTls?: string[];
  cert?: SelfSignedCert;
  starttls?: boolean;
  /** TLS from the first byte (465). */
  implicitTls?: boolean;
  /** Greeting line, sent as is (default "220 mx.test ESMTP"). */
  banner?: string;
  /** Refuse EHLO (500); HELO is accepted. */
  refuseEhlo?: boolean;
  /**
   * silent: accept, never speak. drop-after-starttls: "220 go ahead", then close.
   * tls-garbage: "220 go ahead", then random bytes in answer to the TLS hello (on 465: at once).
   * flood: answer EHLO with an endless stream of extension lines.
   */
  mode?: 'silent' | 'drop-after-starttls' | 'tls-garbage' | 'flood';
}

export interface FakeSmtpd {
  port: number;
  /** Commands received, per connection, with "<TLS>" where a session went secure. */
  sessions: string[][];
  close(): Promise<void>;
}

export async function startFakeSmtpd(o: FakeSmtpdOptions): Promise<FakeSmtpd> {
  const sessions: string[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    const log: string[] = [];
    sessions.push(log);
    if (o.mode === 'silent') return;
    if (o.implicitTls && o.mode === 'tls-garbage') return void raw.once('data', () => raw.end(randomBytes(2048)));
    if (o.implicitTls) {
      const s = new TLSSocket(raw, { isServer: true, key: o.cert!.key, cert: o.cert!.cert });
      s.on('error', () => {});
      s.once('secure', () => (log.push('<TLS>'), speak(s, raw, true, log)));
      return;
    }
    speak(raw, raw, false, log);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

  function speak(s: Duplex, raw: Socket, secure: boolean, log: string[]): void {
    if (!secure || o.implicitTls) s.write(`${o.banner ?? '220 mx.test ESMTP'}\r\n`);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        log.push(line);
        if (command(line) === 'upgrade') return;
      }
    };
    const command = (line: string): 'upgrade' | void => {
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') {
        if (o.refuseEhlo) return void s.write('500 5.5.1 EHLO not understood\r\n');
        if (o.mode === 'flood') {
          const flood = () => !s.destroyed && s.write(`250-X-${'A'.repeat(1000)}\r\n`, () => setImmediate(flood));
          return void flood();
        }
        const ext = secure
          ? (o.extTls ?? o.ext ?? [])
          : [...(o.ext ?? []), ...(o.cert && o.starttls !== false && !secure ? ['STARTTLS'] : [])];
        return void s.write(['250-mx.test hello', ...ext.map((e) => `250-${e}`), '250 HELP'].join('\r\n') + '\r\n');
      }
      if (verb === 'HELO') return void s.write('250 mx.test\r\n');
      if (verb === 'QUIT') return void s.end('221 2.0.0 bye\r\n');
      if (verb === 'STARTTLS' && !secure && o.cert) {
        s.write('220 2.0.0 go ahead\r\n');
        s.removeListener('data', onData);
        if (o.mode === 'drop-after-starttls') return (raw.destroy(), 'upgrade');
        // Garbage as the answer to the client's TLS hello.
        if (o.mode === 'tls-garbage') return (raw.once('data', () => raw.end(randomBytes(2048))), 'upgrade');
        const t = new TLSSocket(raw, { isServer: true, key: o.cert.key, cert: o.cert.cert });
        t.on('error', () => {});
        t.once('secure', () => (log.push('<TLS>'), speak(t, raw, true, log)));
        return 'upgrade';
      }
      s.write('502 5.5.2 not implemented\r\n');
    };
    s.on('data', onData);
  }

  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
