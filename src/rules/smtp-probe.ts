// One SMTP port's AUTH offer, probed from the host itself over a TCP channel the transport opens (SSH
// direct-tcpip): nodemailer's SMTPConnection speaks SMTP — greeting, EHLO, STARTTLS when offered and
// EHLO again, or TLS from the first byte on 465. It never authenticates: no password is involved.
// The certificate is not required to verify (the probe judges policy); whether it did is recorded.
import type { Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Transport } from '../transport/types.js';
import { printable } from '../text/printable.js';
import { ProbeSocket } from './smtp-socket.js';
import { readDialogue, transcriptLogger, type TranscriptLine } from './smtp-transcript.js';

export interface PortProbe {
  port: number;
  /** TLS from the first byte (465), not STARTTLS. */
  implicitTls: boolean;
  /** The TCP channel to the port opened (something listens). */
  open: boolean;
  /** The greeting's first line (printable); null: no greeting (closed, silent, or TLS failed on 465). */
  banner: string | null;
  /** AUTH mechanisms EHLO offered before TLS (printable); null: no plaintext EHLO answer (always on 465). */
  authBeforeTls: string[] | null;
  /** The plaintext EHLO offered STARTTLS. */
  starttls: boolean;
  /** 'none': no TLS tried (not offered); 'ok': a TLS session; 'failed': STARTTLS refused or handshake failed. */
  tls: 'none' | 'ok' | 'failed';
  /** AUTH mechanisms EHLO offered inside TLS (printable); null: no EHLO answer inside TLS. */
  authAfterTls: string[] | null;
  /** With a TLS session: did the certificate verify against this machine's CAs for `certName`? */
  certificate?: { verified: boolean; reason?: string };
  /** Why the probe ended early (printable). */
  error?: string;
}

export interface ProbeOptions {
  /** TLS from the first byte (default: port 465). */
  implicitTls?: boolean;
  /** The whole dialogue, channel opening included. */
  timeoutMs: number;
  /** Per reply (greeting, each answer, the TLS handshake); default: only the whole dialogue's timeoutMs. */
  replyMs?: number;
  /** The name the certificate should be for (and SNI when it is not an IP): the host's inventory name. */
  certName?: string;
  /** Extra CAs trusted for the verification record (default: Node's CA store). */
  ca?: string | string[];
}

/** An honest greeting + EHLO + STARTTLS + EHLO is a few KiB; more is a flood, not an answer. */
const MAX_SERVER_BYTES = 256 * 1024;

