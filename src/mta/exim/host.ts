// Where exim's pieces are on one host, derived from the resolved host context (../host.ts) and
// nowhere else: the listing, the spool dump, the purge and the restart all read them here.
import type { MtaHost } from '../host.js';

const B62 = '[0-9A-Za-z]';
/** A message id: 6-11-4 since 4.97 (16VDhn-000000001bo-D342), 6-6-2 before (1WDQrg-0001Wf-1W). */
export const EXIM_ID = new RegExp(`${B62}{6}-(?:${B62}{11}-${B62}{4}|${B62}{6}-${B62}{2})`);

/** The exim binary: the detected one (exim4 on Debian), else `exim` on PATH. */
export function eximBinary(h: MtaHost): string {
  return h.binary ?? 'exim';
}

/** Debian/Ubuntu: exim4; RHEL, cPanel, source builds: exim. */
export const EXIM_UNITS = ['exim4', 'exim'] as const;
export const EXIM_PID_FILES = [
  '/run/exim4/exim.pid',
  '/var/run/exim4/exim.pid',
  '/run/exim.pid',
  '/var/run/exim.pid',
  '/var/spool/exim/exim-daemon.pid',
  '/var/spool/exim4/exim-daemon.pid',
];

/** Basenames of exim's binaries (/proc/PID/exe): the only processes a purge may signal. */
export function eximExeNames(h: MtaHost): string[] {
  const own = eximBinary(h).replace(/^.*\//, '');
  return [...new Set(['exim', 'exim4', 'exim-*', 'exim4-*', ...(/^[A-Za-z0-9._-]+$/.test(own) ? [own] : [])])];
}
