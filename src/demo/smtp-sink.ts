// FAKE SMTP server (a sink) for tests and `mailsweep demo --incident`, on 127.0.0.1 with
// node:net. Speaks just enough RFC 5321 for nodemailer: EHLO/HELO, AUTH PLAIN/LOGIN, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT. No STARTTLS. Records messages; records whether AUTH
// succeeded, never the password.

import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SinkOptions {
  /** Accept AUTH with this user/password; without it AUTH is not advertised. */
  auth?: { user: string; pass: string };
  /** Recipients that get "550 5.1.1 no such user". */
  rejectRcpt?: string[];
  /** Never send the greeting (the client must time out). */
  silent?: boolean;
}

export interface SinkMessage {
  from: string;
  to: string[];
  data: string;
  authUser?: string;
}

export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  readonly authAttempts: { user: string; ok: boolean }[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly opts: SinkOptions,
  ) {}

  static async start(opts: SinkOptions = {}): Promise<SmtpSink> {
    let sink: SmtpSink | undefined;
    const server = net.createServer((s) => sink?.session(s));
    sink = new SmtpSink(server, opts);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private session(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    if (this.opts.silent) return;
    const say = (line: string): void => {
      sock.write(`${line}\r\n`);
    };
    let buffer = '';
    let inData = false;
    let data = '';
    let from = '';
    let to: string[] = [];
    let authUser: string | undefined;
    let authLogin: { stage: 'user' | 'pass'; user?: string } | undefined;

    const checkAuth = (user: string, pass: string): void => {
      const ok = this.opts.auth !== undefined && user === this.opts.auth.user && pass === this.opts.auth.pass;
      this.authAttempts.push({ user, ok });
      if (ok) {
        authUser = user;
        say('235 2.7.0 Authentication successful');
      } else say('535 5.7.8 Authentication credentials invalid');
    };

    const line = (l: string): void => {
      if (inData) {
        if (l === '.') {
          inData = false;
          this.messages.push({ from, to, data, ...(authUser ? { authUser } : {}) });
          from = '';
          to = [];
          data = '';
          say('250 2.0.0 Ok: queued as FAKE');
        } else data += `${l.startsWith('..') ? l.slice(1) : l}\r\n`;
        return;
      }
      if (authLogin) {
        const v = Buffer.from(l, 'base64').toString('utf8');
        if (authLogin.stage === 'user') {
          authLogin = { stage: 'pass', user: v };
          say('334 UGFzc3dvcmQ6');
        } else {
          const user = authLogin.user ?? '';
          authLogin = undefined;
          checkAuth(user, v);
        }
        return;
      }
      const [verb = '', ...rest] = l.split(' ');
      const arg = rest.join(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          say('250-fake-smtp.test');
          if (this.opts.auth) say('250-AUTH PLAIN LOGIN');
          say('250 8BITMIME');
          return;
        case 'HELO':
          return say('250 fake-smtp.test');
        case 'AUTH': {
          const [mech = '', initial] = arg.split(' ');
          if (!this.opts.auth) return say('503 5.5.1 AUTH not available');
          if (mech.toUpperCase() === 'PLAIN' && initial) {
            const [, user = '', pass = ''] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
            return checkAuth(user, pass);
          }
          if (mech.toUpperCase() === 'LOGIN') {
            authLogin = { stage: 'user' };
            return say('334 VXNlcm5hbWU6');
          }
          return say('504 5.5.4 Unrecognized authentication type');
        }
        case 'MAIL':
          if (this.opts.auth && !authUser) return say('530 5.7.0 Authentication required');
          from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          return say('250 2.1.0 Ok');
        case 'RCPT': {
          const rcpt = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          if ((this.opts.rejectRcpt ?? []).includes(rcpt)) return say('550 5.1.1 <' + rcpt + '>: no such user');
          to.push(rcpt);
          return say('250 2.1.5 Ok');
        }
        case 'DATA':
          if (to.length === 0) return say('554 5.5.1 No valid recipients');
          inData = true;
          return say('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          from = '';
          to = [];
          return say('250 2.0.0 Ok');
        case 'NOOP':
          return say('250 2.0.0 Ok');
        case 'QUIT':
          say('221 2.0.0 Bye');
          sock.end();
          return;
        default:
          return say('502 5.5.2 Command not recognized');
      }
    };

    sock.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const l = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        line(l);
      }
    });
    say('220 fake-smtp.test ESMTP (mailsweep test sink)');
  }
}
