// End-to-end: the auth-policy findings of a scan of the real-server lab match what the lab's MTAs
// really offer on 25, 587 and 465, as an independent client (Python's smtplib, run in the host's own
// network namespace: the view the SSH-forwarded probe has) sees it, with and without STARTTLS.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/rules/types.js';
import type { ScanReport } from '../../src/scan/types.js';
import { CLI, LAB, labHosts, type LabHost } from './lab-host.js';

interface Direct {
  port: number;
  open: boolean;
  /** Mechanisms in the plaintext EHLO (465: null). */
  plain: string[] | null;
  starttls: boolean;
  /** Mechanisms in the EHLO inside TLS; null without a TLS session. */
  tls: string[] | null;
  /** The certificate chain verified against the system CAs (null without TLS). */
  verified: boolean | null;
}

const PROBE = String.raw`
import json, smtplib, ssl
def mechs(s):
    a = s.esmtp_features.get('auth')
    return sorted(set(a.upper().split())) if a is not None else []
out = []
for port in (25, 587, 465):
    r = {'port': port, 'open': False, 'plain': None, 'starttls': False, 'tls': None, 'verified': None}
    loose = ssl.create_default_context(); loose.check_hostname = False; loose.verify_mode = ssl.CERT_NONE
    try:
        if port == 465:
            s = smtplib.SMTP_SSL('127.0.0.1', port, timeout=10, context=loose)
        else:
            s = smtplib.SMTP('127.0.0.1', port, timeout=10)
        r['open'] = True
        s.ehlo('e2e.invalid')
        if port == 465:
            r['tls'] = mechs(s)
        else:
            r['plain'] = mechs(s)
            r['starttls'] = s.has_extn('starttls')
            if r['starttls']:
                s.starttls(context=loose); s.ehlo('e2e.invalid'); r['tls'] = mechs(s)
        s.quit()
    except ConnectionRefusedError:
        pass
    if r['tls'] is not None:
        strict = ssl.create_default_context(); strict.check_hostname = False
        try:
            if port == 465:
                smtplib.SMTP_SSL('127.0.0.1', port, timeout=10, context=strict).quit()
            else:
                s = smtplib.SMTP('127.0.0.1', port, timeout=10); s.ehlo('e2e.invalid'); s.starttls(context=strict); s.quit()
            r['verified'] = True
        except ssl.SSLError:
            r['verified'] = False
    out.append(r)
print(json.dumps(out))
`;

/** Ask the server directly, from inside the lab host's network namespace. */
function direct(h: LabHost): Direct[] {
  const r = spawnSync('ip', ['netns', 'exec', h.namespace, 'python3', '-c', PROBE], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`direct probe of ${h.name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Direct[];
}

/** What auth-policy must say for what the server offers (README: the rule's findings). */
function expected(d: Direct[]): string[] {
  const [p25, p587, p465] = d as [Direct, Direct, Direct];
  const out: string[] = [];
  for (const p of d) if (p.plain?.length) out.push(`warning plaintext ${p.port} ${p.plain.join(' ')}`);
  const mx = [...new Set([...(p25.plain ?? []), ...(p25.tls ?? [])])].sort();
  if (mx.length) out.push(`warning mx-auth 25 ${mx.join(' ')}`);
  if (!p587.open && !p465.open) out.push('info no-submission');
  for (const p of [p587, p465]) if (p.open && !p.plain?.length && !p.tls?.length) out.push(`warning no-auth ${p.port}`);
  const unverified = d.filter((p) => p.verified === false).map((p) => p.port);
  if (unverified.length) out.push(`info certificate ${unverified.join(' ')}`);
  return out.sort();
}

/** The scan's findings in the same terms, read from their evidence (never from the wording alone). */
function said(findings: Finding[]): string[] {
  return findings
    .filter((f) => f.rule === 'auth-policy')
    .map((f) => {
      const e = (f.evidence ?? {}) as { port?: number; auth?: string[]; tls?: unknown; certificates?: Record<string, string> };
      if (e.certificates) return `${f.severity} certificate ${Object.keys(e.certificates).join(' ')}`;
      if (e.tls === false) return `${f.severity} plaintext ${e.port} ${[...e.auth!].sort().join(' ')}`;
      if (e.port === 25 && e.auth) return `${f.severity} mx-auth 25 ${[...e.auth].sort().join(' ')}`;
      if (/^nothing answers on port 587 .* nor on port 465/.test(f.message)) return `${f.severity} no-submission`;
      if (/does not offer AUTH/.test(f.message)) return `${f.severity} no-auth ${e.port}`;
      return `${f.severity} other: ${f.message}`;
    })
    .sort();
}

let hosts: LabHost[] = [];
let report: ScanReport;
let stderr = '';

beforeAll(() => {
  hosts = labHosts();
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'scan',
      '-i',
      join(LAB, 'inventory.yaml'),
      '--known-hosts',
      join(LAB, 'known_hosts'),
      '--no-progress',
      '--no-history',
      '--format',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
  );
  stderr = r.stderr;
  report = JSON.parse(r.stdout) as ScanReport;
});

describe('auth-policy on the lab matches what the servers offer', () => {
  it('every lab host: the same findings as a direct probe implies', () => {
    for (const h of hosts) {
      const r = report.hosts.find((x) => x.name === h.name);
      expect(r?.status, `${h.name}: ${r?.reason} ${stderr}`).toBe('ok');
      const d = direct(h);
      expect(said(r!.findings), `${h.name}: direct probe ${JSON.stringify(d)}`).toEqual(expected(d));
    }
  });

  it('the lab covers AUTH before TLS, AUTH after STARTTLS and a missing submission port', () => {
    // What the lab's configurations give today (test/lab/mta/*.sh): if they change, this says so.
    const all = hosts.map((h) => ({ h, d: direct(h) }));
    const exim = all.find((x) => x.h.mta === 'exim')!.d;
    expect(exim[0]).toMatchObject({ open: true, starttls: true, plain: ['LOGIN', 'PLAIN'], tls: ['LOGIN', 'PLAIN'], verified: false });
    const postfix = all.find((x) => x.h.mta === 'postfix')!.d;
    expect(postfix.map((p) => p.open)).toEqual([true, false, false]);
    const sendmail = all.find((x) => x.h.mta === 'sendmail')!.d;
    expect(sendmail[1]).toMatchObject({ open: true, plain: ['LOGIN', 'PLAIN'] });
  });
});
