// auth-policy (seed 001's first idea): port 25 should not offer AUTH (relaying belongs on 587),
// and 587 should offer it (and so require it). Probed from the host itself: EHLO through SSH.
import type { Duplex } from 'node:stream';
import type { Transport } from '../transport/types.js';
import type { Finding } from './types.js';

export interface EhloResult {
  port: number;
  /** null: nothing answered on the port (or the probe could not be made). */
  banner: string | null;
  auth: string[] | null;
  error?: string;
}

/** Read SMTP replies line by line; a reply ends on a "NNN " line (not "NNN-"). */
function replies(sock: Duplex, timeoutMs: number) {
  let buf = '';
  const waiting: ((lines: string[] | null) => void)[] = [];
  let lines: string[] = [];
  const flush = () => {
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (/^\d{3} /.test(line) || !/^\d{3}-/.test(line)) {
        const w = waiting.shift();
        const done = lines;
        lines = [];
        w?.(done);
      }
    }
  };
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    if (buf.length > 65536) buf = buf.slice(-65536);
    flush();
  });
  sock.on('close', () => waiting.splice(0).forEach((w) => w(null)));
  return () =>
    new Promise<string[] | null>((resolve) => {
      const t = setTimeout(() => resolve(null), timeoutMs);
      waiting.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
}

export async function ehlo(transport: Transport, port: number, timeoutMs = 10_000): Promise<EhloResult> {
  if (!transport.openTcp) return { port, banner: null, auth: null, error: 'transport cannot open TCP connections' };
  let sock: Duplex;
  try {
    sock = await transport.openTcp(port);
  } catch (e) {
    return { port, banner: null, auth: null, error: (e as Error).message };
  }
  try {
    const next = replies(sock, timeoutMs);
    const greeting = await next();
    if (!greeting?.[0]?.startsWith('220')) return { port, banner: greeting?.[0] ?? null, auth: null, error: 'no 220 greeting' };
    sock.write('EHLO mailsweep.invalid\r\n');
    const ext = await next();
    sock.write('QUIT\r\n');
    if (!ext?.[0]?.startsWith('250')) return { port, banner: greeting[0], auth: null, error: `EHLO refused: ${ext?.[0] ?? 'no answer'}` };
    const authLine = ext.map((l) => l.slice(4)).find((l) => /^AUTH[ =]/i.test(l));
    return { port, banner: greeting[0]!.slice(0, 200), auth: authLine ? authLine.slice(5).trim().split(/\s+/) : [] };
  } finally {
    sock.destroy();
  }
}

export function authPolicyFindings(p25: EhloResult, p587: EhloResult): Finding[] {
  const out: Finding[] = [];
  if (p25.auth && p25.auth.length)
    out.push({
      rule: 'auth-policy',
      severity: 'warning',
      message: `port 25 offers AUTH (${p25.auth.join(' ')}): a stolen password relays on the MX port; require submission on 587`,
      evidence: { port: 25, auth: p25.auth },
    });
  if (p587.banner === null)
    out.push({
      rule: 'auth-policy',
      severity: 'info',
      message: `nothing answers on port 587${p587.error ? ` (${p587.error})` : ''}`,
      evidence: { port: 587 },
    });
  else if (p587.auth && p587.auth.length === 0)
    out.push({
      rule: 'auth-policy',
      severity: 'warning',
      message: 'port 587 does not offer AUTH: submission without authentication',
      evidence: { port: 587 },
    });
  return out;
}
