// Which MTA does a host run? One probe round trip: installed binaries, config files, running daemons.
import type { HostSpec } from '../inventory/types.js';
import { oneLine } from '../text/printable.js';
import type { Transport } from '../transport/types.js';
import type { MtaName } from './types.js';
import { pathLine } from './util.js';
import { sh, shLines, type Sh } from '../transport/quote.js';

export interface Detection {
  mta: MtaName | null;
  /** Main binary for the adapter (e.g. /usr/sbin/exim4). */
  binary?: string;
  /** Why: which facts decided it (shown in the report when detection fails). */
  evidence: string[];
}

const CANDIDATES = ['exim', 'exim4', 'postqueue', 'postsuper', 'mailq', 'sendmail', 'qmail-qstat', 'qmail-qread'];
const FILES = [
  '/var/qmail/bin/qmail-qstat',
  '/var/qmail/bin/qmail-qread',
  '/etc/mail/sendmail.cf',
  '/usr/lib/sm.bin/sendmail',
  '/etc/postfix/main.cf',
  '/etc/exim4',
  '/etc/exim.conf',
];

/** A fixed script: nothing host-specific is interpolated into it. */
export const DETECT_COMMAND: Sh = shLines(
  pathLine('/var/qmail/bin'),
  sh`for b in ${CANDIDATES}; do p=$(command -v "$b" 2>/dev/null) && echo "bin $b $p"; done`,
  sh`for f in ${FILES}; do [ -e "$f" ] && echo "file $f"; done`,
  sh`ps -e -o comm= 2>/dev/null | sort -u | sed 's/^/proc /'`,
  sh`true`,
);

export function parseDetect(stdout: string): Detection {
  const bins = new Map<string, string>();
  const files = new Set<string>();
  const procs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [kind, a, b] = line.trim().split(/\s+/);
    if (kind === 'bin' && a && b?.startsWith('/')) bins.set(a, b);
    else if (kind === 'file' && a) files.add(a);
    else if (kind === 'proc' && a) procs.add(a);
  }
  const evidence: string[] = [];
  const eximBin = bins.get('exim') ?? bins.get('exim4');
  const qmailBin = files.has('/var/qmail/bin/qmail-qstat') ? '/var/qmail/bin/qmail-qstat' : bins.get('qmail-qstat');
  const postfix = bins.get('postqueue');
  const sendmailReal = files.has('/etc/mail/sendmail.cf') || files.has('/usr/lib/sm.bin/sendmail');

  // A running daemon decides first: hosts often carry a second MTA's compat binaries.
  if (procs.has('qmail-send') && qmailBin) return { mta: 'qmail', binary: qmailBin, evidence: ['process qmail-send'] };
  if ((procs.has('exim4') || procs.has('exim')) && eximBin) return { mta: 'exim', binary: eximBin, evidence: ['process exim'] };
  if (procs.has('master') && postfix && files.has('/etc/postfix/main.cf'))
    return { mta: 'postfix', binary: postfix, evidence: ['process master', 'postqueue'] };
  if (procs.has('sendmail') && sendmailReal)
    return { mta: 'sendmail', binary: bins.get('mailq') ?? bins.get('sendmail'), evidence: ['process sendmail', 'sendmail.cf'] };

  // Nothing running: fall back to what is installed (check_mailq's order).
  if (qmailBin) return { mta: 'qmail', binary: qmailBin, evidence: ['qmail-qstat installed (not running)'] };
  if (postfix && files.has('/etc/postfix/main.cf'))
    return { mta: 'postfix', binary: postfix, evidence: ['postfix installed (not running)'] };
  if (eximBin) return { mta: 'exim', binary: eximBin, evidence: ['exim installed (not running)'] };
  if (sendmailReal) return { mta: 'sendmail', binary: bins.get('mailq') ?? bins.get('sendmail'), evidence: ['sendmail.cf (not running)'] };

  if (bins.size) evidence.push(`found ${[...bins.keys()].join(', ')}`);
  else evidence.push('no MTA binary found');
  return { mta: null, evidence };
}

/** The inventory's `mta`, else one probe round trip (binaries, config files, running daemons). */
export async function detectMta(
  host: HostSpec,
  transport: Transport,
  timeoutMs: number,
): Promise<{ mta: MtaName; binary?: string } | { mta: null; reason: string }> {
  if (host.mta) return { mta: host.mta };
  const probe = await transport.exec(DETECT_COMMAND, { timeoutMs, maxBytes: 1024 * 1024 });
  const d = parseDetect(probe.stdout);
  if (d.mta) return { mta: d.mta, binary: d.binary };
  return { mta: null, reason: `no MTA detected (${d.evidence.join('; ')})${probe.code ? `; probe: ${oneLine(probe.stderr)}` : ''}` };
}
