// The auth-policy probes of one host: SMTP on 25, 587 and 465 from the host itself, side by side over
// its SSH connection (one channel each), each within the budget the host scan gives it.
import { probeSmtp, type PortProbe } from '../rules/smtp-probe.js';
import { printable } from '../text/printable.js';
import type { Transport } from '../transport/types.js';

/** Per SMTP reply (or TLS handshake) of the auth-policy probe. */
export const SMTP_REPLY_MS = 10_000;

/** The ports probed, in the order authPolicyFindings takes them: MX, submission, submissions. */
export const AUTH_POLICY_PORTS = [25, 587, 465] as const;

/** A port that gave no answer, and why. */
export function silent(port: number, error: string): PortProbe {
  return {
    port,
    implicitTls: port === 465,
    open: false,
    banner: null,
    authBeforeTls: null,
    starttls: false,
    tls: 'none',
    authAfterTls: null,
    error,
  };
}

/** The probe's result, or a "no answer" one once `ms` has passed (a wedged channel cannot hold the host). */
function within(p: Promise<PortProbe>, ms: number, port: number): Promise<PortProbe> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<PortProbe>((resolve) => {
    timer = setTimeout(() => resolve(silent(port, `no answer within ${Math.round(ms / 100) / 10} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * All three ports within `ms`; never throws (a socket error is an answer too). `certName`: the name
 * the certificates are checked against (the host's inventory name).
 */
export async function probeAuthPolicy(transport: Transport, ms: number, certName: string): Promise<[PortProbe, PortProbe, PortProbe]> {
  const one = (port: number) =>
    within(
      probeSmtp(transport, port, { timeoutMs: ms, replyMs: Math.min(SMTP_REPLY_MS, ms), certName }).catch((e: unknown) =>
        silent(port, printable(e instanceof Error ? e.message : String(e), { max: 300 })),
      ),
      // The probe keeps its own deadline; this one only guards against a probe that would not.
      ms + 500,
      port,
    );
  const [p25, p587, p465] = AUTH_POLICY_PORTS;
  return Promise.all([one(p25), one(p587), one(p465)]);
}
