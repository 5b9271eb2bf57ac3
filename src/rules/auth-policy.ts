// auth-policy (seed 001's first idea, issue #13): where may a client authenticate? Port 25 should not
// offer AUTH (relaying belongs on submission), submission (587 with STARTTLS, 465 with TLS from the
// first byte) should offer it, and no port should offer it before TLS (passwords in clear).
// The probes (smtp-probe.ts) run from the host itself, through SSH; this file only judges them.
import type { Finding } from './types.js';
import type { PortProbe } from './smtp-probe.js';

export type { PortProbe } from './smtp-probe.js';

const RULE = 'auth-policy';

/** Every mechanism the port offered, before or inside TLS; null when no EHLO answered at all. */
function offered(p: PortProbe): string[] | null {
  if (p.authBeforeTls === null && p.authAfterTls === null) return null;
  return [...new Set([...(p.authBeforeTls ?? []), ...(p.authAfterTls ?? [])])];
}

/** PLAIN and LOGIN send the password itself (base64); challenge-response ones send a hash of it. */
function inClear(mechs: string[]): boolean {
  return mechs.some((m) => m === 'PLAIN' || m === 'LOGIN');
}

function where(p: PortProbe): string {
  if (p.authBeforeTls?.length) return p.starttls ? 'before and after STARTTLS' : 'without TLS';
  return p.implicitTls ? 'over TLS' : 'after STARTTLS';
}

/** Something answered: a greeting, or a TLS server that failed the handshake on 465. */
function answered(p: PortProbe): boolean {
  return p.banner !== null || (p.open && p.tls === 'failed');
}

/** Why a port's answer is incomplete (TLS failed, EHLO refused…), or null when it is complete. */
function unfinished(p: PortProbe): string | null {
  if (p.tls === 'failed')
    return p.implicitTls ? `TLS handshake failed${p.error ? ` (${p.error})` : ''}` : `STARTTLS failed${p.error ? ` (${p.error})` : ''}`;
  if (offered(p) === null) return `no EHLO answer${p.error ? ` (${p.error})` : ''}`;
  return null;
}

function submission(p: PortProbe, out: Finding[]): void {
  const auth = offered(p);
  const partial = unfinished(p);
  if (auth?.length) return;
  if (partial) {
    // Not proven either way: AUTH may be offered inside the TLS session the probe could not open.
    out.push({
      rule: RULE,
      severity: 'info',
      message: `port ${p.port}: ${partial}: whether it offers AUTH is unknown`,
      evidence: { port: p.port, tls: p.tls },
    });
    return;
  }
  out.push({
    rule: RULE,
    severity: 'warning',
    message: `port ${p.port} does not offer AUTH${p.tls === 'ok' && !p.implicitTls ? ' even after STARTTLS' : ''}: submission without authentication`,
    evidence: { port: p.port, tls: p.tls },
  });
}

export function authPolicyFindings(p25: PortProbe, p587: PortProbe, p465: PortProbe): Finding[] {
  const out: Finding[] = [];
  for (const p of [p25, p587, p465])
    if (p.authBeforeTls?.length)
      out.push({
        rule: RULE,
        severity: 'warning',
        message: `port ${p.port} offers AUTH (${p.authBeforeTls.join(' ')}) before TLS: plaintext AUTH without TLS, ${inClear(p.authBeforeTls) ? 'passwords cross the network in clear' : 'the exchange crosses the network unencrypted'}${p.starttls ? ' (STARTTLS is offered, not required)' : ''}`,
        evidence: { port: p.port, auth: p.authBeforeTls, tls: false },
      });
  const mx = offered(p25);
  if (mx?.length)
    out.push({
      rule: RULE,
      severity: 'warning',
      message: `port 25 offers AUTH (${mx.join(' ')}) ${where(p25)}: a stolen password relays on the MX port; require submission on 587`,
      evidence: { port: 25, auth: mx, authBeforeTls: p25.authBeforeTls, authAfterTls: p25.authAfterTls },
    });
  if (!answered(p587) && !answered(p465))
    out.push({
      rule: RULE,
      severity: 'info',
      message: `nothing answers on port 587${p587.error ? ` (${p587.error})` : ''} nor on port 465${p465.error ? ` (${p465.error})` : ''}: no submission port`,
      evidence: { port: 587 },
    });
  for (const p of [p587, p465]) if (answered(p)) submission(p, out);
  const unverified = [p25, p587, p465].filter((p) => p.tls === 'ok' && p.certificate && !p.certificate.verified);
  if (unverified.length)
    out.push({
      rule: RULE,
      severity: 'info',
      message: `TLS certificate not verified on ${unverified.map((p) => `port ${p.port} (${p.certificate!.reason ?? 'not verified'})`).join(', ')}: clients that check certificates refuse it`,
      evidence: { certificates: Object.fromEntries(unverified.map((p) => [String(p.port), p.certificate!.reason ?? 'not verified'])) },
    });
  return out;
}