/** An error, printable; nodemailer appends the server's reply to its message: only its first line, cut. */
function why(e: unknown): string {
  if (!(e instanceof Error)) return printable(String(e), { max: 300 });
  // OpenSSL's message is its whole error stack line; its reason ("wrong version number") says it.
  const ssl = e as { library?: unknown; reason?: unknown };
  if (typeof ssl.library === 'string' && typeof ssl.reason === 'string') return `TLS: ${printable(ssl.reason, { max: 200 })}`;
  const reply = (e as { response?: unknown }).response;
  if (typeof reply !== 'string' || !e.message.endsWith(`: ${reply}`)) return printable(e.message, { max: 300 });
  const base = e.message.slice(0, -reply.length - 2);
  return `${printable(base, { max: 200 })}: ${printable(reply.split('\n')[0] ?? '', { max: 80 })}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** nodemailer's "Timeout" / "Greeting never received", said with what was awaited. */
function silence(lines: TranscriptLine[], ms: number): string {
  const last = [...lines].reverse().find((l) => l.from === 'client');
  if (!lines.length) return `no greeting within ${seconds(ms)}`;
  return `no answer within ${seconds(ms)}${last ? ` after ${last.text.split(' ')[0]}` : ''}`;
}

/** A PortProbe from what was said before the end: whatever happened, the dialogue so far stands. */
function result(port: number, implicitTls: boolean, open: boolean, lines: TranscriptLine[], secured: boolean, error?: string): PortProbe {
  const d = readDialogue(lines, implicitTls);
  const tlsTried = (implicitTls && open) || d.starttlsSent;
  // Implicit TLS: a greeting came through the TLS session. STARTTLS: an EHLO answer came inside it.
  const tlsUp = implicitTls ? d.banner !== null : d.secure !== null || (secured && d.starttlsAccepted);
  const out: PortProbe = {
    port,
    implicitTls,
    open,
    banner: d.banner,
    authBeforeTls: d.plain?.ok ? d.plain.auth : null,
    starttls: d.plain?.starttls ?? false,
    tls: !tlsTried ? 'none' : tlsUp ? 'ok' : 'failed',
    authAfterTls: d.secure?.ok ? d.secure.auth : null,
  };
  if (!d.greeted && d.banner !== null) out.error = `no 220 greeting: ${d.banner}`;
  else if (d.plain && !d.plain.ok) out.error = `EHLO refused: ${d.plain.first}`;
  else if (d.starttlsSent && !d.starttlsAccepted) out.error = 'STARTTLS refused';
  if (error && !out.error) out.error = error;
  return out;
}

export async function probeSmtp(transport: Transport, port: number, o: ProbeOptions): Promise<PortProbe> {
  const implicitTls = o.implicitTls ?? port === 465;
  const lines: TranscriptLine[] = [];
  const started = Date.now();
  if (!transport.openTcp) return { ...result(port, implicitTls, false, lines, false), error: 'transport cannot open TCP connections' };
  let socket: ProbeSocket | undefined;
  let conn: SMTPConnection | undefined;
  let finished = false;
  let certificate: PortProbe['certificate'];
  return new Promise<PortProbe>((resolve) => {
    const finish = (error?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      const secured = conn?.secure === true;
      const r = result(port, implicitTls, socket !== undefined, lines, secured, error);
      if (r.tls === 'ok')
        r.certificate = certificate ?? { verified: false, reason: 'certificate chain not trusted (self-signed, unknown CA or expired)' };
      try {
        // Polite when the dialogue got through: QUIT, then the channel goes.
        if (conn && !error) conn.quit();
        else conn?.close();
      } catch {
        // The connection is being torn down anyway.
      }
      setTimeout(() => socket?.destroy(), error ? 0 : 200).unref();
      resolve(r);
    };
    const deadline = setTimeout(
      () => finish(lines.length ? `timed out after ${seconds(o.timeoutMs)}` : `no answer within ${seconds(o.timeoutMs)}`),
      o.timeoutMs,
    );
    transport.openTcp!(port).then(
      (channel) => {
        if (finished) return void channel.on('error', () => {}).destroy();
        socket = new ProbeSocket(channel, MAX_SERVER_BYTES);
        // nodemailer's own timers per reply; never racing the whole probe's deadline, which says it better.
        const remaining = o.timeoutMs - (Date.now() - started);
        const replyMs = o.replyMs !== undefined && o.replyMs < remaining ? Math.max(1, o.replyMs) : remaining + 1_000;
        const name = o.certName ?? '127.0.0.1';
        conn = new SMTPConnection({
          // The channel is already open: nodemailer upgrades it with tls.connect({ socket }) itself.
          connection: socket as unknown as Socket,
          secure: implicitTls,
          port,
          host: name,
          name: 'mailsweep.invalid',
          opportunisticTLS: true,
          connectionTimeout: replyMs,
          greetingTimeout: replyMs,
          socketTimeout: replyMs,
          transactionLog: true,
          logger: transcriptLogger(lines),
          tls: {
            rejectUnauthorized: false,
            ...(o.ca ? { ca: o.ca } : {}),
            // Node calls this only once the chain verified: the hostname is then all that is left.
            checkServerIdentity: (host: string, cert: PeerCertificate) => {
              const e = checkServerIdentity(host, cert);
              certificate = e ? { verified: false, reason: `certificate is not for ${printable(host, { max: 100 })}` } : { verified: true };
              return undefined;
            },
          },
        });
        conn.on('error', (e: Error) => finish((e as { code?: unknown }).code === 'ETIMEDOUT' ? silence(lines, replyMs) : why(e)));
        conn.on('end', () => finish(lines.length ? 'connection closed' : 'connection closed before a greeting'));
        conn.connect(() => finish());
      },
      (e: unknown) => finish(why(e)),
    );
  });
}
